package node

import (
	"context"
	"errors"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	crifake "github.com/strata-dev/strata/kubelet/cri/fake"
)

// testAgent is an agent over a fake clientset, a fake runtime, a fixed
// machine and a fake clock.
type testAgent struct {
	*Agent
	client   *fake.Clientset
	runtime  *crifake.Runtime
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
	machine  *machineBox
}

// machineBox is a Machine a test may change.
type machineBox struct {
	mu sync.Mutex
	m  Machine
}

func (b *machineBox) ReadMachine(context.Context) (Machine, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m, nil
}

func (b *machineBox) set(f func(*Machine)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.m)
}

func newTestAgent(t *testing.T, mutate func(*Config), objects ...runtime.Object) *testAgent {
	t.Helper()
	ta := &testAgent{
		client:   fake.NewClientset(objects...),
		clock:    clocktesting.NewFakeClock(t0.Time),
		recorder: events.NewFakeRecorder(100),
		machine:  &machineBox{m: testMachine()},
	}
	ta.runtime = crifake.New(ta.clock)
	cfg := Config{
		Client:         ta.client,
		NodeName:       "n1",
		NodeIPs:        []string{"10.0.0.5"},
		PodCIDR:        "10.88.0.0/16",
		Runtime:        ta.runtime,
		KubeletVersion: "v1.37.2",
		Clock:          ta.clock,
		Recorder:       ta.recorder,
		Machine:        ta.machine,
		Images:         ta.runtime,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ta.Agent = a
	return ta
}

func (ta *testAgent) node(t *testing.T) *corev1.Node {
	t.Helper()
	n, err := ta.client.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// events drains the recorded events.
func (ta *testAgent) events() []string {
	var out []string
	for {
		select {
		case e := <-ta.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// actions lists the writes the agent made, as "verb resource[/sub]".
func (ta *testAgent) writes() []string {
	var out []string
	for _, a := range ta.client.Actions() {
		if a.GetVerb() == "get" || a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		r := a.GetResource().Resource
		if a.GetSubresource() != "" {
			r += "/" + a.GetSubresource()
		}
		out = append(out, a.GetVerb()+" "+r)
	}
	return out
}

func readyCondition(n *corev1.Node) corev1.NodeCondition {
	if i := findCondition(&n.Status, corev1.NodeReady); i >= 0 {
		return n.Status.Conditions[i]
	}
	return corev1.NodeCondition{}
}

func TestNewValidates(t *testing.T) {
	base := func() Config { return Config{Client: fake.NewClientset(), NodeName: "n1", Runtime: crifake.New(nil)} }
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no name", func(c *Config) { c.NodeName = "" }, "no node name"},
		{"no runtime", func(c *Config) { c.Runtime = nil }, "no container runtime"},
		{"no client", func(c *Config) { c.Client = nil }, "no API client"},
		{"kubernetes.io label", func(c *Config) { c.Labels = map[string]string{"node-role.kubernetes.io/worker": ""} }, "unknown 'kubernetes.io' or 'k8s.io' labels"},
		{"bad node IP", func(c *Config) { c.NodeIPs = []string{"n1"} }, `invalid node IP "n1"`},
		{"bad pod CIDR", func(c *Config) { c.PodCIDR = "10.88.0.0" }, "pod CIDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mutate(&cfg)
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want …%s…", err, tc.want)
			}
		})
	}
	a, err := New(base())
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.Hostname != "n1" || a.cfg.Port != 10250 || a.cfg.MaxPods != 110 || a.cfg.LeaseDuration != 40*time.Second ||
		a.cfg.StatusUpdateFrequency != 10*time.Second || a.lease.RenewInterval() != 10*time.Second || !strings.HasPrefix(a.cfg.KubeletVersion, "v1.") {
		t.Errorf("defaults: %+v", a.cfg)
	}
}

func TestRegisterCreatesTheNode(t *testing.T) {
	ta := newTestAgent(t, func(c *Config) {
		c.Hostname = "n1.example.com"
		c.Labels = map[string]string{"pool": "a", "node.kubernetes.io/instance-type": "big"}
		c.Taints = []corev1.Taint{{Key: "dedicated", Value: "ci", Effect: corev1.TaintEffectNoSchedule}}
	})
	ctx := context.Background()
	ta.record(nodeEvent{"Normal", "Starting", "Starting kubelet."})
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	n := ta.node(t)
	wantLabels := map[string]string{
		"kubernetes.io/hostname": "n1.example.com", "kubernetes.io/os": goruntime.GOOS, "kubernetes.io/arch": goruntime.GOARCH,
		"beta.kubernetes.io/os": goruntime.GOOS, "beta.kubernetes.io/arch": goruntime.GOARCH,
		"pool": "a", "node.kubernetes.io/instance-type": "big",
	}
	if diff := cmp.Diff(wantLabels, n.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	wantSpec := corev1.NodeSpec{
		PodCIDR: "10.88.0.0/16", PodCIDRs: []string{"10.88.0.0/16"},
		Taints: []corev1.Taint{{Key: "dedicated", Value: "ci", Effect: corev1.TaintEffectNoSchedule}},
	}
	if diff := cmp.Diff(wantSpec, n.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	wantAddresses := []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}, {Type: corev1.NodeHostName, Address: "n1.example.com"}}
	if diff := cmp.Diff(wantAddresses, n.Status.Addresses); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if got := readyCondition(n); got.Status != corev1.ConditionTrue || got.Reason != "KubeletReady" {
		t.Errorf("ready condition %+v", got)
	}
	if got := n.Status.NodeInfo.ContainerRuntimeVersion; got != "fake://1.0.0" {
		t.Errorf("containerRuntimeVersion = %q", got)
	}
	if n.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 || n.Status.NodeInfo.KubeletVersion != "v1.37.2" {
		t.Errorf("daemon endpoints %+v, kubelet version %q", n.Status.DaemonEndpoints, n.Status.NodeInfo.KubeletVersion)
	}
	wantEvents := []string{
		"Normal Starting Starting kubelet.",
		"Normal NodeHasSufficientMemory Node n1 status is now: NodeHasSufficientMemory",
		"Normal NodeHasNoDiskPressure Node n1 status is now: NodeHasNoDiskPressure",
		"Normal NodeHasSufficientPID Node n1 status is now: NodeHasSufficientPID",
	}
	if diff := cmp.Diff(wantEvents, ta.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"10.0.0.5"}, ta.HostIPs()); diff != "" {
		t.Errorf("host IPs (-want +got):\n%s", diff)
	}
}

func TestStatusReportsTheNodesImages(t *testing.T) {
	ta := newTestAgent(t, nil)
	ctx := context.Background()
	ta.runtime.AddImage("strata.local/busybox:1.35.0")
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	want := []corev1.ContainerImage{{Names: []string{"strata.local/busybox:1.35.0"}, SizeBytes: 1 << 20}}
	if diff := cmp.Diff(want, ta.node(t).Status.Images); diff != "" {
		t.Errorf("status.images (-want +got):\n%s", diff)
	}
}

func TestRegisterAdoptsAnExistingNode(t *testing.T) {
	existing := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "uid-1", Labels: map[string]string{
			"kubernetes.io/hostname": "old-name", "node-role.kubernetes.io/control-plane": "", "pool": "old",
		}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "set-by-admin", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", t0, t0)},
			NodeInfo:   corev1.NodeSystemInfo{BootID: "boot-1"},
		},
	}
	ta := newTestAgent(t, func(c *Config) {
		c.Labels = map[string]string{"pool": "new"}
		c.Taints = []corev1.Taint{{Key: "from-flags", Effect: corev1.TaintEffectNoExecute}}
	}, existing)
	ctx := context.Background()
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	n := ta.node(t)
	wantLabels := map[string]string{
		// Well-known labels are reconciled; the others (and --node-labels) are not.
		"kubernetes.io/hostname": "n1", "kubernetes.io/os": goruntime.GOOS, "kubernetes.io/arch": goruntime.GOARCH,
		"beta.kubernetes.io/os": goruntime.GOOS, "beta.kubernetes.io/arch": goruntime.GOARCH,
		"node-role.kubernetes.io/control-plane": "", "pool": "old",
	}
	if diff := cmp.Diff(wantLabels, n.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(existing.Spec.Taints, n.Spec.Taints); diff != "" {
		t.Errorf("taints changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"10.88.0.0/16"}, n.Spec.PodCIDRs); diff != "" || n.Spec.PodCIDR != "10.88.0.0/16" {
		t.Errorf("pod CIDR %q %v", n.Spec.PodCIDR, n.Spec.PodCIDRs)
	}
	if len(ta.events()) != 0 {
		t.Errorf("events for a node that was not created")
	}

	// The first status update takes the node from Unknown to Ready.
	if err := ta.updateNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	n = ta.node(t)
	if got := readyCondition(n); got.Status != corev1.ConditionTrue || !got.LastTransitionTime.Equal(&t0) {
		// The transition time is now, which is t0 on the fake clock too.
		t.Errorf("ready condition %+v", got)
	}
	if diff := cmp.Diff([]string{
		"Normal NodeHasSufficientMemory Node n1 status is now: NodeHasSufficientMemory",
		"Normal NodeHasNoDiskPressure Node n1 status is now: NodeHasNoDiskPressure",
		"Normal NodeHasSufficientPID Node n1 status is now: NodeHasSufficientPID",
		"Normal NodeReady Node n1 status is now: NodeReady",
	}, ta.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// The lease is owned by the existing Node.
	if err := ta.lease.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := ta.client.CoordinationV1().Leases(LeaseNamespace).Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "uid-1"}}, l.OwnerReferences); diff != "" {
		t.Errorf("owner (-want +got):\n%s", diff)
	}
}

