package pods

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/cri/fake"
)

func TestComputeGarbage(t *testing.T) {
	pod := makePod("web").Containers("app", "log").Obj()
	tests := []struct {
		name           string
		rt             *RuntimePod
		policy         *GCPolicy
		now            time.Duration // after t0
		wantContainers []string
		wantSandboxes  []string
	}{{
		name: "nothing dead",
		rt:   runtimeFor(pod).Sandbox(0, true).Running("app", 0).Running("log", 0).Obj(),
	}, {
		name: "a restarted container keeps the one before it",
		rt:   runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Running("app", 1).Obj(),
	}, {
		name:           "a crash loop keeps the running container and the last dead one",
		rt:             runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Exited("app", 1, 1).Exited("app", 2, 1).Running("app", 3).Obj(),
		wantContainers: []string{"app-0", "app-1"},
	}, {
		name:           "in back-off the newest dead container and the one before it stay",
		rt:             runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Exited("app", 1, 1).Exited("app", 2, 1).Obj(),
		wantContainers: []string{"app-0"},
	}, {
		name:           "a created container that failed to start is the newest",
		rt:             runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Exited("app", 1, 1).Created("app", 2).Obj(),
		wantContainers: []string{"app-0"},
	}, {
		name: "each container name counts on its own",
		rt: runtimeFor(pod).Sandbox(0, true).
			Exited("app", 0, 1).Exited("log", 0, 1).Exited("app", 1, 1).Exited("log", 1, 1).Exited("log", 2, 1).Running("app", 2).Running("log", 3).Obj(),
		wantContainers: []string{"app-0", "log-0", "log-1"},
	}, {
		name: "an older container that still runs stays",
		rt:   runtimeFor(pod).Sandbox(0, true).Running("app", 0).Exited("app", 1, 1).Running("app", 2).Obj(),
	}, {
		name:           "containers younger than MinAge stay",
		rt:             runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Exited("app", 1, 1).Exited("app", 2, 1).Exited("app", 3, 1).Running("app", 4).Obj(),
		policy:         &GCPolicy{MinAge: 8 * time.Second, MaxPerPodContainer: 1},
		now:            11 * time.Second, // containers were created at t0+2s, 3s, 4s …
		wantContainers: []string{"app-0"},
	}, {
		name:   "a negative MaxPerPodContainer keeps every dead container",
		rt:     runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Exited("app", 1, 1).Exited("app", 2, 1).Running("app", 3).Obj(),
		policy: &GCPolicy{MaxPerPodContainer: -1},
	}, {
		name:           "MaxPerPodContainer 0 keeps only the newest",
		rt:             runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Exited("app", 1, 1).Running("app", 2).Obj(),
		policy:         &GCPolicy{MaxPerPodContainer: 0},
		wantContainers: []string{"app-0", "app-1"},
	}, {
		name: "containers in state unknown might run: they stay",
		rt:   runtimeFor(pod).Sandbox(0, true).Unknown("app", 0).Unknown("app", 1).Exited("app", 2, 1).Running("app", 3).Obj(),
	}, {
		name: "stopped sandboxes without containers go, but the newest",
		rt: runtimeFor(pod).Sandbox(0, false).Sandbox(1, false).Exited("app", 0, 1).
			Sandbox(2, false).Sandbox(3, false).Obj(),
		wantSandboxes: []string{"sandbox-0", "sandbox-2"},
	}, {
		name: "a sandbox emptied by the collection goes with its containers",
		rt: runtimeFor(pod).Sandbox(0, false).Exited("app", 0, 1).Exited("log", 0, 0).
			Sandbox(1, false).Exited("app", 1, 1).Exited("log", 1, 0).
			Sandbox(2, true).Running("app", 2).Running("log", 2).Obj(),
		wantContainers: []string{"app-0", "log-0"},
		wantSandboxes:  []string{"sandbox-0"},
	}, {
		name:          "ready sandboxes stay",
		rt:            runtimeFor(pod).Sandbox(0, true).Sandbox(1, false).Sandbox(2, true).Obj(),
		wantSandboxes: []string{"sandbox-1"},
	}, {
		name: "nothing known",
		rt:   nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := DefaultGCPolicy
			if tt.policy != nil {
				policy = *tt.policy
			}
			g := ComputeGarbage(tt.rt, policy, t0.Add(tt.now))
			var containers, sandboxes []string
			for _, c := range g.Containers {
				containers = append(containers, c.ID)
			}
			for _, s := range g.Sandboxes {
				sandboxes = append(sandboxes, s.Id)
			}
			diff(t, "containers", tt.wantContainers, containers)
			diff(t, "sandboxes", tt.wantSandboxes, sandboxes)
			diff(t, "empty", len(tt.wantContainers)+len(tt.wantSandboxes) == 0, g.Empty())
		})
	}
}

// writeLog writes a CRI log line to the log of the newest container named
// name, as the runtime would, and returns the log's path.
func (e *testEnv) writeLog(pod *corev1.Pod, name, line string) string {
	e.t.Helper()
	path := e.logPath(e.runtime.ContainerID(pod.Namespace, pod.Name, name))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("2026-03-01T12:00:00Z stdout F " + line + "\n"); err != nil {
		e.t.Fatal(err)
	}
	return path
}

