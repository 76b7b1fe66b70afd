package pods

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/strata-dev/strata/kubelet/podstatus"
)

// Condition reasons, as upstream's.
const (
	ReasonUnknownContainerStatuses = "UnknownContainerStatuses"
	ReasonPodCompleted             = "PodCompleted"
	ReasonPodFailed                = "PodFailed"
	ReasonContainersNotReady       = "ContainersNotReady"
	ReasonContainersNotInitialized = "ContainersNotInitialized"
	ReasonReadinessGatesNotReady   = "ReadinessGatesNotReady"
)

// IsKubeletCondition tells whether the kubelet owns a pod condition type.
func IsKubeletCondition(t corev1.PodConditionType) bool {
	return podstatus.IsKubeletCondition(t)
}

// readyToStartContainersCondition is True once the pod has a ready sandbox
// with its network.
func readyToStartContainersCondition(pod *corev1.Pod, rt *RuntimePod) corev1.PodCondition {
	status := corev1.ConditionTrue
	if changed, _, _ := sandboxChanged(pod, rt); changed {
		status = corev1.ConditionFalse
	}
	return corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: status}
}

// initializedCondition is True once every init container completed (or,
// for a sidecar, started).
func initializedCondition(pod *corev1.Pod, statuses []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	cond := corev1.PodCondition{Type: corev1.PodInitialized}
	if statuses == nil && len(pod.Spec.InitContainers) > 0 {
		cond.Status, cond.Reason = corev1.ConditionFalse, ReasonUnknownContainerStatuses
		return cond
	}
	var unknown, incomplete []string
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		s, ok := findStatus(statuses, c.Name)
		if !ok {
			unknown = append(unknown, c.Name)
			continue
		}
		if isRestartableInitContainer(c) {
			if s.Started == nil || !*s.Started {
				incomplete = append(incomplete, c.Name)
			}
		} else if !s.Ready {
			incomplete = append(incomplete, c.Name)
		}
	}
	if phase == corev1.PodSucceeded && len(unknown) == 0 {
		cond.Status, cond.Reason = corev1.ConditionTrue, ReasonPodCompleted
		return cond
	}
	// An app container that ran proves the pod initialized, even while a
	// sidecar restarts.
	if hasAnyRegularContainerStarted(&pod.Spec, statuses) {
		cond.Status = corev1.ConditionTrue
		return cond
	}
	var messages []string
	if len(unknown) > 0 {
		messages = append(messages, fmt.Sprintf("containers with unknown status: %s", unknown))
	}
	if len(incomplete) > 0 {
		messages = append(messages, fmt.Sprintf("containers with incomplete status: %s", incomplete))
	}
	if len(messages) > 0 {
		cond.Status, cond.Reason, cond.Message = corev1.ConditionFalse, ReasonContainersNotInitialized, strings.Join(messages, ", ")
		return cond
	}
	cond.Status = corev1.ConditionTrue
	return cond
}

// containersReadyCondition is True when every app container and sidecar is
// ready.
func containersReadyCondition(pod *corev1.Pod, statuses []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	cond := corev1.PodCondition{Type: corev1.ContainersReady}
	if statuses == nil {
		cond.Status, cond.Reason = corev1.ConditionFalse, ReasonUnknownContainerStatuses
		return cond
	}
	var unknown, unready []string
	check := func(c *corev1.Container) {
		s, ok := findStatus(statuses, c.Name)
		switch {
		case !ok:
			unknown = append(unknown, c.Name)
		case !s.Ready:
			unready = append(unready, c.Name)
		}
	}
	for i := range pod.Spec.InitContainers {
		if isRestartableInitContainer(&pod.Spec.InitContainers[i]) {
			check(&pod.Spec.InitContainers[i])
		}
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i])
	}
	if (phase == corev1.PodSucceeded && len(unknown) == 0) || phase == corev1.PodFailed {
		cond.Status, cond.Reason = corev1.ConditionFalse, terminalReason(phase)
		return cond
	}
	var messages []string
	if len(unknown) > 0 {
		messages = append(messages, fmt.Sprintf("containers with unknown status: %s", unknown))
	}
	if len(unready) > 0 {
		messages = append(messages, fmt.Sprintf("containers with unready status: %s", unready))
	}
	if len(messages) > 0 {
		cond.Status, cond.Reason, cond.Message = corev1.ConditionFalse, ReasonContainersNotReady, strings.Join(messages, ", ")
		return cond
	}
	cond.Status = corev1.ConditionTrue
	return cond
}

// readyCondition is ContainersReady, further requiring the conditions of
// the pod's readiness gates to be True.
func readyCondition(pod *corev1.Pod, conditions []corev1.PodCondition, statuses []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	containersReady := containersReadyCondition(pod, statuses, phase)
	if containersReady.Status != corev1.ConditionTrue {
		return corev1.PodCondition{
			Type:    corev1.PodReady,
			Status:  containersReady.Status,
			Reason:  containersReady.Reason,
			Message: containersReady.Message,
		}
	}
	var messages []string
	for _, gate := range pod.Spec.ReadinessGates {
		c := findCondition(conditions, gate.ConditionType)
		switch {
		case c == nil:
			messages = append(messages, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", gate.ConditionType))
		case c.Status != corev1.ConditionTrue:
			messages = append(messages, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", gate.ConditionType, c.Status))
		}
	}
	if len(messages) > 0 {
		return corev1.PodCondition{
			Type:    corev1.PodReady,
			Status:  corev1.ConditionFalse,
			Reason:  ReasonReadinessGatesNotReady,
			Message: strings.Join(messages, ", "),
		}
	}
	return corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
}

func terminalReason(phase corev1.PodPhase) string {
	if phase == corev1.PodFailed {
		return ReasonPodFailed
	}
	return ReasonPodCompleted
}

// hasAnyRegularContainerStarted tells whether an app container's status
// shows it ran.
func hasAnyRegularContainerStarted(spec *corev1.PodSpec, statuses []corev1.ContainerStatus) bool {
	for _, c := range spec.Containers {
		if s, ok := findStatus(statuses, c.Name); ok && (s.State.Running != nil || s.State.Terminated != nil) {
			return true
		}
	}
	return false
}

func findStatus(statuses []corev1.ContainerStatus, name string) (corev1.ContainerStatus, bool) {
	for _, s := range statuses {
		if s.Name == name {
			return s, true
		}
	}
	return corev1.ContainerStatus{}, false
}

func findCondition(conditions []corev1.PodCondition, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range conditions {
		if conditions[i].Type == t {
			return &conditions[i]
		}
	}
	return nil
}
