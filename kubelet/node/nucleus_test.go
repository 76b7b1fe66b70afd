package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"

	crifake "github.com/strata-dev/strata/kubelet/cri/fake"
	"github.com/strata-dev/strata/kubelet/node"
	"github.com/strata-dev/strata/nucleus/testenv"
)

func fixedMachine(context.Context) (node.Machine, error) {
	return node.Machine{
		NumCPU: 2, MemoryTotal: 4 << 30, MemoryAvailable: 2 << 30,
		Filesystem: node.Filesystem{Capacity: 20 << 30, Available: 10 << 30},
		MachineID:  "m", BootID: "b", KernelVersion: "6.8.0", OSImage: "Test Linux",
	}, nil
}

// TestRegisterAsNodeUser runs the agent against a nucleus as the node user
// system:node:<name> (group system:nodes): the node authorizer and
// NodeRestriction let it register its Node, post events and keep its Lease,
// and nothing of another node's.
func TestRegisterAsNodeUser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	env := testenv.Start(t)
	admin := kubernetes.NewForConfigOrDie(env.Config)
	nodeClient := func(name string) kubernetes.Interface {
		cfg, err := env.UserConfig("system:node:"+name, "system:nodes")
		if err != nil {
			t.Fatal(err)
		}
		return kubernetes.NewForConfigOrDie(cfg)
	}
	kubelet := nodeClient("worker-1")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: kubelet.EventsV1()})
	broadcaster.StartRecordingToSink(ctx.Done())
	defer broadcaster.Shutdown()
	agent, err := node.New(node.Config{
		Client:   kubelet,
		NodeName: "worker-1",
		NodeIPs:  []string{"10.0.0.5"},
		PodCIDR:  "10.88.0.0/16",
		Labels:   map[string]string{"pool": "a"},
		Taints:   []corev1.Taint{{Key: "dedicated", Value: "ci", Effect: corev1.TaintEffectNoSchedule}},
		Runtime:  crifake.New(nil),
		Machine:  node.MachineFunc(fixedMachine),
		Recorder: broadcaster.NewRecorder(scheme.Scheme, "kubelet"),
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx) }()
	select {
	case <-agent.Ready():
	case err := <-done:
		t.Fatalf("Run ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not register")
	}

	n, err := admin.CoreV1().Nodes().Get(ctx, "worker-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Labels["pool"] != "a" || n.Labels[corev1.LabelHostname] != "worker-1" || len(n.Spec.Taints) != 1 || n.Spec.PodCIDR != "10.88.0.0/16" {
		t.Errorf("registered node %+v", n.ObjectMeta.Labels)
	}
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status == corev1.ConditionTrue && c.Reason == "KubeletReady"
		}
	}
	if !ready || n.Status.NodeInfo.ContainerRuntimeVersion != "fake://1.0.0" {
		t.Errorf("node status %+v", n.Status)
	}

	// The Lease, owned by the Node.
	var lease *coordinationv1.Lease
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		lease, err = admin.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "worker-1", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("no lease: %v", err)
	}
	if ptr.Deref(lease.Spec.HolderIdentity, "") != "worker-1" || ptr.Deref(lease.Spec.LeaseDurationSeconds, 0) != 40 ||
		len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].UID != n.UID {
		t.Errorf("lease %+v", lease)
	}

	// The Starting event, regarding the Node.
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := admin.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Node,involvedObject.name=worker-1"})
		if err != nil {
			return false, err
		}
		for _, e := range list.Items {
			if e.Reason == "Starting" && e.InvolvedObject.UID == types.UID("worker-1") {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("no Starting event: %v", err)
	}

	// The status subresource as the node.
	patch := []byte(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"2026-01-01T00:00:00Z"}]}}`)
	if _, err := kubelet.CoreV1().Nodes().Patch(ctx, "worker-1", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Errorf("the node patching its own status: %v", err)
	}

	// Another node's objects.
	if _, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	forbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: got %v, want 403", what, err)
		}
	}
	_, err = kubelet.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-3"}}, metav1.CreateOptions{})
	forbidden("registering another node's name", err)
	_, err = kubelet.CoreV1().Nodes().Patch(ctx, "worker-2", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	forbidden("patching another node's status", err)
	_, err = kubelet.CoreV1().Nodes().Patch(ctx, "worker-2", types.StrategicMergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	forbidden("labelling another node", err)
	forbidden("deleting another node", kubelet.CoreV1().Nodes().Delete(ctx, "worker-2", metav1.DeleteOptions{}))
	forbidden("deleting its own node", kubelet.CoreV1().Nodes().Delete(ctx, "worker-1", metav1.DeleteOptions{}))
	_, err = kubelet.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "worker-2"}}, metav1.CreateOptions{})
	forbidden("creating another node's lease", err)
	_, err = kubelet.CoordinationV1().Leases(metav1.NamespaceDefault).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}}, metav1.CreateOptions{})
	forbidden("creating a lease elsewhere", err)
	_, err = kubelet.CoreV1().Nodes().Patch(ctx, "worker-1", types.StrategicMergePatchType, []byte(`{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}}}`), metav1.PatchOptions{})
	forbidden("giving itself a role", err)
	_, err = kubelet.CoreV1().Nodes().Patch(ctx, "worker-1", types.StrategicMergePatchType, []byte(`{"spec":{"taints":null}}`), metav1.PatchOptions{})
	forbidden("removing its taints", err)

	// An agent for a name that is not the user's does not register.
	intruder, err := node.New(node.Config{Client: nodeClient("worker-4"), NodeName: "worker-5", NodeIPs: []string{"10.0.0.6"},
		Runtime: crifake.New(nil), Machine: node.MachineFunc(fixedMachine)})
	if err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	if err := intruder.Run(short); err != nil {
		t.Errorf("Run: %v", err)
	}
	select {
	case <-intruder.Ready():
		t.Error("an agent registered a node that is not its user's")
	default:
	}
	if _, err := admin.CoreV1().Nodes().Get(ctx, "worker-5", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("node worker-5: %v", err)
	}

	// A node may not create its Node with a label steering workloads to it.
	_, err = nodeClient("worker-6").CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-6",
		Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "is not allowed to set the following labels: node-role.kubernetes.io/control-plane") {
		t.Errorf("registering with a role label: %v", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
