package pods

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/cri/fake"
)

type testEnv struct {
	t        *testing.T
	ctx      context.Context
	clock    *testingclock.FakeClock
	runtime  *fake.Runtime
	recorder *events.FakeRecorder
	probes   ProbeResultMap
	cfg      Config
}

func newTestEnv(t *testing.T) *testEnv {
	_, ctx := ktesting.NewTestContext(t)
	clock := testingclock.NewFakeClock(t0)
	e := &testEnv{
		t:        t,
		ctx:      ctx,
		clock:    clock,
		runtime:  fake.New(clock),
		recorder: events.NewFakeRecorder(1000),
		probes:   ProbeResultMap{},
	}
	e.cfg = Config{
		Runtime:        e.runtime,
		Clock:          clock,
		Recorder:       e.recorder,
		Probes:         e.probes,
		NodeName:       "node-1",
		Hostname:       "node-1",
		HostIPs:        []string{"192.168.1.10"},
		MemoryCapacity: 8 << 30,
		PodLogsDir:     filepath.Join(t.TempDir(), "logs"),
		PodsDir:        filepath.Join(t.TempDir(), "pods"),
	}
	return e
}

func (e *testEnv) worker(pod *corev1.Pod) *Worker {
	return NewWorker(e.cfg, pod.UID)
}

// sync runs a sync that must succeed.
func (e *testEnv) sync(w *Worker, pod *corev1.Pod) Result {
	e.t.Helper()
	res, err := w.Sync(e.ctx, pod)
	if err != nil {
		e.t.Fatalf("Sync: %v", err)
	}
	return res
}

// calls returns the runtime calls since the last time and forgets them.
func (e *testEnv) calls() []string {
	calls := e.runtime.Calls()
	e.runtime.ResetCalls()
	return calls
}

// events returns the events recorded since the last time.
func (e *testEnv) events() []string {
	var list []string
	for {
		select {
		case ev := <-e.recorder.Events:
			list = append(list, ev)
		default:
			return list
		}
	}
}

func (e *testEnv) exit(pod *corev1.Pod, container string, code int32) {
	e.t.Helper()
	if err := e.runtime.Exit(e.runtime.ContainerID(pod.Namespace, pod.Name, container), code, ""); err != nil {
		e.t.Fatal(err)
	}
}

func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func TestWorkerRunsAPod(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app", "sidecar").Obj()
	w := e.worker(pod)

	res := e.sync(w, pod)
	diff(t, "runtime calls", []string{
		"RunPodSandbox default/web attempt=0",
		"PullImage busybox:latest",
		"CreateContainer default/web/app attempt=0",
		"StartContainer default/web/app",
		"CreateContainer default/web/sidecar attempt=0",
		"StartContainer default/web/sidecar",
	}, e.calls())
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)
	diff(t, "conditions", []string{
		"PodReadyToStartContainers=True",
		"Initialized=True",
		"Ready=True",
		"ContainersReady=True",
		"PodScheduled=True",
	}, conditionSummary(res.Status.Conditions))
	diff(t, "containers", []string{"app: running restarts=0 ready started", "sidecar: running restarts=0 ready started"}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "pod IP", "10.88.0.2", res.Status.PodIP)
	diff(t, "container ID", "fake://container-2", res.Status.ContainerStatuses[0].ContainerID)
	diff(t, "events", []string{
		`Normal Pulling Pulling image "busybox"`,
		`Normal Pulled Successfully pulled image "busybox" in 0s`,
		"Normal Created Created container: app",
		"Normal Started Started container app",
		`Normal Pulled Container image "busybox" already present on machine`,
		"Normal Created Created container: sidecar",
		"Normal Started Started container sidecar",
	}, e.events())

	// Synced again, nothing changes.
	again := e.sync(w, pod)
	diff(t, "runtime calls of the second sync", []string(nil), e.calls())
	diff(t, "status of the second sync", res.Status, again.Status)
}

