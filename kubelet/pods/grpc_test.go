package pods

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	crifake "k8s.io/cri-client/pkg/fake"
	"k8s.io/klog/v2/ktesting"

	"github.com/strata-dev/strata/kubelet/cri"
)

// TestWorkerOverGRPC runs a pod through cri.Connect and k8s.io/cri-client
// against cri-client's fake gRPC runtime: the real client path, without
// containerd.
func TestWorkerOverGRPC(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	dir := t.TempDir()
	server := crifake.NewFakeRemoteRuntime()
	endpoint := "unix://" + filepath.Join(dir, "cri.sock")
	if err := server.Start(endpoint); err != nil {
		t.Fatal(err)
	}
	defer server.Stop()

	runtime, err := cri.Connect(ctx, cri.RemoteConfig{Endpoint: endpoint, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = runtime.Close(context.Background()) }()

	pod := makePod("web").Containers("app").Obj()
	w := NewWorker(Config{
		Runtime:    runtime,
		PodLogsDir: filepath.Join(dir, "logs"),
		PodsDir:    filepath.Join(dir, "pods"),
	}, pod.UID)
	res, err := w.Sync(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)
	diff(t, "containers", []string{"app: running restarts=0 ready started"}, containerSummary(res.Status.ContainerStatuses))
	if id := res.Status.ContainerStatuses[0].ContainerID; !strings.HasPrefix(id, "fakeRuntime://") {
		t.Errorf("container ID %q lacks the runtime's name", id)
	}
	for _, call := range []string{"RunPodSandbox", "CreateContainer", "StartContainer"} {
		if !slices.Contains(server.RuntimeService.Called, call) {
			t.Errorf("runtime calls %v lack %s", server.RuntimeService.Called, call)
		}
	}

	deleted := pod.DeepCopy()
	deleted.DeletionTimestamp = &metav1Time
	res, err = w.Sync(ctx, deleted)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Status.Phase != corev1.PodFailed && res.Status.Phase != corev1.PodSucceeded {
		t.Errorf("after deletion: stopped=%v phase=%s", res.Stopped, res.Status.Phase)
	}
	if !slices.Contains(server.RuntimeService.Called, "StopContainer") || !slices.Contains(server.RuntimeService.Called, "StopPodSandbox") {
		t.Errorf("runtime calls %v lack the stops", server.RuntimeService.Called)
	}
}
