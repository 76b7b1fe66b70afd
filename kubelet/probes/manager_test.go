package probes

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/cri/fake"
	"github.com/strata-dev/strata/kubelet/pods"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// recorder keeps events as "<fieldPath> <type> <reason>: <message>".
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Eventf(regarding, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref := regarding.(*corev1.ObjectReference)
	r.events = append(r.events, fmt.Sprintf("%s %s %s: %s", ref.FieldPath, eventtype, reason, fmt.Sprintf(note, args...)))
}

// take returns the events recorded since the last time.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.events
	r.events = nil
	return list
}

type testEnv struct {
	t        *testing.T
	clock    *testingclock.FakeClock
	runtime  *fake.Runtime
	recorder *recorder
	m        *Manager
	changes  chan types.UID

	// execs counts the exec probes run; answer answers them by their
	// command's first word.
	execs  atomic.Int32
	mu     sync.Mutex
	answer map[string]int
	output string

	sandboxes map[types.UID]string
}

func newTestEnv(t *testing.T) *testEnv {
	clk := testingclock.NewFakeClock(t0)
	e := &testEnv{
		t:         t,
		clock:     clk,
		runtime:   fake.New(clk),
		recorder:  &recorder{},
		changes:   make(chan types.UID, 100),
		answer:    map[string]int{},
		sandboxes: map[types.UID]string{},
	}
	e.runtime.AddImage("busybox")
	e.runtime.SetExec(func(_ string, cmd []string) (string, string, int) {
		e.execs.Add(1)
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.output, "", e.answer[cmd[0]]
	})
	e.m = New(Config{
		Runtime:  e.runtime,
		Recorder: e.recorder,
		OnChange: func(uid types.UID) { e.changes <- uid },
		Clock:    clk,
	})
	e.m.jitter = func(period time.Duration) time.Duration { return period / 2 }
	t.Cleanup(e.m.Stop)
	return e
}

// exitCode makes exec probes whose command starts with word exit with
// code, printing output.
func (e *testEnv) exitCode(word string, code int, output string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answer[word] = code
	e.output = output
}

// start runs a container of the pod in the fake runtime and returns its
// ID.
func (e *testEnv) start(pod *corev1.Pod, name string) string {
	e.t.Helper()
	ctx := context.Background()
	sb, ok := e.sandboxes[pod.UID]
	if !ok {
		var err error
		sb, err = e.runtime.RunPodSandbox(ctx, &runtimeapi.PodSandboxConfig{
			Metadata: &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID)},
		}, "")
		if err != nil {
			e.t.Fatal(err)
		}
		e.sandboxes[pod.UID] = sb
	}
	id, err := e.runtime.CreateContainer(ctx, sb, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: "busybox"},
		Labels: map[string]string{
			"io.kubernetes.pod.name": pod.Name, "io.kubernetes.pod.namespace": pod.Namespace, "io.kubernetes.container.name": name,
		},
	}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.runtime.StartContainer(ctx, id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// eventually polls cond until it holds, or fails the test after 10s.
func (e *testEnv) eventually(what string, cond func() bool) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// step waits until the workers wait on n timers, then moves the clock on.
func (e *testEnv) step(d time.Duration, n int) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("%d workers to wait", n), func() bool { return e.clock.Waiters() == n })
	e.clock.Step(d)
}

// waitExecs waits until n exec probes ran.
func (e *testEnv) waitExecs(n int32) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("%d exec probes", n), func() bool { return e.execs.Load() >= n })
	if got := e.execs.Load(); got != n {
		e.t.Fatalf("%d exec probes ran, want %d", got, n)
	}
}

// waitChange waits for OnChange.
func (e *testEnv) waitChange(uid types.UID) {
	e.t.Helper()
	select {
	case got := <-e.changes:
		if got != uid {
			e.t.Fatalf("OnChange(%s), want %s", got, uid)
		}
	case <-time.After(10 * time.Second):
		e.t.Fatal("no OnChange")
	}
}

func (e *testEnv) noChange() {
	e.t.Helper()
	select {
	case uid := <-e.changes:
		e.t.Fatalf("unexpected OnChange(%s)", uid)
	default:
	}
}

// result is what Get says, "" when there is no result.
func (e *testEnv) result(probe pods.ProbeType, id string) string {
	r, ok := e.m.Get(probe, id)
	if !ok {
		return ""
	}
	return resultString(r)
}

