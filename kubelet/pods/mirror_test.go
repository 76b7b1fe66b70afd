package pods

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clientfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/cri/fake"
)

// staticPods is a StaticPods over a set of hashes.
type staticPods struct {
	mu     sync.Mutex
	hashes map[string]bool
}

func (s *staticPods) HasStaticPod(hash string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hashes[hash]
}

func (s *staticPods) set(hash string, defined bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashes[hash] = defined
}

func mirrorPod(apiUID types.UID) *corev1.Pod {
	p := makePod("etcd-node-1").Containers("etcd").Obj()
	p.UID = apiUID
	p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash-1", "kubernetes.io/config.source": "file"}
	return p
}

func TestPodUID(t *testing.T) {
	if got := PodUID(makePod("web").Obj()); got != "uid-web" {
		t.Errorf("PodUID of a pod = %s, want its UID", got)
	}
	if got := PodUID(mirrorPod("api-1")); got != "hash-1" {
		t.Errorf("PodUID of a mirror pod = %s, want the static pod's", got)
	}
}

// TestControllerKeepsStaticPodsRunning: deleting a mirror pod does not stop
// its static pod while the manifest defines it; the mirror pod created
// again adopts the containers; once the manifest is gone the static pod
// stops.
func TestControllerKeepsStaticPodsRunning(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	client := clientfake.NewClientset()
	runtime := fake.New(clock.RealClock{})
	static := &staticPods{hashes: map[string]bool{"hash-1": true}}
	dir := t.TempDir()
	c, err := NewController(ControllerConfig{
		Client:         client,
		NodeName:       "node-1",
		Worker:         Config{Runtime: runtime, PodLogsDir: filepath.Join(dir, "logs"), PodsDir: filepath.Join(dir, "pods")},
		ResyncInterval: 100 * time.Millisecond,
		RelistInterval: 20 * time.Millisecond,
		StaticPods:     static,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Run(ctx) }()

	pods := client.CoreV1().Pods("default")
	get := func() (*corev1.Pod, error) { return pods.Get(ctx, "etcd-node-1", metav1.GetOptions{}) }
	running := func(uid types.UID) func() (bool, error) {
		return func() (bool, error) {
			p, err := get()
			if err != nil || p.UID != uid {
				return false, nil
			}
			return p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil, nil
		}
	}
	if _, err := pods.Create(ctx, mirrorPod("api-1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the static pod to run", running("api-1"))
	if !c.Running("hash-1") {
		t.Error("the static pod's worker is not keyed by the static pod's UID")
	}
	containerID := runtime.ContainerID("default", "etcd-node-1", "etcd")
	runtime.ResetCalls()

	// kubectl delete: the mirror pod is marked deleted. The kubelet does
	// not stop the static pod.
	deleting, err := get()
	if err != nil {
		t.Fatal(err)
	}
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	deleting.DeletionGracePeriodSeconds = ptr.To[int64](30)
	if _, err := pods.Update(ctx, deleting, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a few resyncs
	if p, err := get(); err != nil || p.DeletionTimestamp == nil {
		t.Fatalf("the kubelet removed a mirror pod being deleted (err %v): that is the static pod source's job", err)
	}

	// The static pod source deletes it for good and creates it again.
	if err := pods.Delete(ctx, "etcd-node-1", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := pods.Create(ctx, mirrorPod("api-2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new mirror pod to report the static pod running", running("api-2"))
	for _, call := range runtime.Calls() {
		if strings.HasPrefix(call, "StopContainer") || strings.HasPrefix(call, "RunPodSandbox") || strings.HasPrefix(call, "StartContainer") {
			t.Errorf("the static pod was disturbed: %s", call)
		}
	}
	if got := runtime.ContainerID("default", "etcd-node-1", "etcd"); got != containerID {
		t.Errorf("container %s, want the same %s", got, containerID)
	}

	// The manifest is removed: the source deletes the mirror pod, the
	// kubelet stops the static pod.
	static.set("hash-1", false)
	if err := pods.Delete(ctx, "etcd-node-1", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the static pod to stop", func() (bool, error) {
		return slices.Contains(runtime.Calls(), "RemovePodSandbox default/etcd-node-1") && len(runtime.Running()) == 0, nil
	})
	eventually(t, "the worker to end", func() (bool, error) { return !c.Running("hash-1"), nil })
	if _, err := get(); !apierrors.IsNotFound(err) {
		t.Errorf("mirror pod: %v, want it gone", err)
	}
}

// TestControllerMirrorPodsWithoutStaticPods: without StaticPods a mirror
// pod is run and stopped like any other pod.
func TestControllerMirrorPodsWithoutStaticPods(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	client := clientfake.NewClientset()
	runtime := fake.New(clock.RealClock{})
	dir := t.TempDir()
	c, err := NewController(ControllerConfig{
		Client:         client,
		NodeName:       "node-1",
		Worker:         Config{Runtime: runtime, PodLogsDir: filepath.Join(dir, "logs"), PodsDir: filepath.Join(dir, "pods")},
		RelistInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Run(ctx) }()
	pods := client.CoreV1().Pods("default")
	if _, err := pods.Create(ctx, mirrorPod("api-1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pod to run", func() (bool, error) { return len(runtime.Running()) == 1, nil })
	deleting, err := pods.Get(ctx, "etcd-node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	deleting.DeletionGracePeriodSeconds = ptr.To[int64](1)
	if _, err := pods.Update(ctx, deleting, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pod to stop and go", func() (bool, error) {
		_, err := pods.Get(ctx, "etcd-node-1", metav1.GetOptions{})
		return apierrors.IsNotFound(err) && len(runtime.Running()) == 0, nil
	})
}
