package node_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/strata-dev/strata/kubelet/node"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv/containerdtest"
)

// TestStatusFromRealContainerd registers a node whose runtime is a real
// containerd: its CRI Version and Status make containerRuntimeVersion and
// a Ready node (containerd 1.6 reports no runtime handlers; 2.0 does).
func TestStatusFromRealContainerd(t *testing.T) {
	inst := containerdtest.Start(t, containerdtest.Options{NoImages: true})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rs, err := inst.RuntimeService(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	agent, err := node.New(node.Config{Client: client, NodeName: "n1", NodeIPs: []string{"10.0.0.5"}, Runtime: rs, RootDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- agent.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()
	select {
	case <-agent.Ready():
	case <-ctx.Done():
		t.Fatal("not registered")
	}
	n, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "containerd://" + inst.RuntimeVersion; n.Status.NodeInfo.ContainerRuntimeVersion != want {
		t.Errorf("containerRuntimeVersion = %q, want %q", n.Status.NodeInfo.ContainerRuntimeVersion, want)
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && (c.Status != corev1.ConditionTrue || c.Reason != node.ReasonKubeletReady) {
			t.Errorf("ready condition %+v", c)
		}
	}
	t.Logf("runtime %s, handlers %+v, features %+v", n.Status.NodeInfo.ContainerRuntimeVersion, n.Status.RuntimeHandlers, n.Status.Features)
}
