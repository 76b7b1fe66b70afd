package pods

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	clientfake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/cri/fake"
)

// eventually polls cond until it holds, or fails the test after 10s.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond()
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func TestControllerRunsTheNodesPods(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	client := clientfake.NewClientset()
	runtime := fake.New(clock.RealClock{})
	dir := t.TempDir()
	c, err := NewController(ControllerConfig{
		Client:   client,
		NodeName: "node-1",
		Worker: Config{
			Runtime:    runtime,
			HostIPs:    []string{"192.168.1.10"},
			PodLogsDir: filepath.Join(dir, "logs"),
			PodsDir:    filepath.Join(dir, "pods"),
		},
		ResyncInterval: time.Minute, // the relist must be enough
		RelistInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()

	pods := client.CoreV1().Pods("default")
	mine := makePod("web").Containers("app").Obj()
	other := makePod("elsewhere").Containers("app").Obj()
	other.Spec.NodeName = "node-2"
	for _, p := range []*corev1.Pod{mine, other} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	get := func() *corev1.Pod {
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	eventually(t, "the pod to run", func() (bool, error) {
		p := get()
		return p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].Ready, nil
	})
	if got := runtime.Running(); !slices.Equal(got, []string{"default/web/app"}) {
		t.Errorf("running containers %v, want only this node's", got)
	}

	// The container crashes: the relist notices, the pod restarts it.
	if err := runtime.Exit(runtime.ContainerID("default", "web", "app"), 1, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the restart", func() (bool, error) {
		s := get().Status.ContainerStatuses[0]
		return s.RestartCount == 1 && s.State.Running != nil, nil
	})

	// The API server marks the pod deleted: the kubelet stops it with the
	// grace period, writes its terminal status and deletes it for good.
	runtime.ResetCalls()
	deleting := get()
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	deleting.DeletionGracePeriodSeconds = ptr.To[int64](5)
	if _, err := pods.Update(ctx, deleting, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pod to be deleted", func() (bool, error) {
		_, err := pods.Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	eventually(t, "the pod's containers to be removed", func() (bool, error) {
		return slices.Contains(runtime.Calls(), "RemovePodSandbox default/web"), nil
	})
	calls := runtime.Calls()
	if !slices.Contains(calls, "StopContainer default/web/app timeout=5") {
		t.Errorf("calls %v: no stop with the deletion's grace period", calls)
	}
	eventually(t, "the worker to end", func() (bool, error) { return !c.Running(mine.UID), nil })

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestControllerRemovesForceDeletedPods(t *testing.T) {
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
	for i := range 3 {
		p := makePod(fmt.Sprintf("p%d", i)).Containers("app").Obj()
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "three pods to run", func() (bool, error) { return len(runtime.Running()) == 3, nil })

	if err := pods.Delete(ctx, "p1", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the force-deleted pod's containers to go", func() (bool, error) {
		return slices.Equal(runtime.Running(), []string{"default/p0/app", "default/p2/app"}) &&
			slices.Contains(runtime.Calls(), "RemovePodSandbox default/p1"), nil
	})
}

// TestControllerPodGoneBeforeItsStatusIsWritten: a pod deleted for good
// between the kubelet reading it and writing its status is a race, not an
// error: no "Syncing pod failed", and its containers go with the pod.
func TestControllerPodGoneBeforeItsStatusIsWritten(t *testing.T) {
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
	ctx, cancel := context.WithCancel(klog.NewContext(t.Context(), logger))
	defer cancel()

	client := clientfake.NewClientset()
	var once sync.Once
	client.PrependReactor("patch", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "status" {
			return false, nil, nil
		}
		handled := false
		once.Do(func() {
			// Deleted (with a zero grace period) just before the patch.
			handled = true
			_ = client.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), "default", "web")
		})
		if handled {
			return true, nil, apierrors.NewNotFound(corev1.Resource("pods"), "web")
		}
		return false, nil, nil
	})
	// The fake clientset's watches do not replay what happened before they
	// began: the pod is created once the controller watches, or its
	// deletion could go unseen.
	watching := make(chan struct{})
	var watchOnce sync.Once
	client.PrependWatchReactor("pods", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w, err := client.Tracker().Watch(action.GetResource(), action.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		watchOnce.Do(func() { close(watching) })
		return true, w, nil
	})
	rt := fake.New(clock.RealClock{})
	dir := t.TempDir()
	c, err := NewController(ControllerConfig{
		Client:         client,
		NodeName:       "node-1",
		Worker:         Config{Runtime: rt, PodLogsDir: filepath.Join(dir, "logs"), PodsDir: filepath.Join(dir, "pods")},
		RelistInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Run(ctx) }()
	select {
	case <-watching:
	case <-time.After(30 * time.Second):
		t.Fatal("the controller did not watch pods within 30s")
	}

	if _, err := client.CoreV1().Pods("default").Create(ctx, makePod("web").Containers("app").Obj(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pod's sandbox to be removed", func() (bool, error) {
		return slices.Contains(rt.Calls(), "RemovePodSandbox default/web"), nil
	})
	logs := logger.GetSink().(ktesting.Underlier).GetBuffer().String()
	if strings.Contains(logs, "Syncing pod failed") || strings.Contains(logs, "Writing pod status failed") {
		t.Errorf("a pod deleted before its status was written was logged as an error:\n%s", logs)
	}
	if !strings.Contains(logs, "The pod left the API before its status was written") {
		t.Errorf("the race was not logged:\n%s", logs)
	}
}