func TestWorkerSandboxAndContainerConfig(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Resources("app", "cpu=250m,memory=64Mi", "cpu=500m,memory=128Mi").Edit("app", func(c *corev1.Container) {
		c.Command = []string{"/bin/sh", "-c"}
		c.Args = []string{"echo $(GREETING) $(NODE) $$(HOME) $(MISSING)"}
		c.WorkingDir = "/work"
		c.Env = []corev1.EnvVar{
			{Name: "NAME", Value: "world"},
			{Name: "GREETING", Value: "hello $(NAME)"},
			{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "MEMORY", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resourceList("memory=1Mi")["memory"]}}},
		}
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: corev1.ProtocolTCP}}
	}).Obj()
	pod.Labels = map[string]string{"app": "web"}
	w := e.worker(pod)
	e.sync(w, pod)

	sandboxes := e.runtime.SandboxConfigs()
	if len(sandboxes) != 1 {
		t.Fatalf("%d sandboxes, want 1", len(sandboxes))
	}
	wantSandbox := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "uid-web"},
		Hostname:     "web",
		LogDirectory: filepath.Join(e.cfg.PodLogsDir, "default_web_uid-web"),
		PortMappings: []*runtimeapi.PortMapping{{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 80, HostPort: 8080}},
		Labels: map[string]string{
			"app":                         "web",
			"io.kubernetes.pod.name":      "web",
			"io.kubernetes.pod.namespace": "default",
			"io.kubernetes.pod.uid":       "uid-web",
		},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
			},
		},
	}
	diff(t, "sandbox config", wantSandbox, sandboxes[0], protocmp.Transform())
	if _, err := os.Stat(wantSandbox.LogDirectory); err != nil {
		t.Errorf("pod log directory: %v", err)
	}

	got := e.runtime.ContainerConfig(e.runtime.ContainerID("default", "web", "app"))
	var mountPaths []string
	for _, m := range got.Mounts {
		mountPaths = append(mountPaths, m.ContainerPath)
		if !strings.HasPrefix(m.HostPath, filepath.Join(e.cfg.PodsDir, "uid-web")) {
			t.Errorf("mount %s from %s, outside the pod's directory", m.ContainerPath, m.HostPath)
		}
	}
	diff(t, "mounts", []string{"/etc/hosts", "/dev/termination-log"}, mountPaths)
	hosts, err := os.ReadFile(got.Mounts[0].HostPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hosts), "10.88.0.2\tweb\n") {
		t.Errorf("hosts file lacks the pod's own entry:\n%s", hosts)
	}
	got.Mounts = nil
	want := &runtimeapi.ContainerConfig{
		Metadata:   &runtimeapi.ContainerMetadata{Name: "app"},
		Image:      &runtimeapi.ImageSpec{Image: fakeImageID(t, e, "busybox:latest"), UserSpecifiedImage: "busybox"},
		Command:    []string{"/bin/sh", "-c"},
		Args:       []string{"echo hello world node-1 $(HOME) $(MISSING)"},
		WorkingDir: "/work",
		Envs: []*runtimeapi.KeyValue{
			{Key: "NAME", Value: []byte("world")},
			{Key: "GREETING", Value: []byte("hello world")},
			{Key: "NODE", Value: []byte("node-1")},
			{Key: "POD_IP", Value: []byte("10.88.0.2")},
			{Key: "MEMORY", Value: []byte("128")},
		},
		Labels: map[string]string{
			"io.kubernetes.pod.name":       "web",
			"io.kubernetes.pod.namespace":  "default",
			"io.kubernetes.pod.uid":        "uid-web",
			"io.kubernetes.container.name": "app",
		},
		Annotations: map[string]string{
			"io.kubernetes.container.hash":                     HashContainer(&pod.Spec.Containers[0]),
			"io.kubernetes.container.restartCount":             "0",
			"io.kubernetes.container.terminationMessagePath":   "/dev/termination-log",
			"io.kubernetes.container.terminationMessagePolicy": "File",
			"io.kubernetes.container.type":                     "container",
			"io.kubernetes.container.ports":                    `[{"hostPort":8080,"containerPort":80,"protocol":"TCP"}]`,
			"io.kubernetes.pod.terminationGracePeriod":         "30",
		},
		LogPath: "app/0.log",
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources: &runtimeapi.LinuxContainerResources{
				CpuShares:          256,
				CpuPeriod:          100000,
				CpuQuota:           50000,
				MemoryLimitInBytes: 128 << 20,
				OomScoreAdj:        993,
			},
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
				Seccomp:          &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined},
				MaskedPaths:      defaultMaskedPaths,
				ReadonlyPaths:    defaultReadonlyPaths,
			},
		},
	}
	diff(t, "container config", want, got, protocmp.Transform())
}

