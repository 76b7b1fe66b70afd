package nodelifecycle

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestEvictionTime(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	added := metav1.NewTime(now.Add(-10 * time.Second))
	unreachable := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &added}
	custom := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute, TimeAdded: &added}
	noSchedule := corev1.Taint{Key: "soft", Effect: corev1.TaintEffectNoSchedule}
	tolerate := func(key string, seconds *int64) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}
	}
	tests := []struct {
		name        string
		tolerations []corev1.Toleration
		taints      []corev1.Taint
		wantAt      time.Time
		wantEvict   bool
	}{
		{name: "no NoExecute taint", taints: []corev1.Taint{noSchedule}},
		{name: "untolerated taint: now", taints: []corev1.Taint{unreachable}, wantAt: now, wantEvict: true},
		{name: "tolerated forever", tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, nil)}, taints: []corev1.Taint{unreachable}},
		{name: "tolerated 300s from when the taint was added", tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](300))},
			taints: []corev1.Taint{unreachable}, wantAt: added.Add(300 * time.Second), wantEvict: true},
		{name: "shortest of the matching tolerations", tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](300)), tolerate("", ptr.To[int64](30))},
			taints: []corev1.Taint{unreachable}, wantAt: added.Add(30 * time.Second), wantEvict: true},
		{name: "one of two taints untolerated", tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, nil)},
			taints: []corev1.Taint{unreachable, custom}, wantAt: now, wantEvict: true},
		{name: "negative seconds mean at once", tolerations: []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](-5))},
			taints: []corev1.Taint{unreachable}, wantAt: added.Time, wantEvict: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tt.tolerations}}
			at, evict := evictionTime(pod, tt.taints, now)
			if evict != tt.wantEvict || !at.Equal(tt.wantAt) {
				t.Errorf("evictionTime = %v, %v; want %v, %v", at, evict, tt.wantAt, tt.wantEvict)
			}
		})
	}
}

func TestTaintsFollowReadiness(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	earlier := metav1.NewTime(now.Add(-time.Minute))
	user := corev1.Taint{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}
	node := func(status corev1.ConditionStatus, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{Spec: corev1.NodeSpec{Taints: taints}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}}}
	}
	unreachableAt := func(at metav1.Time) corev1.Taint {
		t := unreachableNoExecute
		t.TimeAdded = &at
		return t
	}
	tests := []struct {
		name        string
		node        *corev1.Node
		want        []corev1.Taint
		wantChanged bool
	}{
		{name: "ready node keeps only user taints", node: node(corev1.ConditionTrue, user, unreachableAt(earlier)), want: []corev1.Taint{user}, wantChanged: true},
		{name: "unknown node gets unreachable taints", node: node(corev1.ConditionUnknown, user), want: []corev1.Taint{user, unreachableAt(now), unreachableNoSchedule}, wantChanged: true},
		{name: "kept taint keeps its time", node: node(corev1.ConditionUnknown, unreachableAt(earlier), unreachableNoSchedule), want: []corev1.Taint{unreachableAt(earlier), unreachableNoSchedule}},
		{name: "not ready replaces unreachable", node: node(corev1.ConditionFalse, unreachableAt(earlier), unreachableNoSchedule),
			want: []corev1.Taint{func() corev1.Taint { t := notReadyNoExecute; t.TimeAdded = &now; return t }(), notReadyNoSchedule}, wantChanged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := reconcileTaints(tt.node.Spec.Taints, wantedTaints(tt.node), now)
			if diff := cmp.Diff(tt.want, got); diff != "" || changed != tt.wantChanged {
				t.Errorf("changed = %v (want %v); taints (-want +got)\n%s", changed, tt.wantChanged, diff)
			}
		})
	}
}

func TestUnknownConditions(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	node := &corev1.Node{Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown"},
	}}}
	got, changed := unknownConditions(node, now)
	if !changed || len(got) != 4 {
		t.Fatalf("changed %v, %d conditions, want true and 4", changed, len(got))
	}
	if got[0].Status != corev1.ConditionUnknown || got[0].Reason != "NodeStatusUnknown" || got[0].Message != "Kubelet stopped posting node status." {
		t.Errorf("Ready = %+v", got[0])
	}
	if _, changed := unknownConditions(&corev1.Node{Status: corev1.NodeStatus{Conditions: got}}, now); changed {
		t.Errorf("already unknown conditions changed again")
	}
}
