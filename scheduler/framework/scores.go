package framework

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// MaxNodeScore is the best score a score plugin gives a node.
const MaxNodeScore int64 = 100

// Scorer ranks the nodes that passed the filters. Score gives a raw score
// per node; Normalize, when set, maps the raw scores of all nodes to
// 0..MaxNodeScore. The weighted sum of the normalized scores ranks nodes.
type Scorer struct {
	Name      string
	Weight    int64
	Score     func(pi *PodInfo, ni *NodeInfo) int64
	Normalize func(scores []int64)
}

// Scorers are upstream's default score plugins that Strata implements, with
// upstream's default weights.
var Scorers = []Scorer{
	{Name: "NodeResourcesFit", Weight: 1, Score: LeastAllocated},
	{Name: "NodeResourcesBalancedAllocation", Weight: 1, Score: BalancedAllocation},
	{Name: "NodeAffinity", Weight: 2, Score: PreferredNodeAffinity, Normalize: func(s []int64) { NormalizeScores(s, false) }},
	{Name: "TaintToleration", Weight: 3, Score: IntolerablePreferNoScheduleTaints, Normalize: func(s []int64) { NormalizeScores(s, true) }},
}

// ScoreNodes returns the weighted total score of each node.
func ScoreNodes(pi *PodInfo, nodes []*NodeInfo) []int64 {
	totals := make([]int64, len(nodes))
	scores := make([]int64, len(nodes))
	for _, s := range Scorers {
		for i, ni := range nodes {
			scores[i] = s.Score(pi, ni)
		}
		if s.Normalize != nil {
			s.Normalize(scores)
		}
		for i := range nodes {
			totals[i] += scores[i] * s.Weight
		}
	}
	return totals
}

// LeastAllocated favours nodes with more free cpu and memory once the pod
// is placed: for each, (allocatable - requested) * 100 / allocatable,
// averaged. Requests here default cpu and memory for containers that have
// none.
func LeastAllocated(pi *PodInfo, ni *NodeInfo) int64 {
	score := func(requested, allocatable int64) int64 {
		if allocatable == 0 || requested > allocatable {
			return 0
		}
		return (allocatable - requested) * MaxNodeScore / allocatable
	}
	cpu := score(ni.NonZeroRequested.MilliCPU+pi.NonZeroRequests.MilliCPU, ni.Allocatable.MilliCPU)
	mem := score(ni.NonZeroRequested.Memory+pi.NonZeroRequests.Memory, ni.Allocatable.Memory)
	return (cpu + mem) / 2
}

// BalancedAllocation favours nodes where cpu and memory would be used in
// the same proportion once the pod is placed: 100 * (1 - standard deviation
// of the two usage fractions).
func BalancedAllocation(pi *PodInfo, ni *NodeInfo) int64 {
	fraction := func(requested, allocatable int64) float64 {
		if allocatable == 0 {
			return 0
		}
		return math.Min(1, float64(requested)/float64(allocatable))
	}
	cpu := fraction(ni.Requested.MilliCPU+pi.Requests.MilliCPU, ni.Allocatable.MilliCPU)
	mem := fraction(ni.Requested.Memory+pi.Requests.Memory, ni.Allocatable.Memory)
	std := math.Abs(cpu-mem) / 2
	return int64((1 - std) * float64(MaxNodeScore))
}

// PreferredNodeAffinity sums the weights of the pod's preferred node
// affinity terms the node matches.
func PreferredNodeAffinity(pi *PodInfo, ni *NodeInfo) int64 {
	a := pi.Pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return 0
	}
	terms, err := nodeaffinity.NewPreferredSchedulingTerms(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	if err != nil {
		return 0
	}
	return terms.Score(ni.Node)
}

// IntolerablePreferNoScheduleTaints counts the node's PreferNoSchedule
// taints the pod does not tolerate (fewer is better: normalized reversed).
func IntolerablePreferNoScheduleTaints(pi *PodInfo, ni *NodeInfo) int64 {
	var n int64
	for i := range ni.Node.Spec.Taints {
		t := &ni.Node.Spec.Taints[i]
		if t.Effect != corev1.TaintEffectPreferNoSchedule {
			continue
		}
		if !corev1helpers.TolerationsTolerateTaint(klog.Background(), pi.Pod.Spec.Tolerations, t, false) {
			n++
		}
	}
	return n
}

// NormalizeScores scales scores to 0..MaxNodeScore relative to the highest;
// reverse makes the lowest raw score the best, as upstream's
// DefaultNormalizeScore.
func NormalizeScores(scores []int64, reverse bool) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i] = MaxNodeScore
			}
		}
		return
	}
	for i, s := range scores {
		s = MaxNodeScore * s / highest
		if reverse {
			s = MaxNodeScore - s
		}
		scores[i] = s
	}
}
