package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/strata-dev/strata/scheduler/framework"
)

func testNode(name, cpu string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse("4Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		}},
	}
}

func testPod(name, cpu, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name)},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
		}}}},
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, tc := range []struct{ all, want int }{
		{0, 0}, {10, 10}, {99, 99}, {100, 100}, {500, 230}, {1000, 420}, {5000, 500}, {10000, 500},
	} {
		if got := numFeasibleNodesToFind(tc.all); got != tc.want {
			t.Errorf("numFeasibleNodesToFind(%d) = %d, want %d", tc.all, got, tc.want)
		}
	}
}

func TestScheduleAccountsForAssumedPods(t *testing.T) {
	c := newCache()
	c.setNode(testNode("a", "1"))
	c.setNode(testNode("b", "1"))
	first := framework.NewPodInfo(testPod("p1", "800m", ""))
	res := c.schedule(first)
	if res.node == "" {
		t.Fatalf("p1 not placed: %+v", res)
	}
	c.assume(first, res.node)
	second := c.schedule(framework.NewPodInfo(testPod("p2", "800m", "")))
	if second.node == "" || second.node == res.node {
		t.Fatalf("p2 placed on %q, want the other node than p1's %q", second.node, res.node)
	}
	c.assume(framework.NewPodInfo(testPod("p2", "800m", "")), second.node)
	third := c.schedule(framework.NewPodInfo(testPod("p3", "800m", "")))
	if third.node != "" || third.numNodes != 2 || len(third.statuses) != 2 {
		t.Fatalf("p3 = %+v, want no node and two failing statuses", third)
	}
	if got, want := framework.FitErrorMessage(third.numNodes, third.statuses),
		"0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	// A failed binding gives the room back.
	c.forget("p1")
	if res := c.schedule(framework.NewPodInfo(testPod("p3", "800m", ""))); res.node != first.Pod.Name && res.node == "" {
		t.Errorf("p3 not placed after p1 was forgotten")
	}
}

func TestCacheConfirmsAndRemovesPods(t *testing.T) {
	c := newCache()
	c.setNode(testNode("a", "1"))
	pi := framework.NewPodInfo(testPod("p", "500m", ""))
	c.assume(pi, "a")
	if !c.isAssumed("p") {
		t.Fatal("p not assumed")
	}
	// The informer sees the binding: confirmed, counted once.
	c.setPod(testPod("p", "500m", "a"))
	if c.isAssumed("p") || c.nodes["a"].Requested.MilliCPU != 500 {
		t.Errorf("after confirmation: assumed %v, requested %d", c.isAssumed("p"), c.nodes["a"].Requested.MilliCPU)
	}
	// forget does not drop a confirmed pod.
	c.forget("p")
	if c.nodes["a"].Requested.MilliCPU != 500 {
		t.Errorf("forget dropped a bound pod")
	}
	// A terminal pod frees its resources.
	done := testPod("p", "500m", "a")
	done.Status.Phase = corev1.PodSucceeded
	c.setPod(done)
	if c.nodes["a"].Requested.MilliCPU != 0 {
		t.Errorf("a terminal pod still counts: %d", c.nodes["a"].Requested.MilliCPU)
	}
	// Pods seen before their node are kept; removing the node keeps them.
	c.setPod(testPod("q", "1", "later"))
	if res := c.schedule(framework.NewPodInfo(testPod("r", "100m", ""))); res.numNodes != 1 {
		t.Errorf("a node that does not exist yet was considered: %+v", res)
	}
	c.setNode(testNode("later", "2"))
	if c.nodes["later"].Requested.MilliCPU != 1000 {
		t.Errorf("pod seen before its node not counted")
	}
	c.removeNode("later")
	if len(c.order) != 1 || c.nodes["later"] == nil {
		t.Errorf("removing a node with pods: order %v, info %v", c.order, c.nodes["later"])
	}
	c.removePod("q")
	if _, ok := c.nodes["later"]; ok {
		t.Errorf("empty info of a deleted node kept")
	}
}

func TestResponsible(t *testing.T) {
	gated := testPod("g", "1", "")
	gated.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "wait"}}
	other := testPod("o", "1", "")
	other.Spec.SchedulerName = "other"
	deleting := testPod("d", "1", "")
	deleting.DeletionTimestamp = &metav1.Time{}
	for _, tc := range []struct {
		pod  *corev1.Pod
		want bool
	}{
		{testPod("p", "1", ""), true},
		{testPod("b", "1", "node"), false},
		{gated, false},
		{other, false},
		{deleting, false},
	} {
		if got := responsible(tc.pod); got != tc.want {
			t.Errorf("responsible(%s) = %v, want %v", tc.pod.Name, got, tc.want)
		}
	}
}
