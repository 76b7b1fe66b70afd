package framework

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Upstream's reasons for the filters that look at other pods.
const (
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
	ErrReasonExistingAntiAffinityRules         = "node(s) didn't satisfy existing pods anti-affinity rules"
	ErrReasonTopologySpreadConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonTopologySpreadMissingLabel        = "node(s) didn't match pod topology spread constraints (missing required label)"
)

// PreFilter is what the filters that look at other pods compute once per
// cycle from every node: InterPodAffinity (required terms) and
// PodTopologySpread (DoNotSchedule constraints).
type PreFilter struct {
	pod *corev1.Pod
	// affinityCounts[i] counts, per "key=value" topology domain, the pods
	// matching the pod's i-th required affinity term.
	affinityCounts []map[string]int
	// anyAffinityMatch is whether any pod matches all affinity terms.
	anyAffinityMatch bool
	// antiAffinityCounts[i] is the same for the anti-affinity terms.
	antiAffinityCounts []map[string]int
	// existingAnti counts, per "key=value", existing pods whose required
	// anti-affinity matches the pod.
	existingAnti map[string]int
	// spread holds one entry per DoNotSchedule constraint.
	spread []spreadState
}

type spreadState struct {
	c      corev1.TopologySpreadConstraint
	sel    labels.Selector
	counts map[string]int
	min    int
}

func topo(key, value string) string { return key + "=" + value }

