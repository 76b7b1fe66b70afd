package framework

import "testing"

func TestFitErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		numNodes int
		statuses []*Status
		want     string
	}{
		{"no nodes", 0, nil, "no nodes available to schedule pods"},
		{"the brief's example", 3, []*Status{
			fail(Unschedulable, "Insufficient cpu"),
			fail(UnschedulableAndUnresolvable, ErrReasonUntoleratedTaint),
			fail(UnschedulableAndUnresolvable, ErrReasonUntoleratedTaint),
		}, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."},
		{"all unresolvable", 3, []*Status{
			fail(UnschedulableAndUnresolvable, "Insufficient cpu"),
			fail(UnschedulableAndUnresolvable, "Insufficient cpu"),
			fail(UnschedulableAndUnresolvable, ErrReasonNodeAffinity),
		}, "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."},
		{"a node with several reasons counts each", 2, []*Status{
			fail(Unschedulable, "Insufficient cpu", "Insufficient memory"),
			fail(Unschedulable, "Insufficient memory"),
		}, "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."},
		{"sorted as strings", 12, []*Status{
			fail(Unschedulable, ErrReasonNodePorts), fail(Unschedulable, ErrReasonNodePorts),
			fail(UnschedulableAndUnresolvable, ErrReasonUnschedulable),
			fail(Unschedulable, "Too many pods"), fail(Unschedulable, "Too many pods"), fail(Unschedulable, "Too many pods"),
			fail(Unschedulable, "Too many pods"), fail(Unschedulable, "Too many pods"), fail(Unschedulable, "Too many pods"),
			fail(Unschedulable, "Too many pods"), fail(Unschedulable, "Too many pods"), fail(Unschedulable, "Too many pods"),
		}, "0/12 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't have free ports for the requested pod ports, 9 Too many pods. preemption: 0/12 nodes are available: 1 Preemption is not helpful for scheduling, 11 No preemption victims found for incoming pod."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FitErrorMessage(tc.numNodes, tc.statuses); got != tc.want {
				t.Errorf("message\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}
