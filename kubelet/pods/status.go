package pods

import (
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StatusInput is what a pod's status is computed from.
type StatusInput struct {
	// Pod is the pod, with the status the API server has.
	Pod *corev1.Pod
	// Previous is the status the kubelet computed last (Pod.Status when
	// nil). It carries restart counts and last states the runtime may
	// have forgotten, and the times of the conditions.
	Previous *corev1.PodStatus
	// Runtime is what the runtime runs for the pod.
	Runtime *RuntimePod
	// StartFailures says why containers failed to start on the last sync,
	// by container name.
	StartFailures map[string]*StartFailure
	// Probes has the probe results (nil: no probes ran).
	Probes ProbeResults
	// Terminal says that the pod's containers will not run again (the pod
	// was deleted, or finished): its phase becomes Succeeded or Failed.
	Terminal bool
	// HostIPs are the node's IPs, primary first.
	HostIPs []string
	// Now stamps new condition transitions and the start time.
	Now time.Time
}

// ComputeStatus computes a pod's status as upstream's
// generateAPIPodStatus and status manager do: pod IPs, QoS class,
// container statuses with their readiness, the phase, and the conditions
// PodReadyToStartContainers, Initialized, Ready, ContainersReady and
// PodScheduled, each with upstream's reasons and messages. The conditions
// the kubelet does not own are kept; a terminal phase never changes.
func ComputeStatus(in StatusInput) corev1.PodStatus {
	pod := in.Pod
	previous := pod.Status
	if in.Previous != nil {
		previous = *in.Previous
	}
	rt := in.Runtime

	var s corev1.PodStatus
	for _, ip := range sortPodIPs(rt.ips(), in.HostIPs) {
		s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip})
	}
	if len(s.PodIPs) > 0 {
		s.PodIP = s.PodIPs[0].IP
	} else if len(rt.ReadySandboxes()) == 0 {
		// The sandbox stopped: the pod keeps the IPs it had, as upstream.
		s.PodIP, s.PodIPs = previous.PodIP, previous.PodIPs
	}
	s.QOSClass = QOSClass(pod)

	s.ContainerStatuses = containerStatuses(pod, rt, previous.ContainerStatuses, pod.Spec.Containers, in.StartFailures, false)
	s.InitContainerStatuses = containerStatuses(pod, rt, previous.InitContainerStatuses, pod.Spec.InitContainers, in.StartFailures, true)
	s.EphemeralContainerStatuses = containerStatuses(pod, rt, previous.EphemeralContainerStatuses, ephemeralContainers(&pod.Spec), in.StartFailures, false)
	setReadiness(pod, &s, in.Probes)

	all := append(append([]corev1.ContainerStatus{}, s.ContainerStatuses...), s.InitContainerStatuses...)
	s.Phase = podPhase(pod, all, in.Terminal, hasAnyActiveRegularContainer(&pod.Spec, rt))
	// A pod never leaves a terminal phase.
	if !isTerminalPhase(s.Phase) {
		switch {
		case isTerminalPhase(previous.Phase):
			s.Phase = previous.Phase
		case isTerminalPhase(pod.Status.Phase):
			s.Phase = pod.Status.Phase
		}
	}
	if isTerminalPhase(pod.Status.Phase) {
		s.Phase = pod.Status.Phase
	}
	if s.Phase == previous.Phase {
		// The reason and message go with the phase.
		s.Reason, s.Message = previous.Reason, previous.Message
		if s.Reason == "" {
			s.Reason = pod.Status.Reason
		}
		if s.Message == "" {
			s.Message = pod.Status.Message
		}
	}

	// Conditions of others stay; the kubelet's are recomputed.
	for _, c := range pod.Status.Conditions {
		if !IsKubeletCondition(c.Type) {
			s.Conditions = append(s.Conditions, c)
		}
	}
	if c := findCondition(previous.Conditions, corev1.DisruptionTarget); c != nil && findCondition(s.Conditions, corev1.DisruptionTarget) == nil {
		s.Conditions = append(s.Conditions, *c)
	}
	statuses := append(append([]corev1.ContainerStatus{}, s.InitContainerStatuses...), s.ContainerStatuses...)
	kubelet := []corev1.PodCondition{
		readyToStartContainersCondition(pod, rt),
		initializedCondition(pod, statuses, s.Phase),
		readyCondition(pod, s.Conditions, statuses, s.Phase),
		containersReadyCondition(pod, statuses, s.Phase),
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}
	now := metav1.NewTime(in.Now)
	for _, c := range kubelet {
		c.ObservedGeneration = pod.Generation
		c.LastTransitionTime = now
		if old := findCondition(previous.Conditions, c.Type); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		s.Conditions = append(s.Conditions, c)
	}
	s.ObservedGeneration = pod.Generation

	start := now
	if previous.StartTime != nil && !previous.StartTime.IsZero() {
		start = *previous.StartTime
	}
	s.StartTime = &start

	if len(in.HostIPs) > 0 {
		s.HostIP = in.HostIPs[0]
		for _, ip := range in.HostIPs {
			s.HostIPs = append(s.HostIPs, corev1.HostIP{IP: ip})
		}
		if pod.Spec.HostNetwork && s.PodIP == "" {
			s.PodIP = in.HostIPs[0]
			for _, ip := range in.HostIPs {
				s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip})
			}
		}
	}
	normalizeStatus(&s)
	return s
}

