package pods

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestTerminationPrerequisites(t *testing.T) {
	pod := makePod("web").Init("setup").Sidecar("s1").Sidecar("s2").Sidecar("s3").Containers("app", "log").Obj()
	tests := []struct {
		name    string
		pod     *corev1.Pod
		running []string
		want    map[string][]string
	}{{
		name:    "no sidecar: nothing waits",
		pod:     makePod("web").Init("setup").Containers("app", "log").Obj(),
		running: []string{"app", "log"},
	}, {
		name:    "sidecars wait for the main containers and the sidecars after them",
		pod:     pod,
		running: []string{"app", "log", "s1", "s2", "s3"},
		want: map[string][]string{
			"s3": {"app", "log"},
			"s2": {"app", "log", "s3"},
			"s1": {"app", "log", "s2"},
		},
	}, {
		name:    "stopped containers are not waited for",
		pod:     pod,
		running: []string{"log", "s1", "s3"},
		want: map[string][]string{
			"s3": {"log"},
			"s1": {"log", "s3"},
		},
	}, {
		name:    "a finished pod: only sidecars run, the last defined stops first",
		pod:     pod,
		running: []string{"s1", "s2", "s3"},
		want: map[string][]string{
			"s3": {},
			"s2": {"s3"},
			"s1": {"s2"},
		},
	}, {
		name:    "killed while initializing: a running init container waits for nothing",
		pod:     pod,
		running: []string{"setup"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "prerequisites", tt.want, TerminationPrerequisites(tt.pod, tt.running))
		})
	}
}

// runAll runs pod (its sidecars one by one, then its containers) and
// returns its worker.
func (e *testEnv) runAll(pod *corev1.Pod) *Worker {
	e.t.Helper()
	w := e.worker(pod)
	for range len(pod.Spec.InitContainers) + 1 {
		e.sync(w, pod)
	}
	want := len(pod.Spec.InitContainers) + len(pod.Spec.Containers)
	if got := len(e.runtime.Running()); got != want {
		e.t.Fatalf("running: %v, want %d containers", e.runtime.Running(), want)
	}
	e.calls()
	e.events()
	return w
}

func TestWorkerStopsSidecarsLastInReverseOrder(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Sidecar("s1").Sidecar("s2").Sidecar("s3").Containers("app", "log").Obj()
	w := e.runAll(pod)

	deleted := pod.DeepCopy()
	deleted.DeletionTimestamp = &metav1Time
	deleted.DeletionGracePeriodSeconds = ptr.To[int64](20)
	res, err := w.Terminate(e.ctx, deleted, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := e.calls()
	if len(calls) != 6 {
		t.Fatalf("calls: %q", calls)
	}
	diff(t, "the main containers stop first, at once", []string{
		"StopContainer default/web/app timeout=20",
		"StopContainer default/web/log timeout=20",
	}, sortedStrings(calls[:2]))
	diff(t, "then the sidecars, last defined first", []string{
		"StopContainer default/web/s3 timeout=20",
		"StopContainer default/web/s2 timeout=20",
		"StopContainer default/web/s1 timeout=20",
		"StopPodSandbox default/web",
	}, calls[2:])
	if !res.Stopped {
		t.Error("pod not stopped")
	}
}

func TestWorkerStopsSidecarsOfAFinishedPodInReverseOrder(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("job").Sidecar("s1").Sidecar("s2").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj()
	w := e.runAll(pod)

	e.exit(pod, "app", 0)
	res := e.sync(w, pod)
	diff(t, "calls", []string{
		"StopContainer default/job/s2 timeout=30",
		"StopContainer default/job/s1 timeout=30",
		"StopPodSandbox default/job",
	}, e.calls())
	diff(t, "phase", corev1.PodSucceeded, res.Status.Phase)
}

// slowHooks is a HookRunner whose hooks of the container slow take
// `takes` on the test's clock: the hook waits for a sidecar to wait for
// its turn, moves the clock on, then returns once `until` is true.
type slowHooks struct {
	e     *testEnv
	slow  string
	takes time.Duration
	until func() bool

	mu  sync.Mutex
	ran []string
}

func (h *slowHooks) Run(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, podIPs []string, handler *corev1.LifecycleHandler) (string, error) {
	h.mu.Lock()
	h.ran = append(h.ran, c.Name)
	h.mu.Unlock()
	if c.Name != h.slow {
		return "", nil
	}
	waitFor(h.e.t, "a sidecar waiting for its turn", h.e.clock.HasWaiters)
	h.e.clock.Step(h.takes)
	if h.until != nil {
		waitFor(h.e.t, "the hook's end", h.until)
	}
	return "", nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func preStopAll(pod *corev1.Pod) *corev1.Pod {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			list[i].Lifecycle = &corev1.Lifecycle{PreStop: execHandler("sleep", "1")}
		}
	}
	return pod
}

func TestWorkerSidecarGetsWhatIsLeftOfTheGracePeriod(t *testing.T) {
	e := newTestEnv(t)
	hooks := &slowHooks{e: e, slow: "app", takes: 12 * time.Second}
	e.cfg.Hooks = hooks
	pod := preStopAll(makePod("web").Sidecar("proxy").Containers("app").Obj())
	w := e.runAll(pod)

	if _, err := w.Terminate(e.ctx, pod, nil); err != nil {
		t.Fatal(err)
	}
	// The app's preStop hook took 12s of its 30: it gets 18s; the sidecar
	// waited those 12s for the app and gets what is left too.
	diff(t, "calls", []string{
		"StopContainer default/web/app timeout=18",
		"StopContainer default/web/proxy timeout=18",
		"StopPodSandbox default/web",
	}, e.calls())
	diff(t, "every preStop hook ran at once", []string{"app", "proxy"}, sortedStrings(hooks.ran))
}

func TestWorkerSidecarStopsWhenItsGracePeriodIsOver(t *testing.T) {
	e := newTestEnv(t)
	hooks := &slowHooks{e: e, slow: "app", takes: 40 * time.Second}
	// The app's hook outlasts the grace period: the sidecar does not wait
	// for it any longer.
	hooks.until = func() bool { return slices.Contains(e.runtime.Calls(), "StopContainer default/web/proxy timeout=2") }
	e.cfg.Hooks = hooks
	pod := makePod("web").Sidecar("proxy").Containers("app").Obj()
	pod.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: execHandler("sleep", "100")}
	w := e.runAll(pod)

	if _, err := w.Terminate(e.ctx, pod, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, "calls", []string{
		"StopContainer default/web/proxy timeout=2",
		"StopContainer default/web/app timeout=2",
		"StopPodSandbox default/web",
	}, e.calls())
}

func TestWorkerForcedTerminationDoesNotWait(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Sidecar("proxy").Containers("app").Obj()
	w := e.runAll(pod)
	if _, err := w.Terminate(e.ctx, pod, ptr.To[int64](0)); err != nil {
		t.Fatal(err)
	}
	calls := e.calls()
	diff(t, "calls", []string{
		"StopContainer default/web/app timeout=0",
		"StopContainer default/web/proxy timeout=0",
	}, sortedStrings(calls[:2]))
	if !strings.HasPrefix(calls[2], "StopPodSandbox") {
		t.Errorf("calls: %q", calls)
	}
}
