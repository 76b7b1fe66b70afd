// Package podstatus writes the statuses the kubelet computes to the API
// server, as upstream's status manager: one patch of the status
// subresource when, and only when, the kubelet's part of it changed; the
// conditions others own kept as the API has them; a container never
// brought back from terminated when it cannot restart; and, once a deleted
// pod's containers stopped and its terminal status is written, the final
// deletion with a zero grace period, so that the pod leaves the API only
// when its containers are gone.
package podstatus

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// kubeletConditions are the pod conditions the kubelet owns; it keeps the
// others as they are.
var kubeletConditions = map[corev1.PodConditionType]bool{
	corev1.PodScheduled:              true,
	corev1.PodReady:                  true,
	corev1.PodInitialized:            true,
	corev1.ContainersReady:           true,
	corev1.PodReadyToStartContainers: true,
	corev1.PodResizePending:          true,
	corev1.PodResizeInProgress:       true,
}

// IsKubeletCondition tells whether the kubelet owns a pod condition type.
func IsKubeletCondition(t corev1.PodConditionType) bool {
	return kubeletConditions[t]
}

// merge keeps the conditions the kubelet does not own as the API server
// has them (someone may have changed them since the status was computed)
// and takes the rest of the status from the kubelet.
func merge(api, kubelet corev1.PodStatus) corev1.PodStatus {
	merged := *kubelet.DeepCopy()
	merged.Conditions = nil
	for _, c := range api.Conditions {
		if !IsKubeletCondition(c.Type) {
			merged.Conditions = append(merged.Conditions, c)
		}
	}
	for _, c := range kubelet.Conditions {
		if IsKubeletCondition(c.Type) {
			merged.Conditions = append(merged.Conditions, c)
		}
	}
	return merged
}

// equalByKubelet tells whether two statuses agree on everything the
// kubelet owns.
func equalByKubelet(a, b corev1.PodStatus) bool {
	a, b = *a.DeepCopy(), *b.DeepCopy()
	a.Conditions, b.Conditions = ownConditions(a.Conditions), ownConditions(b.Conditions)
	return equality.Semantic.DeepEqual(a, b)
}

// ownConditions are the conditions the kubelet owns.
func ownConditions(conditions []corev1.PodCondition) []corev1.PodCondition {
	var owned []corev1.PodCondition
	for _, c := range conditions {
		if kubeletConditions[c.Type] {
			owned = append(owned, c)
		}
	}
	return owned
}

// checkTransitions refuses a status that brings a terminated container
// back to life when its pod's restart policy does not restart it: such a
// status is stale, and writing it would confuse controllers.
func checkTransitions(pod *corev1.Pod, old, updated corev1.PodStatus) error {
	if pod.Spec.RestartPolicy == corev1.RestartPolicyAlways {
		return nil
	}
	check := func(olds, news []corev1.ContainerStatus) error {
		for _, o := range olds {
			if o.State.Terminated == nil {
				continue
			}
			if pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && o.State.Terminated.ExitCode != 0 {
				continue
			}
			for _, n := range news {
				if n.Name == o.Name && n.State.Terminated == nil {
					return fmt.Errorf("terminated container %v attempted illegal transition to non-terminated state", n.Name)
				}
			}
		}
		return nil
	}
	if err := check(old.ContainerStatuses, updated.ContainerStatuses); err != nil {
		return err
	}
	if isTerminal(old.Phase) {
		return check(old.InitContainerStatuses, updated.InitContainerStatuses)
	}
	return nil
}

func isTerminal(phase corev1.PodPhase) bool {
	return phase == corev1.PodSucceeded || phase == corev1.PodFailed
}
