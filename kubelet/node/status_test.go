package node

import (
	"encoding/json"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/utils/ptr"
)

func testMachine() Machine {
	return Machine{
		NumCPU: 4, MemoryTotal: 8 << 30, MemoryAvailable: 4 << 30, SwapTotal: 0,
		Filesystem:    Filesystem{Capacity: 100 << 30, Available: 50 << 30, Inodes: 1000, InodesFree: 900},
		PIDs:          PIDs{Max: 100000, Running: 300},
		HugePages:     []HugePages{{PageSize: 2 << 20}},
		MachineID:     "mid",
		SystemUUID:    "uuid",
		BootID:        "boot-1",
		KernelVersion: "6.8.0",
		OSImage:       "Ubuntu 24.04 LTS",
	}
}

func testInputs(now time.Time) statusInputs {
	rt := runtimeState{name: "containerd", version: "1.7.20"}
	rt.observeStatus(runtimeStatus(true, true, "", ""), now)
	return statusInputs{
		machine:        testMachine(),
		addresses:      Addresses([]string{"10.0.0.5"}, "n1"),
		runtime:        rt,
		maxPods:        110,
		port:           10250,
		kubeletVersion: "v1.37.2",
		now:            now,
	}
}

func TestSetNodeStatus(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	events := setNodeStatus(node, testInputs(t0.Time))
	want := corev1.NodeStatus{
		Capacity: corev1.ResourceList{
			"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi"), "pods": resource.MustParse("110"),
			"ephemeral-storage": resource.MustParse("100Gi"), "hugepages-2Mi": resource.MustParse("0"),
		},
		Allocatable: corev1.ResourceList{
			"cpu": resource.MustParse("4"), "memory": resource.MustParse("8092Mi"), "pods": resource.MustParse("110"),
			"ephemeral-storage": resource.MustParse("90Gi"), "hugepages-2Mi": resource.MustParse("0"),
		},
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", t0, t0),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", t0, t0),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available", t0, t0),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status", t0, t0),
		},
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}, {Type: corev1.NodeHostName, Address: "n1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID: "mid", SystemUUID: "uuid", BootID: "boot-1", KernelVersion: "6.8.0", OSImage: "Ubuntu 24.04 LTS",
			ContainerRuntimeVersion: "containerd://1.7.20", KubeletVersion: "v1.37.2",
			OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH,
			Swap: &corev1.NodeSwapStatus{Capacity: ptr.To[int64](0)},
		},
		RuntimeHandlers: []corev1.NodeRuntimeHandler{{Name: "runc", Features: &corev1.NodeRuntimeHandlerFeatures{RecursiveReadOnlyMounts: ptr.To(true), UserNamespaces: ptr.To(false)}}},
		Features:        &corev1.NodeFeatures{SupplementalGroupsPolicy: ptr.To(true)},
	}
	if diff := cmp.Diff(want, node.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	wantEvents := []nodeEvent{
		{"Normal", "NodeHasSufficientMemory", "Node n1 status is now: NodeHasSufficientMemory"},
		{"Normal", "NodeHasNoDiskPressure", "Node n1 status is now: NodeHasNoDiskPressure"},
		{"Normal", "NodeHasSufficientPID", "Node n1 status is now: NodeHasSufficientPID"},
	}
	if diff := cmp.Diff(wantEvents, events, cmp.AllowUnexported(nodeEvent{})); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Ten seconds later with the network down and after a reboot.
	in := testInputs(t1.Time)
	in.runtime.observeStatus(runtimeStatus(true, false, "NetworkPluginNotReady", "cni plugin not initialized"), t1.Time)
	in.machine.BootID = "boot-2"
	node.Status.Capacity["example.com/dongle"] = resource.MustParse("2")
	events = setNodeStatus(node, in)
	ready := node.Status.Conditions[3]
	wantReady := cond(corev1.NodeReady, corev1.ConditionFalse, "KubeletNotReady",
		"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized", t1, t1)
	if diff := cmp.Diff(wantReady, ready); diff != "" {
		t.Errorf("ready (-want +got):\n%s", diff)
	}
	if c := node.Status.Conditions[0]; c.LastHeartbeatTime != t1 || c.LastTransitionTime != t0 {
		t.Errorf("memory pressure times: heartbeat %v transition %v", c.LastHeartbeatTime, c.LastTransitionTime)
	}
	if q := node.Status.Allocatable["example.com/dongle"]; q.String() != "2" {
		t.Errorf("an extended resource of the capacity is not allocatable: %v", node.Status.Allocatable)
	}
	wantEvents = []nodeEvent{
		{"Warning", "Rebooted", "Node n1 has been rebooted, boot id: boot-2"},
		{"Normal", "NodeNotReady", "Node n1 status is now: NodeNotReady"},
	}
	if diff := cmp.Diff(wantEvents, events, cmp.AllowUnexported(nodeEvent{})); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestStatusChanged(t *testing.T) {
	base := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	setNodeStatus(base, testInputs(t0.Time))
	for _, tc := range []struct {
		name   string
		mutate func(*corev1.NodeStatus)
		want   bool
	}{
		{"identical", func(*corev1.NodeStatus) {}, false},
		{"heartbeat only", func(s *corev1.NodeStatus) { s.Conditions[3].LastHeartbeatTime = t1 }, false},
		{"conditions reordered", func(s *corev1.NodeStatus) { s.Conditions[0], s.Conditions[1] = s.Conditions[1], s.Conditions[0] }, false},
		{"condition status", func(s *corev1.NodeStatus) { s.Conditions[3].Status = corev1.ConditionFalse }, true},
		{"condition message", func(s *corev1.NodeStatus) { s.Conditions[3].Message = "x" }, true},
		{"extra condition", func(s *corev1.NodeStatus) { s.Conditions = append(s.Conditions, corev1.NodeCondition{Type: "X"}) }, true},
		{"address", func(s *corev1.NodeStatus) { s.Addresses[0].Address = "10.0.0.6" }, true},
		{"capacity", func(s *corev1.NodeStatus) { s.Capacity[corev1.ResourcePods] = resource.MustParse("100") }, true},
		{"same quantity written differently", func(s *corev1.NodeStatus) { s.Capacity[corev1.ResourceCPU] = resource.MustParse("4000m") }, false},
		{"runtime version", func(s *corev1.NodeStatus) { s.NodeInfo.ContainerRuntimeVersion = "containerd://2.0.0" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			computed := base.Status.DeepCopy()
			tc.mutate(computed)
			if got := statusChanged(&base.Status, computed); got != tc.want {
				t.Errorf("statusChanged = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStatusPatch(t *testing.T) {
	stored := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"a": "b"}}}
	setNodeStatus(stored, testInputs(t0.Time))
	stored.Status.Conditions = append(stored.Status.Conditions, corev1.NodeCondition{Type: "NetworkUnavailable", Status: corev1.ConditionFalse})

	computed := stored.DeepCopy()
	in := testInputs(t1.Time)
	in.addresses = Addresses([]string{"10.0.0.9"}, "n1")
	setNodeStatus(computed, in)
	computed.Labels[corev1.LabelOSStable] = "linux"

	patch, err := statusPatch(stored, computed)
	if err != nil {
		t.Fatal(err)
	}
	// Applying the patch to what is stored gives what was computed.
	storedJSON, _ := json.Marshal(stored)
	merged, err := strategicpatch.StrategicMergePatch(storedJSON, patch, corev1.Node{})
	if err != nil {
		t.Fatalf("applying %s: %v", patch, err)
	}
	var got corev1.Node
	if err := json.Unmarshal(merged, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(computed, &got); diff != "" {
		t.Errorf("patched node (-want +got):\n%s\npatch: %s", diff, patch)
	}
	// Only the changes are sent: not the capacity, nor the node info.
	var doc map[string]map[string]any
	if err := json.Unmarshal(patch, &doc); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"capacity", "allocatable", "nodeInfo"} {
		if _, ok := doc["status"][field]; ok {
			t.Errorf("patch %s carries the unchanged %s", patch, field)
		}
	}
	if _, ok := doc["spec"]; ok {
		t.Errorf("patch %s carries the spec", patch)
	}
}

func TestReconcileLabels(t *testing.T) {
	want := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{
		corev1.LabelHostname: "n1", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
		labelBetaOS: "linux", labelBetaArch: "amd64", "pool": "a",
	}}}
	for _, tc := range []struct {
		name     string
		existing map[string]string
		want     map[string]string
		changed  bool
	}{
		{
			name:     "up to date",
			existing: map[string]string{corev1.LabelHostname: "n1", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64", labelBetaOS: "linux", labelBetaArch: "amd64"},
			want:     map[string]string{corev1.LabelHostname: "n1", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64", labelBetaOS: "linux", labelBetaArch: "amd64"},
		},
		{
			name:     "stale hostname and arch; other labels and --node-labels untouched",
			existing: map[string]string{corev1.LabelHostname: "old", corev1.LabelArchStable: "arm64", "node-role.kubernetes.io/worker": "", "zone": "x"},
			want: map[string]string{corev1.LabelHostname: "n1", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64", labelBetaOS: "linux", labelBetaArch: "amd64",
				"node-role.kubernetes.io/worker": "", "zone": "x"},
			changed: true,
		},
		{
			name:    "no labels at all",
			want:    map[string]string{corev1.LabelHostname: "n1", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64", labelBetaOS: "linux", labelBetaArch: "amd64"},
			changed: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			existing := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: tc.existing}}
			changed := reconcileLabels(want, existing)
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			if diff := cmp.Diff(tc.want, existing.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}
