package probes

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/pods"
)

// Event reasons, as upstream's kubelet.
const (
	ReasonUnhealthy    = "Unhealthy"
	ReasonProbeWarning = "ProbeWarning"
)

// userAgent is what httpGet and grpc probes send, as upstream's kubelet of
// the Kubernetes release Strata implements: kube-probe/<major>.<minor>.
const userAgent = "kube-probe/1.37"

// maxProbeRetries is how many times a probe that could not run is tried
// again before giving up on this period.
const maxProbeRetries = 3

// maxOutputLength caps what a probe's output (exec output, response body)
// keeps: 10KiB.
const maxOutputLength = 10 << 10

// outcome is what a probe handler found, as upstream's probe.Result.
type outcome string

const (
	outcomeSuccess outcome = "success"
	// outcomeWarning is a success worth an event (a redirect not
	// followed).
	outcomeWarning outcome = "warning"
	outcomeFailure outcome = "failure"
	outcomeUnknown outcome = "unknown"
)

// probeOutput is a probe handler's answer: its outcome, its output (the
// failure message of events) and an error when it could not run at all.
type probeOutput struct {
	outcome outcome
	output  string
	err     error
}

// prober runs probe handlers.
type prober struct {
	runtime  cri.RuntimeService
	http     *http.Client
	recorder events.EventRecorder
}

// probe runs a probe's handler, trying again up to maxProbeRetries times
// while it cannot run.
func (p *prober) probe(ctx context.Context, probe pods.ProbeType, spec *corev1.Probe, pod *corev1.Pod, c *corev1.Container, containerID, podIP string) probeOutput {
	var out probeOutput
	for range maxProbeRetries {
		out = p.runOnce(ctx, spec, pod, c, containerID, podIP)
		if out.err == nil || ctx.Err() != nil {
			break
		}
	}
	return out
}

func (p *prober) runOnce(ctx context.Context, spec *corev1.Probe, pod *corev1.Pod, c *corev1.Container, containerID, podIP string) probeOutput {
	timeout := time.Duration(spec.TimeoutSeconds) * time.Second
	switch {
	case spec.Exec != nil:
		return p.exec(ctx, c, containerID, spec.Exec, timeout)
	case spec.HTTPGet != nil:
		return p.httpGet(ctx, c, podIP, spec.HTTPGet, timeout)
	case spec.TCPSocket != nil:
		return p.tcpSocket(ctx, c, podIP, spec.TCPSocket, timeout)
	case spec.GRPC != nil:
		return p.grpc(ctx, podIP, spec.GRPC, timeout)
	}
	return probeOutput{outcome: outcomeUnknown, err: fmt.Errorf("missing probe handler for %s:%s", podFullName(pod), c.Name)}
}

// interpret turns a handler's output into a result and records the
// events upstream records: Unhealthy for a failure or an error,
// ProbeWarning for a warning. It returns false when the probe could not
// run: its result is thrown away.
func (p *prober) interpret(ctx context.Context, probe pods.ProbeType, pod *corev1.Pod, c *corev1.Container, out probeOutput) (pods.ProbeResult, bool) {
	log := klog.FromContext(ctx)
	if out.err != nil {
		log.V(1).Info("Probe errored", "probeResult", out.outcome, "err", out.err)
		p.event(pod, c, ReasonUnhealthy, fmt.Sprintf("%s probe errored and resulted in %s state: %s", probe, out.outcome, out.err))
		return 0, false
	}
	switch out.outcome {
	case outcomeSuccess:
		log.V(3).Info("Probe succeeded")
		return pods.ProbeSuccess, true
	case outcomeWarning:
		log.V(3).Info("Probe succeeded with a warning", "output", out.output)
		p.event(pod, c, ReasonProbeWarning, fmt.Sprintf("%s probe warning: %s", probe, out.output))
		return pods.ProbeSuccess, true
	case outcomeFailure:
		log.V(1).Info("Probe failed", "output", out.output)
		p.event(pod, c, ReasonUnhealthy, fmt.Sprintf("%s probe failed: %s", probe, out.output))
		return pods.ProbeFailure, true
	default:
		log.V(1).Info("Probe unknown without error", "probeResult", out.outcome)
		return pods.ProbeFailure, true
	}
}

// event records a Warning event about a container.
func (p *prober) event(pod *corev1.Pod, c *corev1.Container, reason, message string) {
	if p.recorder == nil {
		return
	}
	p.recorder.Eventf(containerReference(pod, c.Name), nil, corev1.EventTypeWarning, reason, "Probe", "%s", message)
}

// containerReference points at a container of a pod, as upstream's
// container references do.
func containerReference(pod *corev1.Pod, name string) *corev1.ObjectReference {
	fieldPath := fmt.Sprintf("spec.containers{%s}", name)
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			fieldPath = fmt.Sprintf("spec.initContainers{%s}", name)
		}
	}
	return &corev1.ObjectReference{
		Kind:            "Pod",
		APIVersion:      "v1",
		Namespace:       pod.Namespace,
		Name:            pod.Name,
		UID:             pod.UID,
		ResourceVersion: pod.ResourceVersion,
		FieldPath:       fieldPath,
	}
}

// podFullName is how upstream names a pod in messages: name_namespace(uid).
func podFullName(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}
