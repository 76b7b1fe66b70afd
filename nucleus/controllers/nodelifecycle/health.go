package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// Upstream's node lifecycle taints.
var (
	unreachableNoExecute  = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReadyNoExecute     = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	unreachableNoSchedule = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}
	notReadyNoSchedule    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	lifecycleTaints       = []corev1.Taint{unreachableNoExecute, notReadyNoExecute, unreachableNoSchedule, notReadyNoSchedule}
)

// conditionsSetUnknown are the conditions a silent node's kubelet owns;
// they become Unknown together.
var conditionsSetUnknown = []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure}

// lastHeartbeat is the latest sign of life of a node: its Lease renewal,
// its Ready condition's heartbeat, or when the controller first saw it
// (so a restarted controller gives every node a full grace period).
func lastHeartbeat(node *corev1.Node, lease *metav1.MicroTime, firstSeen time.Time) time.Time {
	t := firstSeen
	if lease != nil && lease.After(t) {
		t = lease.Time
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && c.LastHeartbeatTime.After(t) {
			t = c.LastHeartbeatTime.Time
		}
	}
	return t
}

// unknownConditions returns node's conditions with the kubelet-owned ones
// set to Unknown, as upstream does when the kubelet stops posting status,
// and whether anything changed.
func unknownConditions(node *corev1.Node, now metav1.Time) ([]corev1.NodeCondition, bool) {
	conds := append([]corev1.NodeCondition(nil), node.Status.Conditions...)
	changed := false
	for _, t := range conditionsSetUnknown {
		i := -1
		for j := range conds {
			if conds[j].Type == t {
				i = j
			}
		}
		if i < 0 {
			conds = append(conds, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown, Reason: "NodeStatusNeverUpdated",
				Message: "Kubelet never posted node status.", LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: now,
			})
			changed = true
			continue
		}
		if conds[i].Status == corev1.ConditionUnknown {
			continue
		}
		conds[i].Status = corev1.ConditionUnknown
		conds[i].Reason = "NodeStatusUnknown"
		conds[i].Message = "Kubelet stopped posting node status."
		conds[i].LastTransitionTime = now
		changed = true
	}
	return conds, changed
}

// wantedTaints are the lifecycle taints a node should carry given its Ready
// condition: unreachable for Unknown, not-ready for False, none for True.
func wantedTaints(node *corev1.Node) []corev1.Taint {
	for _, c := range node.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		switch c.Status {
		case corev1.ConditionUnknown:
			return []corev1.Taint{unreachableNoExecute, unreachableNoSchedule}
		case corev1.ConditionFalse:
			return []corev1.Taint{notReadyNoExecute, notReadyNoSchedule}
		}
		return nil
	}
	return []corev1.Taint{unreachableNoExecute, unreachableNoSchedule}
}

// reconcileTaints returns node's taints with the lifecycle taints replaced
// by want (keeping the time a kept taint was added), and whether they
// changed.
func reconcileTaints(taints []corev1.Taint, want []corev1.Taint, now metav1.Time) ([]corev1.Taint, bool) {
	var out []corev1.Taint
	changed := false
	for _, t := range taints {
		if isLifecycleTaint(t) && !containsTaint(want, t) {
			changed = true
			continue
		}
		out = append(out, t)
	}
	for _, w := range want {
		if !containsTaint(taints, w) {
			w := w
			if w.Effect == corev1.TaintEffectNoExecute {
				w.TimeAdded = &now
			}
			out = append(out, w)
			changed = true
		}
	}
	return out, changed
}

func isLifecycleTaint(t corev1.Taint) bool { return containsTaint(lifecycleTaints, t) }

func containsTaint(list []corev1.Taint, t corev1.Taint) bool {
	for _, l := range list {
		if l.Key == t.Key && l.Effect == t.Effect {
			return true
		}
	}
	return false
}

// evictionTime says when a pod on a node with taints must be evicted, with
// upstream's taint manager rules: at once if some NoExecute taint is not
// tolerated; never (ok false) if every matching toleration tolerates
// forever; else once the shortest tolerationSeconds has passed since the
// taint was added.
func evictionTime(pod *corev1.Pod, taints []corev1.Taint, now time.Time) (time.Time, bool) {
	var at time.Time
	evict := false
	for _, taint := range taints {
		if taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		matched := false
		for _, tol := range pod.Spec.Tolerations {
			if !tol.ToleratesTaint(klog.Background(), &taint, false) {
				continue
			}
			matched = true
			if tol.TolerationSeconds == nil {
				continue
			}
			added := now
			if taint.TimeAdded != nil {
				added = taint.TimeAdded.Time
			}
			due := added.Add(time.Duration(max(*tol.TolerationSeconds, 0)) * time.Second)
			if !evict || due.Before(at) {
				at, evict = due, true
			}
		}
		if !matched {
			return now, true
		}
	}
	return at, evict
}
