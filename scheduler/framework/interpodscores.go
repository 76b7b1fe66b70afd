package framework

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Weights of the scores that look at other pods, upstream's defaults.
const (
	PodTopologySpreadWeight int64 = 2
	InterPodAffinityWeight  int64 = 2
)

type weightedTerm struct {
	term   corev1.PodAffinityTerm
	weight int64
}

// InterPodScores scores the feasible nodes by the pod's ScheduleAnyway
// topology spread constraints (fewer matching pods in the node's domain is
// better) and its preferred pod affinity (+weight per matching pod in the
// domain) and anti-affinity (−weight), each normalized to 0..MaxNodeScore
// and weighted. It returns nil when the pod has none of these, so ordinary
// pods pay nothing. all is every node, feasible those that passed the
// filters.
func InterPodScores(pi *PodInfo, all, feasible []*NodeInfo) []int64 {
	pod := pi.Pod
	type constraint struct {
		key string
		sel labels.Selector
	}
	var spreads []constraint
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != corev1.ScheduleAnyway {
			continue
		}
		if sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector); err == nil {
			spreads = append(spreads, constraint{key: c.TopologyKey, sel: sel})
		}
	}
	var terms []weightedTerm
	if a := pod.Spec.Affinity; a != nil {
		if a.PodAffinity != nil {
			for _, t := range a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				terms = append(terms, weightedTerm{t.PodAffinityTerm, int64(t.Weight)})
			}
		}
		if a.PodAntiAffinity != nil {
			for _, t := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
				terms = append(terms, weightedTerm{t.PodAffinityTerm, -int64(t.Weight)})
			}
		}
	}
	if len(spreads) == 0 && len(terms) == 0 {
		return nil
	}
	spreadCounts := make([]map[string]int64, len(spreads))
	for i := range spreadCounts {
		spreadCounts[i] = map[string]int64{}
	}
	affinity := map[string]int64{}
	for _, ni := range all {
		if ni.Node == nil {
			continue
		}
		for _, ep := range ni.Pods {
			existing := ep.Pod
			for i, c := range spreads {
				if v, ok := ni.Node.Labels[c.key]; ok && existing.Namespace == pod.Namespace && c.sel.Matches(labels.Set(existing.Labels)) {
					spreadCounts[i][topo(c.key, v)]++
				}
			}
			for _, t := range terms {
				if v, ok := ni.Node.Labels[t.term.TopologyKey]; ok && termMatches(&t.term, pod.Namespace, existing) {
					affinity[topo(t.term.TopologyKey, v)] += t.weight
				}
			}
		}
	}
	totals := make([]int64, len(feasible))
	if len(spreads) > 0 {
		raw := make([]int64, len(feasible))
		missing := make([]bool, len(feasible))
		for i, ni := range feasible {
			for j, c := range spreads {
				if v, ok := ni.Node.Labels[c.key]; ok {
					raw[i] += spreadCounts[j][topo(c.key, v)]
				} else {
					missing[i] = true
				}
			}
		}
		NormalizeScores(raw, true)
		// Nodes without a constraint's key are outside its domains: no
		// score, as upstream.
		for i := range raw {
			if missing[i] {
				raw[i] = 0
			}
		}
		for i := range totals {
			totals[i] += raw[i] * PodTopologySpreadWeight
		}
	}
	if len(terms) > 0 {
		raw := make([]int64, len(feasible))
		for i, ni := range feasible {
			seen := map[string]bool{}
			for _, t := range terms {
				if v, ok := ni.Node.Labels[t.term.TopologyKey]; ok && !seen[topo(t.term.TopologyKey, v)] {
					seen[topo(t.term.TopologyKey, v)] = true
					raw[i] += affinity[topo(t.term.TopologyKey, v)]
				}
			}
		}
		minMaxNormalize(raw)
		for i := range totals {
			totals[i] += raw[i] * InterPodAffinityWeight
		}
	}
	return totals
}

// minMaxNormalize maps scores to 0..MaxNodeScore between their minimum and
// maximum, as upstream's InterPodAffinity does; all equal gives 0.
func minMaxNormalize(scores []int64) {
	if len(scores) == 0 {
		return
	}
	lo, hi := scores[0], scores[0]
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	for i, s := range scores {
		if hi == lo {
			scores[i] = 0
			continue
		}
		scores[i] = MaxNodeScore * (s - lo) / (hi - lo)
	}
}