// isTerminalPhase tells whether a phase is Succeeded or Failed.
func isTerminalPhase(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}

// sortPodIPs picks the first IP of the node's family, then the first of
// the other family.
func sortPodIPs(ips []string, hostIPs []string) []string {
	primaryV4 := true
	if len(hostIPs) > 0 {
		if addr, err := netip.ParseAddr(hostIPs[0]); err == nil && addr.Is6() && !addr.Is4In6() {
			primaryV4 = false
		}
	}
	pick := func(v4 bool) string {
		for _, ip := range ips {
			addr, err := netip.ParseAddr(ip)
			if err != nil {
				continue
			}
			if addr.Unmap().Is4() == v4 {
				return addr.Unmap().String()
			}
		}
		return ""
	}
	var sorted []string
	for _, v4 := range []bool{primaryV4, !primaryV4} {
		if ip := pick(v4); ip != "" {
			sorted = append(sorted, ip)
		}
	}
	return sorted
}

// ips is rt.IPs, nil-safe.
func (p *RuntimePod) ips() []string {
	if p == nil {
		return nil
	}
	return p.IPs
}

// normalizeStatus truncates times to seconds, as the API stores them, so
// that a computed status compares equal to the one read back.
func normalizeStatus(s *corev1.PodStatus) {
	trunc := func(t *metav1.Time) {
		if t != nil && !t.IsZero() {
			*t = t.Rfc3339Copy()
		}
	}
	if s.StartTime != nil {
		trunc(s.StartTime)
	}
	for i := range s.Conditions {
		trunc(&s.Conditions[i].LastProbeTime)
		trunc(&s.Conditions[i].LastTransitionTime)
	}
	for _, list := range [][]corev1.ContainerStatus{s.InitContainerStatuses, s.ContainerStatuses, s.EphemeralContainerStatuses} {
		for i := range list {
			for _, state := range []*corev1.ContainerState{&list[i].State, &list[i].LastTerminationState} {
				if state.Running != nil {
					trunc(&state.Running.StartedAt)
				}
				if state.Terminated != nil {
					trunc(&state.Terminated.StartedAt)
					trunc(&state.Terminated.FinishedAt)
				}
			}
		}
	}
}

// TerminalStatus is the last status of a pod whose containers all stopped
// for good, as upstream's status manager makes it: a container without a
// known end failed (ContainerStatusUnknown, exit code 137) once the pod
// initialized, init containers that tried to run and did not end failed,
// and the phase is terminal: Failed unless it was already Succeeded.
func TerminalStatus(pod *corev1.Pod, status corev1.PodStatus) corev1.PodStatus {
	s := *status.DeepCopy()
	unknown := func() corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason:   reasonStatusUnknown,
			Message:  "The container could not be located when the pod was terminated",
			ExitCode: 137,
		}}
	}
	if hasPodInitialized(pod, &s) {
		for i := range s.ContainerStatuses {
			if s.ContainerStatuses[i].State.Terminated == nil {
				s.ContainerStatuses[i].State = unknown()
			}
		}
	}
	// Init containers up to the last one that tried to start.
	last := 0
	for i := len(s.InitContainerStatuses) - 1; i >= 0; i-- {
		if c := s.InitContainerStatuses[i]; c.State.Waiting == nil || c.LastTerminationState.Terminated != nil {
			last = i
			break
		}
	}
	for i := 0; i < len(s.InitContainerStatuses) && i <= last; i++ {
		if s.InitContainerStatuses[i].State.Terminated == nil {
			s.InitContainerStatuses[i].State = unknown()
		}
	}
	if !isTerminalPhase(s.Phase) {
		s.Phase = corev1.PodFailed
	}
	return s
}

// hasPodInitialized tells whether the pod got past its init containers: it
// has none, an app container left waiting once, or the last init
// container completed (or, for a sidecar, started).
func hasPodInitialized(pod *corev1.Pod, s *corev1.PodStatus) bool {
	if len(pod.Spec.InitContainers) == 0 {
		return true
	}
	for _, c := range s.ContainerStatuses {
		if c.LastTerminationState.Terminated != nil || c.State.Waiting == nil {
			return true
		}
	}
	n := len(s.InitContainerStatuses)
	if n == 0 {
		return false
	}
	lastStatus := s.InitContainerStatuses[n-1]
	spec := findContainerSpec(pod, lastStatus.Name)
	if spec == nil {
		return false
	}
	if isRestartableInitContainer(spec) {
		return lastStatus.State.Running != nil && lastStatus.Started != nil && *lastStatus.Started
	}
	for _, state := range []corev1.ContainerState{lastStatus.LastTerminationState, lastStatus.State} {
		if state.Terminated != nil && state.Terminated.Reason == reasonCompleted {
			return true
		}
	}
	return false
}