func TestRegisterRetriesWithBackoff(t *testing.T) {
	ta := newTestAgent(t, nil)
	failures := 2
	ta.client.PrependReactor("create", "nodes", func(clienttesting.Action) (bool, runtime.Object, error) {
		if failures > 0 {
			failures--
			return true, nil, apierrors.NewServiceUnavailable("starting")
		}
		return false, nil, nil
	})
	done := make(chan error, 1)
	go func() { _, err := ta.register(context.Background()); done <- err }()
	// 100ms, then 200ms.
	for _, step := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
		waitForWaiters(t, ta.clock)
		ta.clock.Step(step)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("registration did not finish")
	}
	ta.node(t)
}

func waitForWaiters(t *testing.T, clk *clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !clk.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("nothing waits on the clock")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStatusIsWrittenOnChangeOrEveryFiveMinutes(t *testing.T) {
	ta := newTestAgent(t, nil)
	ctx := context.Background()
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	ta.events()
	ta.client.ClearActions()
	statusWrites := func() int {
		n := 0
		for _, w := range ta.writes() {
			if w == "patch nodes/status" {
				n++
			}
		}
		ta.client.ClearActions()
		return n
	}
	sync := func() {
		t.Helper()
		ta.checkRuntime(ctx)
		if err := ta.updateNodeStatus(ctx); err != nil {
			t.Fatal(err)
		}
	}

	sync() // The first update after registration is written.
	if n := statusWrites(); n != 1 {
		t.Errorf("first update: %d status writes, want 1", n)
	}
	firstHeartbeat := readyCondition(ta.node(t)).LastHeartbeatTime
	for i := 0; i < 29; i++ { // 10s … 4m50s: nothing changed.
		ta.clock.Step(10 * time.Second)
		sync()
	}
	if n := statusWrites(); n != 0 {
		t.Errorf("unchanged status written %d times within 5 minutes", n)
	}
	if got := readyCondition(ta.node(t)).LastHeartbeatTime; !got.Equal(&firstHeartbeat) {
		t.Errorf("heartbeat moved without a write: %v", got)
	}
	ta.clock.Step(10 * time.Second) // 5m after the last write.
	sync()
	if n := statusWrites(); n != 1 {
		t.Errorf("after 5 minutes: %d status writes, want 1", n)
	}
	if got := readyCondition(ta.node(t)).LastHeartbeatTime; !got.Time.Equal(ta.clock.Now()) {
		t.Errorf("heartbeat %v, want %v", got, ta.clock.Now())
	}

	// The network goes down: written at once, NotReady with the runtime's message.
	readySince := readyCondition(ta.node(t)).LastTransitionTime
	ta.clock.Step(10 * time.Second)
	ta.runtime.SetCondition(runtimeapi.NetworkReady, false, "NetworkPluginNotReady", "Network plugin returns error: cni plugin not initialized")
	sync()
	if n := statusWrites(); n != 1 {
		t.Errorf("network down: %d status writes, want 1", n)
	}
	got := readyCondition(ta.node(t))
	want := cond(corev1.NodeReady, corev1.ConditionFalse, "KubeletNotReady",
		"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
		metav1.NewTime(ta.clock.Now()), metav1.NewTime(ta.clock.Now()))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ready condition (-want +got):\n%s", diff)
	}
	if got.LastTransitionTime.Equal(&readySince) {
		t.Errorf("transition time did not move")
	}
	if diff := cmp.Diff([]string{"Normal NodeNotReady Node n1 status is now: NodeNotReady"}, ta.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Memory runs low: MemoryPressure, written at once.
	ta.clock.Step(10 * time.Second)
	ta.machine.set(func(m *Machine) { m.MemoryAvailable = 50 << 20 })
	sync()
	if n := statusWrites(); n != 1 {
		t.Errorf("memory pressure: %d status writes, want 1", n)
	}
	n := ta.node(t)
	if c := n.Status.Conditions[findCondition(&n.Status, corev1.NodeMemoryPressure)]; c.Status != corev1.ConditionTrue || c.Reason != "KubeletHasInsufficientMemory" {
		t.Errorf("memory pressure %+v", c)
	}
	if diff := cmp.Diff([]string{"Normal NodeHasInsufficientMemory Node n1 status is now: NodeHasInsufficientMemory"}, ta.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Everything recovers.
	ta.clock.Step(10 * time.Second)
	ta.runtime.SetCondition(runtimeapi.NetworkReady, true, "", "")
	ta.machine.set(func(m *Machine) { m.MemoryAvailable = 4 << 30 })
	sync()
	if got := readyCondition(ta.node(t)); got.Status != corev1.ConditionTrue {
		t.Errorf("ready condition %+v", got)
	}
	if diff := cmp.Diff([]string{
		"Normal NodeHasSufficientMemory Node n1 status is now: NodeHasSufficientMemory",
		"Normal NodeReady Node n1 status is now: NodeReady",
	}, ta.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestStatusKeepsWhatOthersWrote(t *testing.T) {
	ta := newTestAgent(t, nil)
	ctx := context.Background()
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	// A network plugin sets its condition; an admin advertises a resource.
	n := ta.node(t)
	n.Status.Conditions = append(n.Status.Conditions, cond(corev1.NodeNetworkUnavailable, corev1.ConditionFalse, "RouteCreated", "routes created", t0, t0))
	n.Status.Capacity["example.com/dongle"] = *resourceQuantity("4")
	if _, err := ta.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ta.clock.Step(10 * time.Second)
	ta.runtime.SetCondition(runtimeapi.NetworkReady, false, "x", "y")
	ta.checkRuntime(ctx)
	if err := ta.updateNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	n = ta.node(t)
	if i := findCondition(&n.Status, corev1.NodeNetworkUnavailable); i < 0 || n.Status.Conditions[i].Reason != "RouteCreated" {
		t.Errorf("the network plugin's condition was lost: %+v", n.Status.Conditions)
	}
	if q := n.Status.Allocatable["example.com/dongle"]; q.String() != "4" {
		t.Errorf("extended resource allocatable = %v", n.Status.Allocatable)
	}
}

func TestStatusWhenTheRuntimeStopsAnswering(t *testing.T) {
	ta := newTestAgent(t, nil)
	ctx := context.Background()
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		ta.clock.Step(10 * time.Second)
		ta.runtime.InjectError("Status", errors.New("connection refused"))
		ta.checkRuntime(ctx)
		if err := ta.updateNodeStatus(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// 40s without an answer: down.
	if got := readyCondition(ta.node(t)); got.Status != corev1.ConditionFalse || got.Message != "container runtime is down" {
		t.Errorf("ready condition %+v", got)
	}
}

func TestHostIPsAreDetected(t *testing.T) {
	ta := newTestAgent(t, func(c *Config) { c.NodeIPs = nil })
	ta.detectIPs = func(context.Context) ([]string, bool) { return []string{"192.0.2.10"}, true }
	if ips := ta.HostIPs(); len(ips) != 0 {
		t.Errorf("host IPs before registration: %v", ips)
	}
	ctx := context.Background()
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"192.0.2.10"}, ta.HostIPs()); diff != "" {
		t.Errorf("host IPs (-want +got):\n%s", diff)
	}
	// The address changes: the whole list is replaced.
	ta.detectIPs = func(context.Context) ([]string, bool) { return []string{"192.0.2.11"}, true }
	ta.clock.Step(10 * time.Second)
	if err := ta.updateNodeStatus(ctx); err != nil {
		t.Fatal(err)
	}
	want := []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.11"}, {Type: corev1.NodeHostName, Address: "n1"}}
	if diff := cmp.Diff(want, ta.node(t).Status.Addresses); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
}

func TestLease(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "uid-1"}}
	client := fake.NewClientset(node)
	clk := clocktesting.NewFakeClock(t0.Time)
	l := NewLease(client, "n1", 0, clk)
	ctx := context.Background()
	get := func() *coordinationv1.Lease {
		t.Helper()
		lease, err := client.CoordinationV1().Leases(LeaseNamespace).Get(ctx, "n1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return lease
	}

	if err := l.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	lease := get()
	want := coordinationv1.LeaseSpec{
		HolderIdentity:       ptrTo("n1"),
		LeaseDurationSeconds: ptrTo[int32](40),
		RenewTime:            &metav1.MicroTime{Time: t0.Time},
	}
	if diff := cmp.Diff(want, lease.Spec); diff != "" {
		t.Errorf("lease spec (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "uid-1"}}, lease.OwnerReferences); diff != "" {
		t.Errorf("owner (-want +got):\n%s", diff)
	}

	// Renewed: updated without being read first.
	client.ClearActions()
	clk.Step(l.RenewInterval())
	if err := l.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get().Spec.RenewTime.Time; !got.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("renew time %v", got)
	}
	if verbs := actionVerbs(client.Actions()); !cmp.Equal(verbs, []string{"update leases", "get leases"}) {
		t.Errorf("calls %v, want one update (and the test's get)", verbs)
	}

	// A conflict: read again, then updated.
	conflicts := 1
	client.PrependReactor("update", "leases", func(clienttesting.Action) (bool, runtime.Object, error) {
		if conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, "n1", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	clk.Step(l.RenewInterval())
	if err := l.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get().Spec.RenewTime.Time; !got.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("renew time after a conflict %v", got)
	}

	// Deleted by someone: created again.
	if err := client.CoordinationV1().Leases(LeaseNamespace).Delete(ctx, "n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.Step(l.RenewInterval())
	if err := l.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get(); !got.Spec.RenewTime.Time.Equal(t0.Add(30*time.Second)) || len(got.OwnerReferences) != 1 {
		t.Errorf("recreated lease %+v", got)
	}
}

func TestLeaseWaitsForItsNode(t *testing.T) {
	client := fake.NewClientset()
	l := NewLease(client, "n1", 0, clocktesting.NewFakeClock(t0.Time))
	if err := l.Renew(context.Background()); err == nil || !apierrors.IsNotFound(errors.Unwrap(err)) {
		t.Errorf("renewing the lease of a node that does not exist: %v", err)
	}
	if _, err := client.CoordinationV1().Leases(LeaseNamespace).Get(context.Background(), "n1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a lease without its owner was created: %v", err)
	}
}

func actionVerbs(actions []clienttesting.Action) []string {
	var out []string
	for _, a := range actions {
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

// TestRun runs the agent on a fake clock: the node registers NotReady
// while the runtime's network is not ready, turns Ready within a second of
// the network coming up, and its Lease is renewed.
func TestRun(t *testing.T) {
	ta := newTestAgent(t, nil)
	ta.runtime.SetCondition(runtimeapi.NetworkReady, false, "NetworkPluginNotReady", "Network plugin returns error: cni plugin not initialized")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ta.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-ta.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not registered")
	}
	if got := readyCondition(ta.node(t)); got.Status != corev1.ConditionFalse ||
		got.Message != "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized" {
		t.Errorf("ready condition %+v", got)
	}
	ta.runtime.SetCondition(runtimeapi.NetworkReady, true, "", "")
	eventually(t, ta.clock, time.Second, func() bool {
		return readyCondition(ta.node(t)).Status == corev1.ConditionTrue
	})
	eventually(t, ta.clock, time.Second, func() bool {
		l, err := ta.client.CoordinationV1().Leases(LeaseNamespace).Get(context.Background(), "n1", metav1.GetOptions{})
		return err == nil && l.Spec.RenewTime.Time.After(t0.Time.Add(10*time.Second))
	})
}

// eventually steps clk by step until cond holds.
func eventually(t *testing.T, clk *clocktesting.FakeClock, step time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		clk.Step(step)
		time.Sleep(5 * time.Millisecond)
	}
}

func resourceQuantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

// TestRunReportsAnAdoptedNodeAtOnce restarts a kubelet on a Node the
// previous one left Ready an hour ago: the new one reports its own status
// as soon as it registers, before its first status interval, so that a
// Ready condition with a fresh heartbeat tells it runs.
func TestRunReportsAnAdoptedNodeAtOnce(t *testing.T) {
	earlier := metav1.NewTime(t0.Add(-time.Hour))
	existing := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "uid-1"},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status", earlier, earlier)},
		},
	}
	ta := newTestAgent(t, nil, existing)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ta.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// The clock does not move: only the write right after registering can
	// bring the heartbeat to t0.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := readyCondition(ta.node(t))
		if got.Status == corev1.ConditionTrue && got.LastHeartbeatTime.Equal(&t0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the adopted node's Ready condition is still %+v, want a heartbeat at %s", got, t0)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The downward API's fallback for unset limits is the allocatable the
// Node reports.
func TestAllocatableIsWhatTheNodeReports(t *testing.T) {
	ta := newTestAgent(t, func(c *Config) {
		c.SystemReserved = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}
	})
	ctx := context.Background()
	ta.checkRuntime(ctx)
	if _, err := ta.register(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := ta.Allocatable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := ta.node(t).Status.Allocatable
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allocatable (-node +Allocatable):\n%s", diff)
	}
	if cpu := got[corev1.ResourceCPU]; cpu.Cmp(ta.node(t).Status.Capacity[corev1.ResourceCPU]) >= 0 {
		t.Errorf("allocatable cpu %s is not below capacity less the reservation", cpu.String())
	}
}