func fakeImageID(t *testing.T, e *testEnv, image string) string {
	t.Helper()
	resp, err := e.runtime.ImageStatus(e.ctx, &runtimeapi.ImageSpec{Image: image}, false)
	if err != nil || resp.Image == nil {
		t.Fatalf("image %s not present: %v", image, err)
	}
	return resp.Image.Id
}

func TestWorkerRunsInitContainersInOrder(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Init("one", "two").Containers("app").Obj()
	w := e.worker(pod)
	e.runtime.AddImage("busybox:latest")

	res := e.sync(w, pod)
	diff(t, "first sync", []string{
		"RunPodSandbox default/web attempt=0",
		"CreateContainer default/web/one attempt=0",
		"StartContainer default/web/one",
	}, e.calls())
	diff(t, "init containers while one runs", []string{"one: running restarts=0 started", "two: waiting(PodInitializing) restarts=0"}, containerSummary(res.Status.InitContainerStatuses))
	diff(t, "Initialized", "Initialized=False ContainersNotInitialized: containers with incomplete status: [one two]", conditionSummary(res.Status.Conditions)[1])
	diff(t, "phase", corev1.PodPending, res.Status.Phase)

	// While one runs, nothing else starts.
	e.sync(w, pod)
	diff(t, "sync while one runs", []string(nil), e.calls())

	e.exit(pod, "one", 0)
	res = e.sync(w, pod)
	diff(t, "second init container", []string{"CreateContainer default/web/two attempt=0", "StartContainer default/web/two"}, e.calls())
	diff(t, "init containers while two runs", []string{"one: terminated(0 Completed) restarts=0 ready", "two: running restarts=0 started"}, containerSummary(res.Status.InitContainerStatuses))

	e.exit(pod, "two", 0)
	res = e.sync(w, pod)
	diff(t, "app container", []string{"CreateContainer default/web/app attempt=0", "StartContainer default/web/app"}, e.calls())
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)
	diff(t, "conditions", []string{
		"PodReadyToStartContainers=True",
		"Initialized=True",
		"Ready=True",
		"ContainersReady=True",
		"PodScheduled=True",
	}, conditionSummary(res.Status.Conditions))
}

func TestWorkerFailedInitContainerIsRetried(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Init("setup").Containers("app").Obj()
	e.runtime.SetBehavior("setup", fake.Behavior{ExitOnStart: ptr.To[int32](1)})
	w := e.worker(pod)

	res := e.sync(w, pod)
	diff(t, "init after the first run", []string{"setup: terminated(1 Error) restarts=0"}, containerSummary(res.Status.InitContainerStatuses))
	res = e.sync(w, pod) // restarted at once, fails again
	diff(t, "init after the second run", []string{"setup: terminated(1 Error) last=terminated(1 Error) restarts=1"}, containerSummary(res.Status.InitContainerStatuses))
	res = e.sync(w, pod)
	diff(t, "init in back-off", []string{"setup: waiting(CrashLoopBackOff: back-off 10s restarting failed container=setup pod=web_default(uid-web)) last=terminated(1 Error) restarts=1"}, containerSummary(res.Status.InitContainerStatuses))
	diff(t, "phase", corev1.PodPending, res.Status.Phase)

	// It succeeds the next time: the app container starts on the next sync.
	e.runtime.SetBehavior("setup", fake.Behavior{ExitOnStart: ptr.To[int32](0)})
	e.clock.Step(10 * time.Second)
	e.sync(w, pod)
	e.calls()
	res = e.sync(w, pod)
	diff(t, "app starts, earlier runs of setup removed", []string{
		"RemoveContainer default/web/setup",
		"CreateContainer default/web/app attempt=0",
		"StartContainer default/web/app",
	}, e.calls())
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)
	// Only the last run of the init container is kept.
	diff(t, "init containers kept", []string{"setup: terminated(0 Completed) restarts=2 ready"}, containerSummary(res.Status.InitContainerStatuses))
}

