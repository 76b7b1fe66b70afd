package pod

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// nodeLostReason is the pod status reason the node lifecycle controller
// sets on pods of an unreachable node.
const nodeLostReason = "NodeLost"

var columns = []metav1.TableColumnDefinition{
	store.NameColumn,
	{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
	{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
	{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
	store.AgeColumn,
	{Name: "IP", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["podIP"]},
	{Name: "Node", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["nodeName"]},
	{Name: "Nominated Node", Type: "string", Priority: 1, Description: corev1.PodStatus{}.SwaggerDoc()["nominatedNodeName"]},
	{Name: "Readiness Gates", Type: "string", Priority: 1, Description: corev1.PodSpec{}.SwaggerDoc()["readinessGates"]},
}

// row prints a pod like kubectl get pods -o wide.
func row(pod *corev1.Pod) []interface{} {
	s := summarize(pod)
	return []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", s.ready, s.total),
		s.reason,
		restartsCell(s.restarts, s.lastRestart, time.Now()),
		store.Age(pod.CreationTimestamp),
		orNone(firstPodIP(pod)),
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
		readinessGates(pod),
	}
}

// summary is what the pod table says about a pod's containers.
type summary struct {
	ready, total int
	// reason is the STATUS column: the phase, or what holds the pod up.
	reason string
	// restarts counts the restarts of the containers that matter for the
	// pod's current stage; lastRestart is when the last of them ended.
	restarts    int
	lastRestart metav1.Time
}

// summarize computes the READY, STATUS and RESTARTS columns the way
// upstream's pod printer does: init containers first (a failing or
// running one names the status, "Init:1/3"), then the app containers from
// last to first (a waiting or terminated one names the status), and
// "Terminating" for a pod being deleted. Sidecars (restartable init
// containers) count as app containers.
func summarize(pod *corev1.Pod) summary {
	s := summary{total: len(pod.Spec.Containers), reason: string(pod.Status.Phase)}
	if pod.Status.Reason != "" {
		s.reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			s.reason = corev1.PodReasonSchedulingGated
		}
	}
	sidecars := map[string]bool{}
	for i := range pod.Spec.InitContainers {
		if c := &pod.Spec.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			s.total++
		}
	}

	var sidecarRestarts int
	var sidecarLastRestart metav1.Time
	initializing := false
	for i, cs := range pod.Status.InitContainerStatuses {
		s.restarts += int(cs.RestartCount)
		s.lastRestart = lastRestart(s.lastRestart, cs)
		if sidecars[cs.Name] {
			sidecarRestarts += int(cs.RestartCount)
			sidecarLastRestart = lastRestart(sidecarLastRestart, cs)
		}
		stage, reason := initContainerStage(cs, sidecars[cs.Name], i, len(pod.Spec.InitContainers))
		if stage == initBlocking {
			s.reason, initializing = reason, true
			break
		}
		if stage == initSidecarStarted && cs.Ready {
			s.ready++
		}
	}

	if !initializing || hasCondition(pod, corev1.PodInitialized) {
		s.restarts, s.lastRestart = sidecarRestarts, sidecarLastRestart
		running := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := pod.Status.ContainerStatuses[i]
			s.restarts += int(cs.RestartCount)
			s.lastRestart = lastRestart(s.lastRestart, cs)
			switch w, t := cs.State.Waiting, cs.State.Terminated; {
			case w != nil && w.Reason != "":
				s.reason = w.Reason
			case t != nil && t.Reason != "":
				s.reason = t.Reason
			case t != nil && t.Signal != 0:
				s.reason = fmt.Sprintf("Signal:%d", t.Signal)
			case t != nil:
				s.reason = fmt.Sprintf("ExitCode:%d", t.ExitCode)
			case cs.Ready && cs.State.Running != nil:
				running = true
				s.ready++
			}
		}
		// A pod whose last container completed while others still run
		// is not completed.
		if s.reason == "Completed" && running {
			s.reason = "NotReady"
			if hasCondition(pod, corev1.PodReady) {
				s.reason = "Running"
			}
		}
	}

	switch {
	case pod.DeletionTimestamp != nil && pod.Status.Reason == nodeLostReason:
		s.reason = "Unknown"
	case pod.DeletionTimestamp != nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed:
		s.reason = "Terminating"
	}
	return s
}

// initStage is where an init container stands in the pod's start.
type initStage int

const (
	// initDone: the container completed successfully.
	initDone initStage = iota
	// initSidecarStarted: a sidecar that started and keeps running.
	initSidecarStarted
	// initBlocking: the container holds up the pod's start.
	initBlocking
)

// initContainerStage tells where the init container at index i (of n)
// stands and, when it blocks, the status to print.
func initContainerStage(cs corev1.ContainerStatus, sidecar bool, i, n int) (initStage, string) {
	switch w, t := cs.State.Waiting, cs.State.Terminated; {
	case t != nil && t.ExitCode == 0:
		return initDone, ""
	case sidecar && cs.Started != nil && *cs.Started:
		return initSidecarStarted, ""
	case t != nil && t.Reason != "":
		return initBlocking, "Init:" + t.Reason
	case t != nil && t.Signal != 0:
		return initBlocking, fmt.Sprintf("Init:Signal:%d", t.Signal)
	case t != nil:
		return initBlocking, fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
	case w != nil && w.Reason != "" && w.Reason != "PodInitializing":
		return initBlocking, "Init:" + w.Reason
	default:
		return initBlocking, fmt.Sprintf("Init:%d/%d", i, n)
	}
}

// lastRestart returns the later of t and the end of the previous run of
// the container.
func lastRestart(t metav1.Time, cs corev1.ContainerStatus) metav1.Time {
	if term := cs.LastTerminationState.Terminated; term != nil && t.Before(&term.FinishedAt) {
		return term.FinishedAt
	}
	return t
}

// restartsCell prints a restart count and, when known, how long ago the
// last restart was: "3 (5m ago)".
func restartsCell(restarts int, last metav1.Time, now time.Time) string {
	if restarts == 0 || last.IsZero() {
		return strconv.Itoa(restarts)
	}
	return fmt.Sprintf("%d (%s ago)", restarts, duration.HumanDuration(now.Sub(last.Time)))
}

func hasCondition(pod *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readinessGates prints how many of the pod's readiness gates are met:
// "1/2", or "<none>" without gates.
func readinessGates(pod *corev1.Pod) string {
	if len(pod.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	met := 0
	for _, g := range pod.Spec.ReadinessGates {
		if hasCondition(pod, g.ConditionType) {
			met++
		}
	}
	return fmt.Sprintf("%d/%d", met, len(pod.Spec.ReadinessGates))
}

func firstPodIP(pod *corev1.Pod) string {
	if len(pod.Status.PodIPs) > 0 {
		return pod.Status.PodIPs[0].IP
	}
	return pod.Status.PodIP
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