// TestControllerRestart: a kubelet that restarts adopts the containers the
// runtime runs for its pods, and removes those of pods deleted while it was
// down.
func TestControllerRestart(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	client := clientfake.NewClientset()
	runtime := fake.New(clock.RealClock{})
	dir := t.TempDir()
	start := func() (context.CancelFunc, chan error) {
		c, err := NewController(ControllerConfig{
			Client:         client,
			NodeName:       "node-1",
			Worker:         Config{Runtime: runtime, PodLogsDir: filepath.Join(dir, "logs"), PodsDir: filepath.Join(dir, "pods")},
			RelistInterval: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		return cancel, done
	}

	stop, done := start()
	pods := client.CoreV1().Pods("default")
	for _, name := range []string{"kept", "gone"} {
		if _, err := pods.Create(ctx, makePod(name).Containers("app").Obj(), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "both pods to run", func() (bool, error) { return len(runtime.Running()) == 2, nil })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// While the kubelet is down, a pod is force-deleted.
	if err := pods.Delete(ctx, "gone", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	runtime.ResetCalls()
	stop, done = start()
	defer func() {
		stop()
		<-done
	}()
	eventually(t, "the deleted pod's containers to go", func() (bool, error) {
		return slices.Contains(runtime.Calls(), "RemovePodSandbox default/gone"), nil
	})
	if got := runtime.Running(); !slices.Equal(got, []string{"default/kept/app"}) {
		t.Errorf("running %v, want the kept pod's container", got)
	}
	for _, call := range runtime.Calls() {
		if strings.Contains(call, "default/kept") {
			t.Errorf("restarted kubelet touched the kept pod: %s", call)
		}
	}
}

// fakeProbeManager is a ProbeManager whose results a test sets.
type fakeProbeManager struct {
	mu      sync.Mutex
	results ProbeResultMap
	updates []string
	removed []types.UID
}

func (f *fakeProbeManager) Get(probe ProbeType, containerID string) (ProbeResult, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.results.Get(probe, containerID)
}

func (f *fakeProbeManager) set(probe ProbeType, containerID string, result ProbeResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results.Set(probe, containerID, result)
}

func (f *fakeProbeManager) UpdatePod(pod *corev1.Pod, status corev1.PodStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	running := 0
	for _, s := range status.ContainerStatuses {
		if s.State.Running != nil {
			running++
		}
	}
	f.updates = append(f.updates, fmt.Sprintf("%s %s running=%d", pod.Name, status.Phase, running))
}

func (f *fakeProbeManager) RemovePod(uid types.UID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, uid)
}

func (f *fakeProbeManager) seen(update string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.updates, update)
}

// TestControllerProbes: the controller tells the probe manager what runs
// after each sync and when a pod is gone, reads its results, and Notify
// syncs the pod again.
func TestControllerProbes(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	client := clientfake.NewClientset()
	runtime := fake.New(clock.RealClock{})
	probes := &fakeProbeManager{results: ProbeResultMap{}}
	dir := t.TempDir()
	c, err := NewController(ControllerConfig{
		Client:         client,
		NodeName:       "node-1",
		Worker:         Config{Runtime: runtime, PodLogsDir: filepath.Join(dir, "logs"), PodsDir: filepath.Join(dir, "pods")},
		Probes:         probes,
		ResyncInterval: time.Hour, // only Notify syncs the pod again
		RelistInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Run(ctx) }()

	pods := client.CoreV1().Pods("default")
	pod := makePod("web").Containers("app").ReadinessProbe("app").Obj()
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the probe manager to hear of the running container", func() (bool, error) {
		return probes.seen("web Running running=1"), nil
	})
	p, err := pods.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.ContainerStatuses[0].Ready {
		t.Fatal("ready before its readiness probe succeeded")
	}

	probes.set(Readiness, runtime.ContainerID("default", "web", "app"), ProbeSuccess)
	c.Notify(pod.UID)
	eventually(t, "the pod to be ready", func() (bool, error) {
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		return err == nil && p.Status.ContainerStatuses[0].Ready, err
	})

	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the probe manager to forget the pod", func() (bool, error) {
		probes.mu.Lock()
		defer probes.mu.Unlock()
		return slices.Contains(probes.removed, pod.UID), nil
	})
}
