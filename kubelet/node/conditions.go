package node

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// Condition reasons and messages, as upstream's kubelet writes them.
const (
	ReasonKubeletReady    = "KubeletReady"
	ReasonKubeletNotReady = "KubeletNotReady"
	MessageKubeletReady   = "kubelet is posting ready status"
)

// pressureText is what a pressure condition says, with and without
// pressure, and the event recorded when it turns so.
type pressureText struct {
	reason, message, event string
}

var pressureTexts = map[corev1.NodeConditionType][2]pressureText{
	corev1.NodeMemoryPressure: {
		{"KubeletHasSufficientMemory", "kubelet has sufficient memory available", "NodeHasSufficientMemory"},
		{"KubeletHasInsufficientMemory", "kubelet has insufficient memory available", "NodeHasInsufficientMemory"},
	},
	corev1.NodeDiskPressure: {
		{"KubeletHasNoDiskPressure", "kubelet has no disk pressure", "NodeHasNoDiskPressure"},
		{"KubeletHasDiskPressure", "kubelet has disk pressure", "NodeHasDiskPressure"},
	},
	corev1.NodePIDPressure: {
		{"KubeletHasSufficientPID", "kubelet has sufficient PID available", "NodeHasSufficientPID"},
		{"KubeletHasInsufficientPID", "kubelet has insufficient PID available", "NodeHasInsufficientPID"},
	},
}

// findCondition returns the index of the condition of type t, -1 if none.
func findCondition(status *corev1.NodeStatus, t corev1.NodeConditionType) int {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return i
		}
	}
	return -1
}

// SetPressureCondition sets the MemoryPressure, DiskPressure or
// PIDPressure condition at now, as upstream's setters: the heartbeat is
// always now, the transition time changes only with the status (a new
// condition starts from Unknown), and the event to record is returned
// ("NodeHasSufficientMemory" …; "" when the status did not change).
func SetPressureCondition(status *corev1.NodeStatus, t corev1.NodeConditionType, pressure bool, now metav1.Time) string {
	texts, ok := pressureTexts[t]
	if !ok {
		panic(fmt.Sprintf("not a pressure condition: %s", t))
	}
	i := findCondition(status, t)
	if i < 0 {
		status.Conditions = append(status.Conditions, corev1.NodeCondition{Type: t, Status: corev1.ConditionUnknown})
		i = len(status.Conditions) - 1
	}
	c := &status.Conditions[i]
	c.LastHeartbeatTime = now
	want, text := corev1.ConditionFalse, texts[0]
	if pressure {
		want, text = corev1.ConditionTrue, texts[1]
	}
	if c.Status == want {
		return ""
	}
	c.Status, c.Reason, c.Message, c.LastTransitionTime = want, text.reason, text.message, now
	return text.event
}

// requiredCapacities are the resources a Ready node reports.
var requiredCapacities = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods, corev1.ResourceEphemeralStorage}

// ReadyErrors is why the node is not ready: the runtime's and the
// network's errors, and the capacities the node does not report.
func ReadyErrors(status *corev1.NodeStatus, runtimeErrs, networkErrs error) error {
	errs := []error{runtimeErrs, networkErrs}
	var missing []string
	for _, r := range requiredCapacities {
		if _, ok := status.Capacity[r]; !ok {
			missing = append(missing, string(r))
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("Missing node capacity for resources: %s", strings.Join(missing, ", ")))
	}
	return utilerrors.NewAggregate(errs)
}

// SetReadyCondition sets the Ready condition at now from notReady (nil
// when ready), as upstream's ReadyCondition setter: KubeletReady "kubelet
// is posting ready status", or KubeletNotReady with the errors as the
// message. The transition time changes with the status, and the event to
// record (NodeReady or NodeNotReady) is returned when an existing
// condition changed status.
func SetReadyCondition(status *corev1.NodeStatus, notReady error, now metav1.Time) string {
	next := corev1.NodeCondition{
		Type:              corev1.NodeReady,
		Status:            corev1.ConditionTrue,
		Reason:            ReasonKubeletReady,
		Message:           MessageKubeletReady,
		LastHeartbeatTime: now,
	}
	if notReady != nil {
		next.Status, next.Reason, next.Message = corev1.ConditionFalse, ReasonKubeletNotReady, notReady.Error()
	}
	i := findCondition(status, corev1.NodeReady)
	if i < 0 {
		next.LastTransitionTime = now
		status.Conditions = append(status.Conditions, next)
		return ""
	}
	event := ""
	if status.Conditions[i].Status == next.Status {
		next.LastTransitionTime = status.Conditions[i].LastTransitionTime
	} else {
		next.LastTransitionTime = now
		event = "NodeNotReady"
		if next.Status == corev1.ConditionTrue {
			event = "NodeReady"
		}
	}
	status.Conditions[i] = next
	return event
}

// IsReady reports whether the status says Ready=True.
func IsReady(status *corev1.NodeStatus) bool {
	i := findCondition(status, corev1.NodeReady)
	return i >= 0 && status.Conditions[i].Status == corev1.ConditionTrue
}
