package framework

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestInterPodScores(t *testing.T) {
	web := func(name string) *corev1.Pod { return pod(name, podLabels("app", "web")) }
	preferred := func(anti bool, weight int32, key string) podOpt {
		return func(p *corev1.Pod) {
			wt := []corev1.WeightedPodAffinityTerm{{Weight: weight, PodAffinityTerm: term(key, "web")}}
			p.Spec.Affinity = &corev1.Affinity{}
			if anti {
				p.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: wt}
			} else {
				p.Spec.Affinity.PodAffinity = &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: wt}
			}
		}
	}
	spreadAnyway := func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		}}
	}
	podsOn := map[string][]*corev1.Pod{"a1": {web("w1"), web("w2")}}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want []int64 // a1, a2, b1, c1
	}{
		{"nothing preferred", pod("p"), nil},
		{"affinity to zone a", pod("p", preferred(false, 10, "zone")), []int64{200, 200, 0, 0}},
		{"anti-affinity to zone a", pod("p", preferred(true, 10, "zone")), []int64{0, 0, 200, 200}},
		{"anti-affinity by hostname", pod("p", preferred(true, 10, "kubernetes.io/hostname")), []int64{0, 200, 200, 200}},
		{"spread away from zone a; c1 has no zone", pod("p", podLabels("app", "web"), spreadAnyway), []int64{0, 0, 200, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := cluster(podsOn)
			got := InterPodScores(NewPodInfo(tc.pod), nodes, nodes)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