func TestWorkerCrashLoopBackOff(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Obj()
	e.runtime.SetBehavior("app", fake.Behavior{ExitOnStart: ptr.To[int32](1)})
	w := e.worker(pod)

	res := e.sync(w, pod)
	diff(t, "after the first crash", []string{"app: terminated(1 Error) restarts=0"}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)
	e.calls()

	// The first restart is immediate.
	res = e.sync(w, pod)
	diff(t, "first restart", []string{"CreateContainer default/web/app attempt=1", "StartContainer default/web/app"}, e.calls())
	diff(t, "after the second crash", []string{"app: terminated(1 Error) last=terminated(1 Error) restarts=1"}, containerSummary(res.Status.ContainerStatuses))

	// Then each restart waits twice as long.
	restarts := 1
	for _, backoff := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second} {
		e.events()
		res = e.sync(w, pod)
		diff(t, "calls in back-off", []string(nil), e.calls())
		diff(t, "in back-off", []string{
			"app: waiting(CrashLoopBackOff: back-off " + backoff.String() + " restarting failed container=app pod=web_default(uid-web)) last=terminated(1 Error) restarts=" + strconv.Itoa(restarts),
		}, containerSummary(res.Status.ContainerStatuses))
		diff(t, "requeue after", backoff, res.RequeueAfter)
		diff(t, "events in back-off", []string{"Warning BackOff Back-off restarting failed container app in pod web_default(uid-web)"}, e.events())

		e.clock.Step(backoff - time.Second)
		e.sync(w, pod)
		diff(t, "calls a second before the back-off ends", []string(nil), e.calls())

		e.clock.Step(time.Second)
		res = e.sync(w, pod)
		restarts++
		// The container before the previous one is garbage collected.
		diff(t, "restart after "+backoff.String(), []string{
			"CreateContainer default/web/app attempt=" + strconv.Itoa(restarts),
			"StartContainer default/web/app",
			"RemoveContainer default/web/app",
		}, e.calls())
		diff(t, "restart count", int32(restarts), res.Status.ContainerStatuses[0].RestartCount)
	}
}

func TestWorkerRestartPolicyNever(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj()
	w := e.worker(pod)
	e.sync(w, pod)
	e.calls()

	e.exit(pod, "app", 3)
	res := e.sync(w, pod)
	diff(t, "phase", corev1.PodFailed, res.Status.Phase)
	diff(t, "containers", []string{"app: terminated(3 Error) restarts=0"}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "conditions", []string{
		"PodReadyToStartContainers=False",
		"Initialized=True",
		"Ready=False PodFailed",
		"ContainersReady=False PodFailed",
		"PodScheduled=True",
	}, conditionSummary(res.Status.Conditions))
	diff(t, "calls", []string{"StopPodSandbox default/job"}, e.calls())
	diff(t, "pod IP kept once the sandbox stopped", "10.88.0.2", res.Status.PodIP)
	if !res.Stopped {
		t.Error("finished pod not stopped")
	}

	// Done for good: later syncs do nothing.
	again := e.sync(w, pod)
	diff(t, "calls after the end", []string(nil), e.calls())
	diff(t, "phase after the end", corev1.PodFailed, again.Status.Phase)
}

func TestWorkerRestartPolicyOnFailureSucceeds(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyOnFailure).Obj()
	w := e.worker(pod)
	e.sync(w, pod)

	e.exit(pod, "app", 1)
	e.sync(w, pod)
	calls := e.calls()
	diff(t, "restarted after failing", "StartContainer default/job/app", calls[len(calls)-1])

	e.exit(pod, "app", 0)
	res := e.sync(w, pod)
	diff(t, "phase", corev1.PodSucceeded, res.Status.Phase)
	diff(t, "containers", []string{"app: terminated(0 Completed) last=terminated(1 Error) restarts=1"}, containerSummary(res.Status.ContainerStatuses))
}

