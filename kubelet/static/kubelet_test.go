package static

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	crifake "github.com/strata-dev/strata/kubelet/cri/fake"
	"github.com/strata-dev/strata/kubelet/pods"
)

// TestStaticPodRuns runs the source with the pods controller: the static
// pod runs through its mirror pod, survives kubectl delete of the mirror
// pod, restarts with a changed manifest and stops when the manifest goes.
func TestStaticPodRuns(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, manifests, "web.yaml", webYAML)
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "node-uid"}})
	// The API server gives each pod a UID.
	var created atomic.Int32
	client.PrependReactor("create", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		pod := action.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		pod.UID = types.UID(fmt.Sprintf("api-%d", created.Add(1)))
		return false, nil, nil
	})
	rt := crifake.New(clock.RealClock{})
	source := New(Config{Client: client, NodeName: "node-1", ManifestDir: manifests, Interval: 50 * time.Millisecond})
	controller, err := pods.NewController(pods.ControllerConfig{
		Client:         client,
		NodeName:       "node-1",
		Worker:         pods.Config{Runtime: rt, PodLogsDir: filepath.Join(dir, "logs"), PodsDir: filepath.Join(dir, "pods")},
		RelistInterval: 20 * time.Millisecond,
		StaticPods:     source,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = source.Run(ctx) }()
	go func() { _ = controller.Run(ctx) }()

	running := func() (bool, error) {
		p, err := client.CoreV1().Pods("default").Get(ctx, "web-node-1", metav1.GetOptions{})
		if err != nil || p.DeletionTimestamp != nil {
			return false, nil
		}
		return p.Status.Phase == corev1.PodRunning && slices.Equal(rt.Running(), []string{"default/web-node-1/httpd"}), nil
	}
	eventually(t, "the static pod to run", running)
	container := rt.ContainerID("default", "web-node-1", "httpd")
	rt.ResetCalls()

	// kubectl delete pod web-node-1.
	m, err := client.CoreV1().Pods("default").Get(ctx, "web-node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := m.UID
	m.DeletionTimestamp = ptr.To(metav1.Now())
	m.DeletionGracePeriodSeconds = ptr.To[int64](30)
	if _, err := client.CoreV1().Pods("default").Update(ctx, m, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new mirror pod reporting the static pod running", func() (bool, error) {
		p, err := client.CoreV1().Pods("default").Get(ctx, "web-node-1", metav1.GetOptions{})
		if err != nil || p.UID == first {
			return false, nil
		}
		return running()
	})
	for _, call := range rt.Calls() {
		if strings.HasPrefix(call, "Stop") || strings.HasPrefix(call, "Remove") || strings.HasPrefix(call, "RunPodSandbox") {
			t.Errorf("deleting the mirror pod disturbed the static pod: %s", call)
		}
	}
	if got := rt.ContainerID("default", "web-node-1", "httpd"); got != container {
		t.Errorf("container %s, want the same %s", got, container)
	}

	// A new manifest replaces the static pod.
	writeFile(t, manifests, "web.yaml", strings.Replace(webYAML, "busybox", "busybox:1.36", 1))
	eventually(t, "the new static pod to run", func() (bool, error) {
		ok, err := running()
		return ok && rt.ContainerID("default", "web-node-1", "httpd") != container, err
	})

	// No manifest, no static pod.
	if err := os.Remove(filepath.Join(manifests, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the static pod to stop", func() (bool, error) {
		list, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == 0 && len(rt.Running()) == 0, nil
	})
}
