package framework

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func podLabels(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		p.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func term(key, app string) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{TopologyKey: key, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}
}

func affinity(terms ...corev1.PodAffinityTerm) podOpt {
	return func(p *corev1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &corev1.Affinity{}
		}
		p.Spec.Affinity.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: terms}
	}
}

func antiAffinity(terms ...corev1.PodAffinityTerm) podOpt {
	return func(p *corev1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &corev1.Affinity{}
		}
		p.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: terms}
	}
}

func spread(maxSkew int32, key, app string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		})
	}
}

// cluster is two zones: a (nodes a1, a2) and b (node b1), plus c1 without
// a zone label.
func cluster(podsOn map[string][]*corev1.Pod) []*NodeInfo {
	var out []*NodeInfo
	for _, n := range []*corev1.Node{
		node("a1", "4", "4Gi", 10, withLabels("zone", "a", "kubernetes.io/hostname", "a1")),
		node("a2", "4", "4Gi", 10, withLabels("zone", "a", "kubernetes.io/hostname", "a2")),
		node("b1", "4", "4Gi", 10, withLabels("zone", "b", "kubernetes.io/hostname", "b1")),
		node("c1", "4", "4Gi", 10, withLabels("kubernetes.io/hostname", "c1")),
	} {
		out = append(out, NewNodeInfo(n, podsOn[n.Name]...))
	}
	return out
}

// feasible runs RunFilters over the cluster and returns, per node, the
// first failure reason or "".
func feasible(p *corev1.Pod, nodes []*NodeInfo) map[string]string {
	pi := NewPodInfo(p)
	pf := NewPreFilter(pi, nodes)
	out := map[string]string{}
	for _, ni := range nodes {
		if s := RunFilters(pf, pi, ni); !s.IsSuccess() {
			out[ni.Name()] = s.Reasons[0]
		} else {
			out[ni.Name()] = ""
		}
	}
	return out
}

func TestInterPodAffinity(t *testing.T) {
	web := func(name string) *corev1.Pod { return pod(name, podLabels("app", "web")) }
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		podsOn map[string][]*corev1.Pod
		want   map[string]string
	}{
		{
			name:   "affinity to a zone with a matching pod",
			pod:    pod("p", affinity(term("zone", "web"))),
			podsOn: map[string][]*corev1.Pod{"a2": {web("w")}},
			want:   map[string]string{"a1": "", "a2": "", "b1": ErrReasonAffinityRulesNotMatch, "c1": ErrReasonAffinityRulesNotMatch},
		},
		{
			name: "affinity with no matching pod anywhere",
			pod:  pod("p", affinity(term("zone", "web"))),
			want: map[string]string{"a1": ErrReasonAffinityRulesNotMatch, "a2": ErrReasonAffinityRulesNotMatch, "b1": ErrReasonAffinityRulesNotMatch, "c1": ErrReasonAffinityRulesNotMatch},
		},
		{
			name: "the first pod of a group selecting itself goes where the key exists",
			pod:  pod("p", podLabels("app", "web"), affinity(term("zone", "web"))),
			want: map[string]string{"a1": "", "a2": "", "b1": "", "c1": ErrReasonAffinityRulesNotMatch},
		},
		{
			name:   "affinity is namespaced",
			pod:    pod("p", affinity(term("zone", "web"))),
			podsOn: map[string][]*corev1.Pod{"a2": {func() *corev1.Pod { p := web("w"); p.Namespace = "other"; return p }()}},
			want:   map[string]string{"a1": ErrReasonAffinityRulesNotMatch, "a2": ErrReasonAffinityRulesNotMatch, "b1": ErrReasonAffinityRulesNotMatch, "c1": ErrReasonAffinityRulesNotMatch},
		},
		{
			name:   "anti-affinity by hostname",
			pod:    pod("p", antiAffinity(term("kubernetes.io/hostname", "web"))),
			podsOn: map[string][]*corev1.Pod{"a2": {web("w")}},
			want:   map[string]string{"a1": "", "a2": ErrReasonAntiAffinityRulesNotMatch, "b1": "", "c1": ""},
		},
		{
			name:   "anti-affinity by zone",
			pod:    pod("p", antiAffinity(term("zone", "web"))),
			podsOn: map[string][]*corev1.Pod{"a2": {web("w")}},
			want:   map[string]string{"a1": ErrReasonAntiAffinityRulesNotMatch, "a2": ErrReasonAntiAffinityRulesNotMatch, "b1": "", "c1": ""},
		},
		{
			name:   "an existing pod's anti-affinity",
			pod:    web("p"),
			podsOn: map[string][]*corev1.Pod{"b1": {pod("lonely", antiAffinity(term("zone", "web")))}},
			want:   map[string]string{"a1": "", "a2": "", "b1": ErrReasonExistingAntiAffinityRules, "c1": ""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, feasible(tc.pod, cluster(tc.podsOn))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodTopologySpread(t *testing.T) {
	web := func(name string) *corev1.Pod { return pod(name, podLabels("app", "web")) }
	p := pod("p", podLabels("app", "web"), spread(1, "zone", "web"))
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		podsOn map[string][]*corev1.Pod
		want   map[string]string
	}{
		{
			name: "empty cluster: any zone",
			pod:  p,
			want: map[string]string{"a1": "", "a2": "", "b1": "", "c1": ErrReasonTopologySpreadMissingLabel},
		},
		{
			name:   "zone a is ahead",
			pod:    p,
			podsOn: map[string][]*corev1.Pod{"a1": {web("w1")}},
			want:   map[string]string{"a1": ErrReasonTopologySpreadConstraintsNotMatch, "a2": ErrReasonTopologySpreadConstraintsNotMatch, "b1": "", "c1": ErrReasonTopologySpreadMissingLabel},
		},
		{
			name:   "balanced zones",
			pod:    p,
			podsOn: map[string][]*corev1.Pod{"a1": {web("w1")}, "b1": {web("w2")}},
			want:   map[string]string{"a1": "", "a2": "", "b1": "", "c1": ErrReasonTopologySpreadMissingLabel},
		},
		{
			name:   "maxSkew 2 allows one ahead",
			pod:    pod("p", podLabels("app", "web"), spread(2, "zone", "web")),
			podsOn: map[string][]*corev1.Pod{"a1": {web("w1")}},
			want:   map[string]string{"a1": "", "a2": "", "b1": "", "c1": ErrReasonTopologySpreadMissingLabel},
		},
		{
			name:   "other pods do not count",
			pod:    p,
			podsOn: map[string][]*corev1.Pod{"a1": {pod("db", podLabels("app", "db"))}},
			want:   map[string]string{"a1": "", "a2": "", "b1": "", "c1": ErrReasonTopologySpreadMissingLabel},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, feasible(tc.pod, cluster(tc.podsOn))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoPreFilterWithoutRules(t *testing.T) {
	if pf := NewPreFilter(NewPodInfo(pod("p")), cluster(nil)); pf != nil {
		t.Errorf("cycle state computed for a pod without inter-pod rules")
	}
}
