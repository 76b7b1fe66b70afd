package framework

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestLeastAllocated(t *testing.T) {
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		node *corev1.Node
		pods []*corev1.Pod
		want int64
	}{
		{"empty node", pod("p", requests("1", "1Gi")), node("n", "4", "4Gi", 10), nil, 75},
		{"half used", pod("p", requests("1", "1Gi")), node("n", "4", "4Gi", 10), []*corev1.Pod{pod("q", requests("1", "1Gi"))}, 50},
		{"cpu full memory free", pod("p", requests("2", "1Gi")), node("n", "4", "4Gi", 10), []*corev1.Pod{pod("q", requests("2", ""))}, (0 + (4096-1024-200)*100/4096) / 2},
		{"best effort counts the defaults", pod("p"), node("n", "1", "2000Mi", 10), nil, (90 + 90) / 2},
		{"overcommitted scores 0", pod("p", requests("8", "8Gi")), node("n", "4", "4Gi", 10), nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LeastAllocated(NewPodInfo(tc.pod), NewNodeInfo(tc.node, tc.pods...)); got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestBalancedAllocation(t *testing.T) {
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		node *corev1.Node
		pods []*corev1.Pod
		want int64
	}{
		{"perfectly balanced", pod("p", requests("1", "1Gi")), node("n", "4", "4Gi", 10), nil, 100},
		{"cpu only", pod("p", requests("2", "")), node("n", "4", "4Gi", 10), nil, 75},
		{"fully unbalanced", pod("p", requests("4", "")), node("n", "4", "4Gi", 10), nil, 50},
		{"existing pods count", pod("p", requests("1", "")), node("n", "4", "4Gi", 10), []*corev1.Pod{pod("q", requests("", "2Gi"))}, 87},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BalancedAllocation(NewPodInfo(tc.pod), NewNodeInfo(tc.node, tc.pods...)); got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPreferredNodeAffinity(t *testing.T) {
	prefer := func(terms ...corev1.PreferredSchedulingTerm) podOpt {
		return func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: terms}}
		}
	}
	term := func(weight int32, key, value string) corev1.PreferredSchedulingTerm {
		return corev1.PreferredSchedulingTerm{Weight: weight, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{value}},
		}}}
	}
	p := pod("p", prefer(term(10, "zone", "a"), term(5, "disk", "ssd")))
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		node *corev1.Node
		want int64
	}{
		{"no preference", pod("p"), node("n", "1", "1Gi", 10, withLabels("zone", "a")), 0},
		{"both terms", p, node("n", "1", "1Gi", 10, withLabels("zone", "a", "disk", "ssd")), 15},
		{"one term", p, node("n", "1", "1Gi", 10, withLabels("disk", "ssd")), 5},
		{"none", p, node("n", "1", "1Gi", 10), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PreferredNodeAffinity(NewPodInfo(tc.pod), NewNodeInfo(tc.node)); got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestIntolerablePreferNoScheduleTaints(t *testing.T) {
	n := node("n", "1", "1Gi", 10, taint("a", "", corev1.TaintEffectPreferNoSchedule), taint("b", "", corev1.TaintEffectPreferNoSchedule), taint("c", "", corev1.TaintEffectNoSchedule))
	tolerA := func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}}
	}
	if got := IntolerablePreferNoScheduleTaints(NewPodInfo(pod("p")), NewNodeInfo(n)); got != 2 {
		t.Errorf("untolerating pod: %d, want 2", got)
	}
	if got := IntolerablePreferNoScheduleTaints(NewPodInfo(pod("p", tolerA)), NewNodeInfo(n)); got != 1 {
		t.Errorf("pod tolerating a: %d, want 1", got)
	}
}

func TestNormalizeScores(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []int64
		reverse bool
		want    []int64
	}{
		{"scaled to the highest", []int64{0, 5, 10}, false, []int64{0, 50, 100}},
		{"reversed", []int64{0, 5, 10}, true, []int64{100, 50, 0}},
		{"all zero", []int64{0, 0}, false, []int64{0, 0}},
		{"all zero reversed", []int64{0, 0}, true, []int64{100, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NormalizeScores(tc.in, tc.reverse)
			if diff := cmp.Diff(tc.want, tc.in); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestScoreNodesPrefersTheEmptierNode(t *testing.T) {
	busy := NewNodeInfo(node("busy", "4", "8Gi", 10), pod("q", requests("3", "6Gi")))
	empty := NewNodeInfo(node("empty", "4", "8Gi", 10))
	scores := ScoreNodes(NewPodInfo(pod("p", requests("500m", "1Gi"))), []*NodeInfo{busy, empty})
	if scores[1] <= scores[0] {
		t.Errorf("scores busy=%d empty=%d, want the empty node higher", scores[0], scores[1])
	}
}