func TestWorkerOOMKilled(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("hog").Containers("app").Resources("app", "memory=16Mi", "memory=16Mi").Obj()
	w := e.worker(pod)
	e.sync(w, pod)

	if err := e.runtime.OOMKill(e.runtime.ContainerID("default", "hog", "app")); err != nil {
		t.Fatal(err)
	}
	e.calls()
	res := e.sync(w, pod)
	diff(t, "restarted", []string{"CreateContainer default/hog/app attempt=1", "StartContainer default/hog/app"}, e.calls())
	diff(t, "containers", []string{"app: running last=terminated(137 OOMKilled) restarts=1 ready started"}, containerSummary(res.Status.ContainerStatuses))
}

func TestWorkerOOMKilledNever(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("hog").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj()
	e.runtime.SetBehavior("app", fake.Behavior{OOMOnStart: true})
	w := e.worker(pod)
	res := e.sync(w, pod)
	diff(t, "phase", corev1.PodFailed, res.Status.Phase)
	diff(t, "containers", []string{"app: terminated(137 OOMKilled) restarts=0"}, containerSummary(res.Status.ContainerStatuses))
}

func TestWorkerImagePullFailure(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) { c.Image = "registry.local/nope:1" }).Obj()
	e.runtime.SetPullError("registry.local/nope:1", status.Error(codes.NotFound, "failed to resolve reference: not found"))
	w := e.worker(pod)

	res := e.sync(w, pod)
	diff(t, "after the first pull", []string{"app: waiting(ErrImagePull: rpc error: code = NotFound desc = failed to resolve reference: not found) restarts=0"}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "phase", corev1.PodPending, res.Status.Phase)
	diff(t, "requeue after", 10*time.Second, res.RequeueAfter)
	diff(t, "events", []string{
		`Normal Pulling Pulling image "registry.local/nope:1"`,
		`Warning Failed Failed to pull image "registry.local/nope:1": rpc error: code = NotFound desc = failed to resolve reference: not found`,
		"Warning Failed Error: ErrImagePull",
	}, e.events())
	e.calls()

	res = e.sync(w, pod)
	diff(t, "pulls while backing off", []string(nil), e.calls())
	diff(t, "in back-off", []string{`app: waiting(ImagePullBackOff: Back-off pulling image "registry.local/nope:1": ErrImagePull: rpc error: code = NotFound desc = failed to resolve reference: not found) restarts=0`}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "events in back-off", []string{
		`Normal BackOff Back-off pulling image "registry.local/nope:1"`,
		"Warning Failed Error: ImagePullBackOff",
	}, e.events())

	// After the back-off, it pulls again, fails again, and backs off longer.
	e.clock.Step(10 * time.Second)
	res = e.sync(w, pod)
	diff(t, "second pull", []string{"PullImage registry.local/nope:1"}, e.calls())
	diff(t, "requeue after the second failure", 20*time.Second, res.RequeueAfter)

	// Once the image can be pulled, the container runs.
	e.runtime.SetPullError("registry.local/nope:1", nil)
	e.clock.Step(20 * time.Second)
	res = e.sync(w, pod)
	diff(t, "containers", []string{"app: running restarts=0 ready started"}, containerSummary(res.Status.ContainerStatuses))
}

func TestWorkerImagePullPolicy(t *testing.T) {
	tests := []struct {
		policy  corev1.PullPolicy
		present bool
		calls   []string
		waiting string
	}{
		{corev1.PullIfNotPresent, true, nil, ""},
		{corev1.PullIfNotPresent, false, []string{"PullImage busybox:latest"}, ""},
		{corev1.PullAlways, true, []string{"PullImage busybox:latest"}, ""},
		{corev1.PullNever, true, nil, ""},
		{corev1.PullNever, false, nil, `app: waiting(ErrImageNeverPull: Container image "busybox" is not present with pull policy of Never) restarts=0`},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			e := newTestEnv(t)
			pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) { c.ImagePullPolicy = tt.policy }).Obj()
			if tt.present {
				e.runtime.AddImage("busybox:latest")
			}
			res := e.sync(e.worker(pod), pod)
			var pulls []string
			for _, c := range e.calls() {
				if strings.HasPrefix(c, "PullImage") {
					pulls = append(pulls, c)
				}
			}
			diff(t, "pulls", tt.calls, pulls)
			if tt.waiting != "" {
				diff(t, "containers", []string{tt.waiting}, containerSummary(res.Status.ContainerStatuses))
			}
		})
	}
}

