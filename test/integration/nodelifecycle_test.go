package integration

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strata-dev/strata/nucleus/options"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// A node whose Lease stops being renewed becomes Unknown, is tainted
// unreachable, and its pods are evicted once their tolerations run out.
func TestSilentNodeIsTaintedAndItsPodsEvicted(t *testing.T) {
	ctx := context.Background()
	e := testenv.Start(t, quietControllers, testenv.WithOptions(func(o *options.Options) {
		o.NodeMonitorGracePeriod = 3 * time.Second
	}))
	cl, err := newClients(e)
	if err != nil {
		t.Fatal(err)
	}
	kube := cl.kube

	node, err := kube.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "quiet"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if _, err := kube.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	now := metav1.NowMicro()
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "quiet", Namespace: corev1.NamespaceNodeLease}, Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("quiet"), RenewTime: &now}}
	if _, err := kube.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := func(name string, seconds *int64) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{
				NodeName:   "quiet",
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
				Tolerations: []corev1.Toleration{{
					Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds,
				}},
			},
		}
	}
	for _, p := range []*corev1.Pod{pod("brief", ptr[int64](1)), pod("patient", nil)} {
		if _, err := kube.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	poll(t, 30*time.Second, "the node to become Unknown and tainted unreachable", func(ctx context.Context) (bool, error) {
		n, err := kube.CoreV1().Nodes().Get(ctx, "quiet", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		unknown := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionUnknown && c.Reason == "NodeStatusUnknown" {
				unknown = true
			}
		}
		tainted := false
		for _, taint := range n.Spec.Taints {
			if taint.Key == corev1.TaintNodeUnreachable && taint.Effect == corev1.TaintEffectNoExecute && taint.TimeAdded != nil {
				tainted = true
			}
		}
		return unknown && tainted, nil
	})
	poll(t, 30*time.Second, "the pod tolerating 1s to be evicted", func(ctx context.Context) (bool, error) {
		p, err := kube.CoreV1().Pods("default").Get(ctx, "brief", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return p.DeletionTimestamp != nil, nil
	})
	patient, err := kube.CoreV1().Pods("default").Get(ctx, "patient", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if patient.DeletionTimestamp != nil {
		t.Errorf("the pod tolerating the taint forever was evicted")
	}

	// A heartbeat brings the node back: the taints go.
	renewed := metav1.NowMicro()
	l, err := kube.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, "quiet", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.Spec.RenewTime = &renewed
	if _, err := kube.CoordinationV1().Leases(corev1.NamespaceNodeLease).Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := kube.CoreV1().Nodes().Get(ctx, "quiet", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if _, err := kube.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "the lifecycle taints to be removed", func(ctx context.Context) (bool, error) {
		n, err := kube.CoreV1().Nodes().Get(ctx, "quiet", metav1.GetOptions{})
		return err == nil && len(n.Spec.Taints) == 0, err
	})
}

// Pods bound to a node that does not exist are deleted.
func TestPodsOfMissingNodesAreCollected(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "stranded"},
		Spec:       corev1.PodSpec{NodeName: "never-existed", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 60*time.Second, "the stranded pod to be collected", func(ctx context.Context) (bool, error) {
		_, err := c.kube.CoreV1().Pods(ns).Get(ctx, "stranded", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