func (e *testEnv) workers(uid types.UID) int {
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	n := 0
	for key, inst := range e.m.instances {
		if key.podUID == uid {
			n += len(inst.workers)
		}
	}
	return n
}

func execProbe(word string, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{word, "--now"}}},
		TimeoutSeconds:   1,
		PeriodSeconds:    period,
		SuccessThreshold: 1,
		FailureThreshold: failures,
	}
}

func makePod(name string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: containers, RestartPolicy: corev1.RestartPolicyAlways},
	}
}

// running is a pod status whose containers run, started at startedAt.
func running(podIP string, startedAt time.Time, ids map[string]string) corev1.PodStatus {
	s := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: podIP}
	names := make([]string, 0, len(ids))
	for name := range ids {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s.ContainerStatuses = append(s.ContainerStatuses, corev1.ContainerStatus{
			Name:        name,
			ContainerID: "fake://" + ids[name],
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(startedAt)}},
		})
	}
	return s
}

func TestLivenessFailsAfterFailureThreshold(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web", corev1.Container{Name: "app", LivenessProbe: execProbe("live", 10, 2)})
	id := e.start(pod, "app")
	e.exitCode("live", 1, "boom")

	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	diff(t, "initial liveness", "Success", e.result(pods.Liveness, id))
	e.waitExecs(1)
	diff(t, "liveness below the threshold", "Success", e.result(pods.Liveness, id))
	e.noChange()

	e.step(10*time.Second, 1)
	e.waitChange(pod.UID)
	diff(t, "liveness", "Failure", e.result(pods.Liveness, id))
	diff(t, "events", []string{
		"spec.containers{app} Warning Unhealthy: Liveness probe failed: boom",
		"spec.containers{app} Warning Unhealthy: Liveness probe failed: boom",
	}, e.recorder.take())
	// The container is about to be killed: no more probing it.
	e.eventually("the worker to end", func() bool { return e.workers(pod.UID) == 0 })
	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	diff(t, "workers for a container that failed liveness", 0, e.workers(pod.UID))
	diff(t, "liveness after a resync", "Failure", e.result(pods.Liveness, id))

	// Its replacement starts fresh.
	e.exitCode("live", 0, "")
	newID := e.start(pod, "app")
	e.m.UpdatePod(pod, running("10.88.0.2", e.clock.Now(), map[string]string{"app": newID}))
	diff(t, "old container's liveness", "", e.result(pods.Liveness, id))
	diff(t, "new container's liveness", "Success", e.result(pods.Liveness, newID))
	e.waitExecs(3)
	diff(t, "workers", 1, e.workers(pod.UID))
}

func TestReadiness(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web", corev1.Container{Name: "app", ReadinessProbe: execProbe("ready", 5, 3)})
	id := e.start(pod, "app")
	e.exitCode("ready", 0, "")

	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	diff(t, "initial readiness", "Failure", e.result(pods.Readiness, id))
	e.waitChange(pod.UID)
	diff(t, "readiness after a success", "Success", e.result(pods.Readiness, id))

	// Three failures in a row make it unready; the worker goes on.
	e.exitCode("ready", 2, "not yet\n")
	for i := range 3 {
		e.step(5*time.Second, 1)
		e.waitExecs(int32(i + 2))
	}
	e.waitChange(pod.UID)
	diff(t, "readiness after failures", "Failure", e.result(pods.Readiness, id))
	diff(t, "events", 3, len(e.recorder.take()))

	e.exitCode("ready", 0, "")
	e.step(5*time.Second, 1)
	e.waitChange(pod.UID)
	diff(t, "readiness once it succeeds again", "Success", e.result(pods.Readiness, id))
	diff(t, "workers", 1, e.workers(pod.UID))
}

func TestInitialDelay(t *testing.T) {
	e := newTestEnv(t)
	probe := execProbe("ready", 10, 3)
	probe.InitialDelaySeconds = 30
	pod := makePod("web", corev1.Container{Name: "app", ReadinessProbe: probe})
	id := e.start(pod, "app")

	// The container started 10s ago: the first probe is 20s away.
	e.m.UpdatePod(pod, running("10.88.0.2", t0.Add(-10*time.Second), map[string]string{"app": id}))
	e.step(19*time.Second, 1)
	time.Sleep(10 * time.Millisecond)
	diff(t, "probes during the initial delay", int32(0), e.execs.Load())
	e.step(time.Second, 1)
	e.waitExecs(1)
	e.waitChange(pod.UID)
	diff(t, "readiness", "Success", e.result(pods.Readiness, id))
}

