package framework

import (
	"fmt"
	"sort"
	"strings"
)

// Upstream's words for the preemption half of the message. Strata does not
// preempt; it reports what upstream's preemption reports when no lower
// priority pod could be evicted.
const (
	ReasonPreemptionNotHelpful = "Preemption is not helpful for scheduling"
	ReasonNoPreemptionVictims  = "No preemption victims found for incoming pod"
	// NoNodesAvailable is the message when the cluster has no node.
	NoNodesAvailable = "no nodes available to schedule pods"
)

// FitErrorMessage explains why a pod fits none of numNodes nodes, given the
// failing status of each: upstream's "0/3 nodes are available: 1 Insufficient
// cpu, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are
// available: 1 No preemption victims found for incoming pod, 2 Preemption is
// not helpful for scheduling."
func FitErrorMessage(numNodes int, statuses []*Status) string {
	if numNodes == 0 {
		return NoNodesAvailable
	}
	reasons := map[string]int{}
	preemption := map[string]int{}
	for _, s := range statuses {
		if s.IsSuccess() {
			continue
		}
		for _, r := range s.Reasons {
			reasons[r]++
		}
		if s.Code == UnschedulableAndUnresolvable {
			preemption[ReasonPreemptionNotHelpful]++
		} else {
			preemption[ReasonNoPreemptionVictims]++
		}
	}
	msg := fmt.Sprintf("0/%d nodes are available:", numNodes)
	if h := histogram(reasons); h != "" {
		msg += " " + h + "."
	}
	msg += fmt.Sprintf(" preemption: 0/%d nodes are available:", numNodes)
	if h := histogram(preemption); h != "" {
		msg += " " + h + "."
	}
	return msg
}

// histogram renders counts as upstream does: "<count> <reason>" sorted as
// strings, joined with ", ".
func histogram(counts map[string]int) string {
	parts := make([]string, 0, len(counts))
	for r, n := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