// stubCredentials are the pull credentials of every image.
type stubCredentials []*runtimeapi.AuthConfig

func (s stubCredentials) PullCredentials(context.Context, *corev1.Pod, string) ([]*runtimeapi.AuthConfig, error) {
	return s, nil
}

// A pull tries the pod's credentials in turn, as upstream, until one is
// accepted; when none is, the container waits in ErrImagePull.
func TestWorkerPullsWithEachCredential(t *testing.T) {
	tests := []struct {
		name    string
		creds   stubCredentials
		pulls   []string
		waiting string
	}{{
		name:  "the second credential is accepted",
		creds: stubCredentials{{Username: "stale"}, {Username: "robot"}},
		pulls: []string{"PullImage registry.example.com/app:1 user=stale", "PullImage registry.example.com/app:1 user=robot"},
	}, {
		name:    "none is accepted",
		creds:   stubCredentials{{Username: "stale"}},
		pulls:   []string{"PullImage registry.example.com/app:1 user=stale"},
		waiting: "app: waiting(ErrImagePull: ",
	}, {
		name:    "anonymous",
		pulls:   []string{"PullImage registry.example.com/app:1"},
		waiting: "app: waiting(ErrImagePull: ",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.runtime.RequirePullUser("registry.example.com/app:1", "robot")
			pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) { c.Image = "registry.example.com/app:1" }).Obj()
			e.cfg.Credentials = tt.creds
			res := e.sync(e.worker(pod), pod)
			var pulls []string
			for _, c := range e.calls() {
				if strings.HasPrefix(c, "PullImage") {
					pulls = append(pulls, c)
				}
			}
			diff(t, "pulls", tt.pulls, pulls)
			got := containerSummary(res.Status.ContainerStatuses)
			if tt.waiting == "" {
				diff(t, "containers", []string{"app: running restarts=0 ready started"}, got)
			} else if len(got) != 1 || !strings.HasPrefix(got[0], tt.waiting) || !strings.Contains(got[0], "authorization failed") {
				t.Errorf("containers %q, want %s… saying the authorization failed", got, tt.waiting)
			}
		})
	}
}

func TestWorkerDeletionStopsContainersWithGracePeriod(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app", "helper").Obj()
	e.runtime.SetBehavior("helper", fake.Behavior{StopExitCode: ptr.To[int32](0)})
	w := e.worker(pod)
	e.sync(w, pod)
	e.calls()
	e.events()

	deleted := pod.DeepCopy()
	deleted.DeletionTimestamp = &metav1Time
	deleted.DeletionGracePeriodSeconds = ptr.To[int64](7)
	res := e.sync(w, deleted)
	diff(t, "calls", []string{
		"StopContainer default/web/app timeout=7",
		"StopContainer default/web/helper timeout=7",
		"StopPodSandbox default/web",
	}, sortedStrings(e.calls()))
	diff(t, "events", []string{"Normal Killing Stopping container app", "Normal Killing Stopping container helper"}, sortedStrings(e.events()))
	if !res.Stopped {
		t.Error("deleted pod not stopped")
	}
	diff(t, "phase", corev1.PodFailed, res.Status.Phase)
	diff(t, "containers", []string{"app: terminated(137 Error) restarts=0", "helper: terminated(0 Completed) restarts=0"}, containerSummary(res.Status.ContainerStatuses))

	// Terminated, it stays so.
	again := e.sync(w, deleted)
	diff(t, "calls after termination", []string(nil), e.calls())
	diff(t, "phase after termination", corev1.PodFailed, again.Status.Phase)

	if err := w.Cleanup(e.ctx, pod.Namespace, pod.Name); err != nil {
		t.Fatal(err)
	}
	diff(t, "cleanup calls", []string{
		"RemoveContainer default/web/app",
		"RemoveContainer default/web/helper",
		"RemovePodSandbox default/web",
	}, sortedStrings(e.calls()))
	if _, err := os.Stat(PodLogsDir(e.cfg.PodLogsDir, "default", "web", pod.UID)); !os.IsNotExist(err) {
		t.Errorf("logs left after cleanup: %v", err)
	}
}