func TestStartupProbeGatesTheOthers(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web", corev1.Container{
		Name:           "app",
		StartupProbe:   execProbe("startup", 5, 10),
		ReadinessProbe: execProbe("ready", 10, 3),
		LivenessProbe:  execProbe("live", 10, 3),
	})
	id := e.start(pod, "app")
	e.exitCode("startup", 1, "starting")

	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	e.waitExecs(1)
	for probe, want := range map[pods.ProbeType]string{pods.Startup: "", pods.Readiness: "", pods.Liveness: ""} {
		diff(t, string(probe)+" before the container started", want, e.result(probe, id))
	}
	diff(t, "workers while starting", 1, e.workers(pod.UID))

	e.exitCode("startup", 0, "")
	e.step(5*time.Second, 1)
	e.waitChange(pod.UID)
	diff(t, "startup", "Success", e.result(pods.Startup, id))
	// Readiness and liveness begin at once.
	e.waitExecs(4)
	e.waitChange(pod.UID)
	diff(t, "readiness once started", "Success", e.result(pods.Readiness, id))
	diff(t, "liveness once started", "Success", e.result(pods.Liveness, id))
	e.eventually("the startup worker to end", func() bool { return e.workers(pod.UID) == 2 })
	diff(t, "events", []string{"spec.containers{app} Warning Unhealthy: Startup probe failed: starting"}, e.recorder.take())

	// A later sync does not start the startup probe again.
	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	diff(t, "workers after a resync", 2, e.workers(pod.UID))
}

func TestStartupProbeFailure(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web", corev1.Container{
		Name:          "app",
		StartupProbe:  execProbe("startup", 5, 2),
		LivenessProbe: execProbe("live", 10, 3),
	})
	id := e.start(pod, "app")
	e.exitCode("startup", 1, "")

	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	e.waitExecs(1)
	e.step(5*time.Second, 1)
	e.waitChange(pod.UID)
	diff(t, "startup", "Failure", e.result(pods.Startup, id))
	diff(t, "liveness", "", e.result(pods.Liveness, id))
	e.eventually("the worker to end", func() bool { return e.workers(pod.UID) == 0 })
	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	diff(t, "workers for a container that failed its startup probe", 0, e.workers(pod.UID))
}

func TestStoppedAndRemovedContainers(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web",
		corev1.Container{Name: "a", ReadinessProbe: execProbe("ready", 10, 3)},
		corev1.Container{Name: "b", LivenessProbe: execProbe("live", 10, 3)},
	)
	a, b := e.start(pod, "a"), e.start(pod, "b")
	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"a": a, "b": b}))
	e.waitExecs(2)
	e.eventually("both workers to wait", func() bool { return e.clock.Waiters() == 2 })

	// a stopped.
	status := running("10.88.0.2", t0, map[string]string{"a": a, "b": b})
	status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}
	e.m.UpdatePod(pod, status)
	diff(t, "a's readiness", "", e.result(pods.Readiness, a))
	diff(t, "b's liveness", "Success", e.result(pods.Liveness, b))
	e.eventually("a's worker to end", func() bool { return e.clock.Waiters() == 1 })
	diff(t, "workers", 1, e.workers(pod.UID))

	// The pod finished: everything stops.
	status.Phase = corev1.PodSucceeded
	e.m.UpdatePod(pod, status)
	diff(t, "b's liveness", "", e.result(pods.Liveness, b))
	diff(t, "workers", 0, e.workers(pod.UID))
	e.eventually("the workers to end", func() bool { return e.clock.Waiters() == 0 })

	// RemovePod forgets a pod.
	other := makePod("other", corev1.Container{Name: "a", LivenessProbe: execProbe("live", 10, 3)})
	c := e.start(other, "a")
	e.m.UpdatePod(other, running("10.88.0.3", t0, map[string]string{"a": c}))
	diff(t, "liveness", "Success", e.result(pods.Liveness, c))
	e.m.RemovePod(other.UID)
	diff(t, "liveness of a removed pod", "", e.result(pods.Liveness, c))
	diff(t, "workers of a removed pod", 0, e.workers(other.UID))
}