// termMatches reports whether existing, in namespace ns, matches term of a
// pod in ownerNS. A non-empty namespaceSelector is not supported yet and
// selects the owner's namespace; an empty one selects all.
func termMatches(term *corev1.PodAffinityTerm, ownerNS string, existing *corev1.Pod) bool {
	switch {
	case term.NamespaceSelector != nil && len(term.NamespaceSelector.MatchLabels) == 0 && len(term.NamespaceSelector.MatchExpressions) == 0:
	case len(term.Namespaces) > 0:
		found := false
		for _, n := range term.Namespaces {
			found = found || n == existing.Namespace
		}
		if !found {
			return false
		}
	default:
		if existing.Namespace != ownerNS {
			return false
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil || term.LabelSelector == nil {
		return false
	}
	return sel.Matches(labels.Set(existing.Labels))
}

func requiredAffinity(p *corev1.Pod) (aff, anti []corev1.PodAffinityTerm) {
	if a := p.Spec.Affinity; a != nil {
		if a.PodAffinity != nil {
			aff = a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		}
		if a.PodAntiAffinity != nil {
			anti = a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		}
	}
	return aff, anti
}

// NewPreFilter computes the cycle state of pi over nodes. It returns nil
// when neither the pod nor any existing pod has rules these filters check.
func NewPreFilter(pi *PodInfo, nodes []*NodeInfo) *PreFilter {
	pod := pi.Pod
	aff, anti := requiredAffinity(pod)
	var spreads []spreadState
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != corev1.DoNotSchedule {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			continue
		}
		spreads = append(spreads, spreadState{c: c, sel: sel, counts: map[string]int{}})
	}
	anyExistingAnti := false
	for _, ni := range nodes {
		anyExistingAnti = anyExistingAnti || ni.PodsWithRequiredAntiAffinity > 0
	}
	if len(aff) == 0 && len(anti) == 0 && len(spreads) == 0 && !anyExistingAnti {
		return nil
	}
	pf := &PreFilter{pod: pod, existingAnti: map[string]int{}}
	pf.affinityCounts = make([]map[string]int, len(aff))
	for i := range aff {
		pf.affinityCounts[i] = map[string]int{}
	}
	pf.antiAffinityCounts = make([]map[string]int, len(anti))
	for i := range anti {
		pf.antiAffinityCounts[i] = map[string]int{}
	}
	required := nodeaffinity.GetRequiredNodeAffinity(pod)
	for _, ni := range nodes {
		if ni.Node == nil {
			continue
		}
		nodeLabels := ni.Node.Labels
		// Spread domains are the nodes the pod could go to by node
		// affinity (upstream's default nodeAffinityPolicy Honor).
		eligible, _ := required.Match(ni.Node)
		if eligible {
			for i := range spreads {
				if v, ok := nodeLabels[spreads[i].c.TopologyKey]; ok {
					spreads[i].counts[topo(spreads[i].c.TopologyKey, v)] += 0
				}
			}
		}
		for _, ep := range ni.Pods {
			existing := ep.Pod
			if existing.DeletionTimestamp != nil {
				continue
			}
			all := len(aff) > 0
			for i := range aff {
				if v, ok := nodeLabels[aff[i].TopologyKey]; ok && termMatches(&aff[i], pod.Namespace, existing) {
					pf.affinityCounts[i][topo(aff[i].TopologyKey, v)]++
				} else if !termMatches(&aff[i], pod.Namespace, existing) {
					all = false
				}
			}
			pf.anyAffinityMatch = pf.anyAffinityMatch || all
			for i := range anti {
				if v, ok := nodeLabels[anti[i].TopologyKey]; ok && termMatches(&anti[i], pod.Namespace, existing) {
					pf.antiAffinityCounts[i][topo(anti[i].TopologyKey, v)]++
				}
			}
			if ep.hasRequiredAntiAffinity {
				_, theirs := requiredAffinity(existing)
				for i := range theirs {
					if v, ok := nodeLabels[theirs[i].TopologyKey]; ok && termMatches(&theirs[i], existing.Namespace, pod) {
						pf.existingAnti[topo(theirs[i].TopologyKey, v)]++
					}
				}
			}
			if eligible {
				for i := range spreads {
					s := &spreads[i]
					v, ok := nodeLabels[s.c.TopologyKey]
					if ok && existing.Namespace == pod.Namespace && s.sel.Matches(labels.Set(existing.Labels)) {
						s.counts[topo(s.c.TopologyKey, v)]++
					}
				}
			}
		}
	}
	for i := range spreads {
		s := &spreads[i]
		s.min = -1
		for _, n := range s.counts {
			if s.min < 0 || n < s.min {
				s.min = n
			}
		}
		if s.min < 0 || (s.c.MinDomains != nil && int32(len(s.counts)) < *s.c.MinDomains) {
			s.min = 0
		}
	}
	pf.spread = spreads
	return pf
}

// InterPodAffinity checks, in upstream's order, the pod's required
// affinity terms, its anti-affinity terms, and the required anti-affinity
// of the pods already placed.
func (pf *PreFilter) InterPodAffinity(pi *PodInfo, ni *NodeInfo) *Status {
	if pf == nil {
		return nil
	}
	nodeLabels := ni.Node.Labels
	aff, anti := requiredAffinity(pi.Pod)
	if len(aff) > 0 {
		ok := true
		for i := range aff {
			v, has := nodeLabels[aff[i].TopologyKey]
			if !has || pf.affinityCounts[i][topo(aff[i].TopologyKey, v)] == 0 {
				ok = false
				break
			}
		}
		if !ok {
			// The first pod of a group that selects itself may go anywhere
			// the topology keys exist.
			self := !pf.anyAffinityMatch
			for i := range aff {
				_, has := nodeLabels[aff[i].TopologyKey]
				self = self && has && termMatches(&aff[i], pi.Pod.Namespace, pi.Pod)
			}
			if !self {
				return unschedulable(UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
			}
		}
	}
	for i := range anti {
		if v, ok := nodeLabels[anti[i].TopologyKey]; ok && pf.antiAffinityCounts[i][topo(anti[i].TopologyKey, v)] > 0 {
			return unschedulable(Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
		}
	}
	for key, n := range pf.existingAnti {
		k, v := splitTopo(key)
		if got, ok := nodeLabels[k]; ok && n > 0 && got == v {
			return unschedulable(Unschedulable, ErrReasonExistingAntiAffinityRules)
		}
	}
	return nil
}

// PodTopologySpread checks the DoNotSchedule constraints: placing the pod
// must not make its domain exceed the least populated one by more than
// maxSkew.
func (pf *PreFilter) PodTopologySpread(pi *PodInfo, ni *NodeInfo) *Status {
	if pf == nil {
		return nil
	}
	for i := range pf.spread {
		s := &pf.spread[i]
		v, ok := ni.Node.Labels[s.c.TopologyKey]
		if !ok {
			return unschedulable(UnschedulableAndUnresolvable, ErrReasonTopologySpreadMissingLabel)
		}
		self := 0
		if s.sel.Matches(labels.Set(pi.Pod.Labels)) {
			self = 1
		}
		if s.counts[topo(s.c.TopologyKey, v)]+self-s.min > int(s.c.MaxSkew) {
			return unschedulable(Unschedulable, ErrReasonTopologySpreadConstraintsNotMatch)
		}
	}
	return nil
}

func splitTopo(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