func TestWorkerDeletionGracePeriod(t *testing.T) {
	tests := []struct {
		name     string
		pod      func() *corev1.Pod
		override *int64
		want     string
	}{
		{"pod's terminationGracePeriodSeconds", func() *corev1.Pod { return makePod("web").Containers("app").Obj() }, nil, "timeout=30"},
		{"deletion's grace period", func() *corev1.Pod { return makePod("web").Containers("app").Deleted(12).Obj() }, nil, "timeout=12"},
		{"at least 2s", func() *corev1.Pod { return makePod("web").Containers("app").Deleted(0).Obj() }, nil, "timeout=2"},
		{"override", func() *corev1.Pod { return makePod("web").Containers("app").Deleted(12).Obj() }, ptr.To[int64](0), "timeout=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			pod := tt.pod()
			running := pod.DeepCopy()
			running.DeletionTimestamp, running.DeletionGracePeriodSeconds = nil, nil
			w := e.worker(pod)
			e.sync(w, running)
			e.calls()
			if _, err := w.Terminate(e.ctx, pod, tt.override); err != nil {
				t.Fatal(err)
			}
			diff(t, "calls", []string{"StopContainer default/web/app " + tt.want, "StopPodSandbox default/web"}, e.calls())
		})
	}
}

func TestWorkerLivenessFailureRestarts(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").LivenessProbe("app").Obj()
	pod.Spec.Containers[0].LivenessProbe.TerminationGracePeriodSeconds = ptr.To[int64](5)
	w := e.worker(pod)
	e.sync(w, pod)
	e.calls()
	e.events()

	e.probes.Set(Liveness, e.runtime.ContainerID("default", "web", "app"), ProbeFailure)
	res := e.sync(w, pod)
	diff(t, "calls", []string{
		"StopContainer default/web/app timeout=5",
		"CreateContainer default/web/app attempt=1",
		"StartContainer default/web/app",
	}, e.calls())
	diff(t, "killing event", "Normal Killing Container app failed liveness probe, will be restarted", e.events()[0])
	diff(t, "containers", []string{"app: running last=terminated(137 Error) restarts=1 ready started"}, containerSummary(res.Status.ContainerStatuses))
}

func TestWorkerCreateContainerConfigError(t *testing.T) {
	e := newTestEnv(t)
	e.cfg.Env = &Environment{Objects: objects{configMaps: map[string]*corev1.ConfigMap{"settings": {Data: map[string]string{"a": "1"}}}}}
	pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) {
		c.Env = []corev1.EnvVar{{Name: "B", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "b",
		}}}}
	}).Obj()
	w := e.worker(pod)
	res := e.sync(w, pod)
	diff(t, "containers", []string{"app: waiting(CreateContainerConfigError: couldn't find key b in ConfigMap default/settings) restarts=0"}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "phase", corev1.PodPending, res.Status.Phase)
}