func TestDeletionQuietsLivenessAndStartup(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web", corev1.Container{
		Name:           "app",
		ReadinessProbe: execProbe("ready", 10, 3),
		LivenessProbe:  execProbe("live", 10, 1),
	})
	id := e.start(pod, "app")
	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	e.waitExecs(2)
	e.waitChange(pod.UID) // ready

	deleting := pod.DeepCopy()
	deleting.DeletionTimestamp = ptr.To(metav1.NewTime(t0))
	e.m.UpdatePod(deleting, running("10.88.0.2", t0, map[string]string{"app": id}))
	e.eventually("the liveness worker to end", func() bool { return e.clock.Waiters() == 1 })
	diff(t, "workers", 1, e.workers(pod.UID))

	// Liveness would fail, but no longer runs; readiness goes on.
	e.exitCode("live", 1, "")
	e.exitCode("ready", 1, "")
	for range 3 {
		e.step(10*time.Second, 1)
	}
	e.waitChange(pod.UID)
	diff(t, "liveness", "Success", e.result(pods.Liveness, id))
	diff(t, "readiness", "Failure", e.result(pods.Readiness, id))
}

func TestAdoptedContainer(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web", corev1.Container{
		Name:           "app",
		StartupProbe:   execProbe("startup", 10, 3),
		ReadinessProbe: execProbe("ready", 10, 3),
	})
	id := e.start(pod, "app")
	// What the previous kubelet reported.
	pod.Status = running("10.88.0.2", t0.Add(-time.Hour), map[string]string{"app": id})
	pod.Status.ContainerStatuses[0].Ready = true
	pod.Status.ContainerStatuses[0].Started = ptr.To(true)

	e.m.UpdatePod(pod, pod.Status)
	e.waitChange(pod.UID)
	diff(t, "startup believed", "Success", e.result(pods.Startup, id))
	diff(t, "readiness believed", "Success", e.result(pods.Readiness, id))
	// The first probe waits half a period (the test's jitter).
	e.step(4*time.Second, 1)
	time.Sleep(10 * time.Millisecond)
	diff(t, "probes before the jitter", int32(0), e.execs.Load())
	e.step(time.Second, 1)
	e.waitExecs(1)
	diff(t, "readiness", "Success", e.result(pods.Readiness, id))

	// A container the API reports with another ID is not adopted.
	other := makePod("other", corev1.Container{Name: "app", ReadinessProbe: execProbe("ready", 10, 3)})
	c := e.start(other, "app")
	other.Status = running("10.88.0.3", t0, map[string]string{"app": "stale"})
	other.Status.ContainerStatuses[0].Ready = true
	e.m.UpdatePod(other, running("10.88.0.3", t0, map[string]string{"app": c}))
	diff(t, "readiness of a container not adopted", "Failure", e.result(pods.Readiness, c))
}

func TestExecErrorsAndTimeouts(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web", corev1.Container{Name: "app", LivenessProbe: execProbe("live", 10, 1)})
	id := e.start(pod, "app")
	e.runtime.InjectError("ExecSync", fmt.Errorf("runtime is busy"))
	e.runtime.InjectError("ExecSync", fmt.Errorf("runtime is busy"))
	e.runtime.InjectError("ExecSync", fmt.Errorf("runtime is busy"))
	e.m.UpdatePod(pod, running("10.88.0.2", t0, map[string]string{"app": id}))
	e.eventually("an event", func() bool {
		e.recorder.mu.Lock()
		defer e.recorder.mu.Unlock()
		return len(e.recorder.events) > 0
	})
	diff(t, "events", []string{"spec.containers{app} Warning Unhealthy: Liveness probe errored and resulted in unknown state: runtime is busy"}, e.recorder.take())
	diff(t, "exec calls: three tries", 3, countCalls(e.runtime.Calls(), "ExecSync default/web/app live --now"))
	diff(t, "liveness after an error", "Success", e.result(pods.Liveness, id))
	e.noChange()
}

func countCalls(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

func TestHTTPReadinessThroughTheManager(t *testing.T) {
	e := newTestEnv(t)
	var paths atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path + " " + r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)

	pod := makePod("web", corev1.Container{
		Name:  "app",
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(p)}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}},
		},
	})
	id := e.start(pod, "app")
	e.m.UpdatePod(pod, running(host, t0, map[string]string{"app": id}))
	e.waitChange(pod.UID)
	diff(t, "readiness", "Success", e.result(pods.Readiness, id))
	diff(t, "request", "/ready kube-probe/1.37", paths.Load())
}