func (e *testEnv) logPath(id string) string {
	e.t.Helper()
	resp, err := e.runtime.ContainerStatus(e.ctx, id, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.Status.LogPath
}

// containersOf lists the runtime's containers named name as
// "<state> attempt=<n>", oldest first.
func (e *testEnv) containersOf(name string) []string {
	e.t.Helper()
	list, err := e.runtime.ListContainers(e.ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{ContainerNameLabel: name}})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, c := range list {
		out = append(out, strings.ToLower(strings.TrimPrefix(c.State.String(), "CONTAINER_"))+" attempt="+strconv.Itoa(int(c.Metadata.Attempt)))
	}
	return out
}

func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWorkerGarbageCollectsACrashLoop(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Obj()
	w := e.worker(pod)
	res := e.sync(w, pod)
	e.writeLog(pod, "app", "run 0")
	logDir := filepath.Join(PodLogsDir(e.cfg.PodLogsDir, pod.Namespace, pod.Name, pod.UID), "app")

	for restart := 1; restart <= 6; restart++ {
		e.exit(pod, "app", 1)
		e.clock.Step(10 * time.Minute) // past any back-off
		res = e.sync(w, pod)
		e.writeLog(pod, "app", "run "+strconv.Itoa(restart))
		diff(t, "status after restart "+strconv.Itoa(restart), []string{
			"app: running last=terminated(1 Error) restarts=" + strconv.Itoa(restart) + " ready started",
		}, containerSummary(res.Status.ContainerStatuses))
	}
	diff(t, "containers left: the running one and the one before it", []string{"exited attempt=5", "running attempt=6"}, e.containersOf("app"))
	diff(t, "log files left", []string{"5.log", "6.log"}, logFiles(t, logDir))

	// The last state is the container kept, and its log (what `kubectl
	// logs --previous` reads) is there.
	previous := runtimeID(res.Status.ContainerStatuses[0].LastTerminationState.Terminated.ContainerID)
	data, err := os.ReadFile(e.logPath(previous))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "previous log", "2026-03-01T12:00:00Z stdout F run 5\n", string(data))

	// The restart count comes from the newest container, not from
	// counting them: a worker started again (a restarted kubelet) goes on.
	e.exit(pod, "app", 1)
	e.clock.Step(10 * time.Minute)
	res = e.sync(e.worker(pod), pod)
	diff(t, "status after a kubelet restart", []string{
		"app: running last=terminated(1 Error) restarts=7 ready started",
	}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "containers after a kubelet restart", []string{"exited attempt=6", "running attempt=7"}, e.containersOf("app"))
}

func TestWorkerGarbageCollectsReplacedSandboxes(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Obj()
	w := e.worker(pod)
	e.sync(w, pod)
	for attempt := 1; attempt <= 3; attempt++ {
		// The sandbox dies (its network, a node reboot …): it is replaced.
		sandboxes, err := e.runtime.ListPodSandbox(e.ctx, &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
		if err != nil || len(sandboxes) != 1 {
			t.Fatalf("ready sandboxes: %v, %v", sandboxes, err)
		}
		if err := e.runtime.StopPodSandbox(e.ctx, sandboxes[0].Id); err != nil {
			t.Fatal(err)
		}
		e.clock.Step(10 * time.Minute) // past the back-off of the killed container
		e.sync(w, pod)
	}
	sandboxes, err := e.runtime.ListPodSandbox(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var attempts []string
	for _, s := range sandboxes {
		attempts = append(attempts, s.Metadata.Name+" attempt="+strconv.Itoa(int(s.Metadata.Attempt))+" "+s.State.String())
	}
	// The sandbox before the current one holds the dead container kept
	// for the last state; older ones went with their containers.
	diff(t, "sandboxes", []string{"web attempt=2 SANDBOX_NOTREADY", "web attempt=3 SANDBOX_READY"}, attempts)
	diff(t, "containers", []string{"exited attempt=2", "running attempt=3"}, e.containersOf("app"))
}

func TestWorkerKeepsWhatAFinishedPodRan(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyOnFailure).Obj()
	e.runtime.SetBehavior("app", fake.Behavior{ExitOnStart: ptr.To[int32](1)})
	w := e.worker(pod)
	e.sync(w, pod)
	e.sync(w, pod)
	e.runtime.SetBehavior("app", fake.Behavior{ExitOnStart: ptr.To[int32](0)})
	e.clock.Step(time.Minute)
	res := e.sync(w, pod)
	diff(t, "phase", corev1.PodSucceeded, res.Status.Phase)
	again := e.sync(w, pod)
	diff(t, "a finished pod keeps its last state", []string{"app: terminated(0 Completed) last=terminated(1 Error) restarts=2"}, containerSummary(again.Status.ContainerStatuses))
	diff(t, "containers", []string{"exited attempt=1", "exited attempt=2"}, e.containersOf("app"))
}

// A logs directory whose name holds glob metacharacters loses exactly the
// container's files.
func TestRemoveContainerLogsEscapesTheDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs[1]*?")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "0.log")
	for _, name := range []string{"0.log", "0.log.20261202-150000", "0.log.20261202-140000.gz", "1.log"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeContainerLogs(log); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "1.log" {
		t.Errorf("left in the logs directory: %v, want only 1.log", entries)
	}
}