func TestWorkerTerminationMessage(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("job").Containers("app", "logs").RestartPolicy(corev1.RestartPolicyNever).
		Edit("logs", func(c *corev1.Container) { c.TerminationMessagePolicy = corev1.TerminationMessageFallbackToLogsOnError }).Obj()
	w := e.worker(pod)
	e.sync(w, pod)

	// app writes its termination message; logs only logs before failing.
	appConfig := e.runtime.ContainerConfig(e.runtime.ContainerID("default", "job", "app"))
	for _, m := range appConfig.Mounts {
		if m.ContainerPath == "/dev/termination-log" {
			if err := os.WriteFile(m.HostPath, []byte("all done"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	logPath := filepath.Join(e.cfg.PodLogsDir, "default_job_uid-job", "logs", "0.log")
	if err := os.WriteFile(logPath, []byte("2026-03-01T12:00:00Z stderr P partial \n2026-03-01T12:00:00Z stderr F line\n2026-03-01T12:00:01Z stderr F boom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.exit(pod, "app", 0)
	e.exit(pod, "logs", 1)
	res := e.sync(w, pod)
	diff(t, "containers", []string{
		"app: terminated(0 Completed: all done) restarts=0",
		"logs: terminated(1 Error: partial line\nboom\n) restarts=0",
	}, containerSummary(res.Status.ContainerStatuses))
}

func TestWorkerSandboxFailure(t *testing.T) {
	e := newTestEnv(t)
	e.runtime.InjectError("RunPodSandbox", errors.New("failed to setup network for sandbox: plugin type=\"bridge\" failed"))
	pod := makePod("web").Containers("app").Obj()
	w := e.worker(pod)
	res, err := w.Sync(e.ctx, pod)
	if err == nil {
		t.Fatal("Sync succeeded, want the sandbox error")
	}
	diff(t, "phase", corev1.PodPending, res.Status.Phase)
	diff(t, "PodReadyToStartContainers", "PodReadyToStartContainers=False", conditionSummary(res.Status.Conditions)[0])
	diff(t, "events", []string{`Warning FailedCreatePodSandBox Failed to create pod sandbox: failed to setup network for sandbox: plugin type="bridge" failed`}, e.events())

	// The next sync succeeds.
	res = e.sync(w, pod)
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)
}

func TestWorkerAdoptsRunningContainers(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Obj()
	e.runtime.SetBehavior("app", fake.Behavior{ExitOnStart: ptr.To[int32](1)})
	w := e.worker(pod)
	e.sync(w, pod)
	e.runtime.SetBehavior("app", fake.Behavior{})
	first := e.sync(w, pod) // restarted, runs
	e.calls()

	// A new kubelet (a new worker) finds the container running: it
	// leaves it and reports the same status.
	restarted := e.worker(pod)
	res := e.sync(restarted, pod)
	diff(t, "calls", []string(nil), e.calls())
	diff(t, "status", first.Status, res.Status)
	diff(t, "containers", []string{"app: running last=terminated(1 Error) restarts=1 ready started"}, containerSummary(res.Status.ContainerStatuses))
}

func TestWorkerSidecar(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("job").Sidecar("proxy").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj()
	w := e.worker(pod)
	e.sync(w, pod)
	diff(t, "first sync starts the sidecar", []string{
		"RunPodSandbox default/job attempt=0",
		"PullImage busybox:latest",
		"CreateContainer default/job/proxy attempt=0",
		"StartContainer default/job/proxy",
	}, e.calls())
	res := e.sync(w, pod)
	diff(t, "second sync starts the app", []string{"CreateContainer default/job/app attempt=0", "StartContainer default/job/app"}, e.calls())
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)

	e.exit(pod, "app", 0)
	res = e.sync(w, pod)
	diff(t, "the sidecar is stopped once the app is done", []string{"StopContainer default/job/proxy timeout=30", "StopPodSandbox default/job"}, e.calls())
	diff(t, "phase", corev1.PodSucceeded, res.Status.Phase)
}

func TestWorkerCreateContainerFailure(t *testing.T) {
	e := newTestEnv(t)
	e.runtime.SetBehavior("app", fake.Behavior{StartError: errors.New(`exec: "nope": executable file not found in $PATH`)})
	pod := makePod("web").Containers("app").Obj()
	res := e.sync(e.worker(pod), pod)
	diff(t, "containers", []string{`app: waiting(RunContainerError: exec: "nope": executable file not found in $PATH) restarts=0`}, containerSummary(res.Status.ContainerStatuses))
}

// --- helpers ---

var metav1Time = metav1.NewTime(t0)

type objects struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func (o objects) GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	if cm, ok := o.configMaps[name]; ok {
		return cm, nil
	}
	return nil, NotFound(apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name), "configmap", name)
}

func (o objects) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	if s, ok := o.secrets[name]; ok {
		return s, nil
	}
	return nil, NotFound(apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name), "secret", name)
}

func TestWorkerDeletedBeforeItRan(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Deleted(30).Obj()
	res := e.sync(e.worker(pod), pod)
	diff(t, "calls", []string(nil), e.calls())
	diff(t, "phase", corev1.PodFailed, res.Status.Phase)
	diff(t, "containers", []string{"app: terminated(137 ContainerStatusUnknown: The container could not be located when the pod was terminated) restarts=0"}, containerSummary(res.Status.ContainerStatuses))
	if !res.Stopped {
		t.Error("not stopped")
	}
}
