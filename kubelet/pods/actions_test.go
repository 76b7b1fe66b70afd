package pods

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
)

func TestComputeActions(t *testing.T) {
	tests := []struct {
		name    string
		pod     *corev1.Pod
		runtime func(pod *corev1.Pod) *RuntimePod
		probes  ProbeResultMap
		want    Actions
	}{{
		name:    "new pod: create the sandbox and start the containers",
		pod:     makePod("web").Containers("a", "b").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Obj() },
		want:    Actions{KillPod: true, CreateSandbox: true, ContainersToStart: []int{0, 1}},
	}, {
		name:    "new pod with init containers: only the first init container",
		pod:     makePod("web").Init("one", "two").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Obj() },
		want:    Actions{KillPod: true, CreateSandbox: true, InitContainersToStart: []int{0}},
	}, {
		name: "ephemeral container added to a running pod: start it",
		pod:  makePod("web").Containers("app").Ephemeral("debugger", "app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", EphemeralContainersToStart: []int{0}},
	}, {
		name: "ephemeral container exited: never restarted",
		pod:  makePod("web").Containers("app").Ephemeral("debugger", "").Ephemeral("second", "").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Exited("debugger", 0, 1).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", EphemeralContainersToStart: []int{1}},
	}, {
		name: "ephemeral container while an init container runs: start it at once",
		pod:  makePod("web").Init("one").Containers("app").Ephemeral("debugger", "").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("one", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", EphemeralContainersToStart: []int{0}},
	}, {
		name: "ephemeral container of a new sandbox: not started",
		pod:  makePod("web").Containers("app").Ephemeral("debugger", "").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("app", 0, 0).Obj()
		},
		want: Actions{KillPod: true, CreateSandbox: true, SandboxID: "sandbox-0", Attempt: 1, ContainersToStart: []int{0}},
	}, {
		name: "pod done, only an ephemeral container runs: kill the pod",
		pod:  makePod("job").Containers("app").Ephemeral("debugger", "").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 0).Running("debugger", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", KillPod: true},
	}, {
		name:    "sandbox ready, containers not started",
		pod:     makePod("web").Containers("a", "b").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Obj() },
		want:    Actions{SandboxID: "sandbox-0", ContainersToStart: []int{0, 1}},
	}, {
		name: "all running: nothing to do",
		pod:  makePod("web").Containers("a", "b").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("a", 0).Running("b", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0"},
	}, {
		name: "first init container done: start the second",
		pod:  makePod("web").Init("one", "two").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("one", 0, 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", InitContainersToStart: []int{1}},
	}, {
		name: "init container running: wait",
		pod:  makePod("web").Init("one", "two").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("one", 0, 0).Running("two", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0"},
	}, {
		name: "init containers done: start the app containers",
		pod:  makePod("web").Init("one", "two").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("one", 0, 0).Exited("two", 0, 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", ContainersToStart: []int{0}},
	}, {
		name: "init container failed, restartPolicy Always: restart it",
		pod:  makePod("web").Init("one").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("one", 0, 1).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", InitContainersToStart: []int{0}},
	}, {
		name: "init container OOM killed, restartPolicy Never: kill the pod",
		pod:  makePod("job").Init("one").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("one", 0, 137, "OOMKilled").Obj()
		},
		want: Actions{SandboxID: "sandbox-0", KillPod: true},
	}, {
		name: "app containers exist, init containers gone: do not run them again",
		pod:  makePod("web").Init("one").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0"},
	}, {
		name: "crashed, restartPolicy Always: restart",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", ContainersToStart: []int{0}},
	}, {
		name: "succeeded, restartPolicy Always: restart",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", ContainersToStart: []int{0}},
	}, {
		name: "restartPolicy OnFailure: restart the failed one only",
		pod:  makePod("job").Containers("a", "b", "c").RestartPolicy(corev1.RestartPolicyOnFailure).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("a", 0, 0).Exited("b", 0, 1).Running("c", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", ContainersToStart: []int{1}},
	}, {
		name: "restartPolicy Never, one still running: leave it",
		pod:  makePod("job").Containers("a", "b").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("a", 0, 1).Running("b", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0"},
	}, {
		name: "restartPolicy Never, all exited: kill the pod",
		pod:  makePod("job").Containers("a", "b").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("a", 0, 1).Exited("b", 0, 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", KillPod: true},
	}, {
		name: "restartPolicy Never, all exited, sidecar running: kill the pod, not restart the sidecar",
		pod:  makePod("job").Sidecar("proxy").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("proxy", 0).Exited("app", 0, 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", KillPod: true},
	}, {
		name: "liveness probe failed: kill and restart",
		pod:  makePod("web").Containers("app").LivenessProbe("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
		},
		probes: ProbeResultMap{Liveness: {"app-0": ProbeFailure}},
		want: Actions{
			SandboxID:         "sandbox-0",
			ContainersToStart: []int{0},
			ContainersToKill:  []ContainerToKill{{ID: "app-0", Name: "app", Message: "Container app failed liveness probe, will be restarted", Reason: KillReasonLivenessProbe}},
		},
	}, {
		name: "liveness probe failed, restartPolicy Never: kill only",
		pod:  makePod("job").Containers("app").LivenessProbe("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
		},
		probes: ProbeResultMap{Liveness: {"app-0": ProbeFailure}},
		want: Actions{
			SandboxID:        "sandbox-0",
			KillPod:          true,
			ContainersToKill: []ContainerToKill{{ID: "app-0", Name: "app", Message: "Container app failed liveness probe", Reason: KillReasonLivenessProbe}},
		},
	}, {
		name: "startup probe failed: kill and restart",
		pod:  makePod("web").Containers("app").StartupProbe("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
		},
		probes: ProbeResultMap{Startup: {"app-0": ProbeFailure}},
		want: Actions{
			SandboxID:         "sandbox-0",
			ContainersToStart: []int{0},
			ContainersToKill:  []ContainerToKill{{ID: "app-0", Name: "app", Message: "Container app failed startup probe, will be restarted", Reason: KillReasonStartupProbe}},
		},
	}, {
		name: "image changed: kill and restart whatever the restart policy",
		pod:  makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).WithHash("0ld").Obj()
		},
		want: Actions{
			SandboxID:         "sandbox-0",
			ContainersToStart: []int{0},
			ContainersToKill:  []ContainerToKill{{ID: "app-0", Name: "app", Message: "Container app definition changed, will be restarted"}},
		},
	}, {
		name: "container in unknown state: kill it before starting another",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Unknown("app", 0).Obj()
		},
		want: Actions{
			SandboxID:         "sandbox-0",
			ContainersToStart: []int{0},
			ContainersToKill:  []ContainerToKill{{ID: "app-0", Name: "app", Message: `Container is in "unknown" state, try killing it before restart`, Reason: KillReasonUnknown}},
		},
	}, {
		name: "created but never started: start again",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Created("app", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", ContainersToStart: []int{0}},
	}, {
		name: "sandbox died: kill the pod, new sandbox, start over",
		pod:  makePod("web").Init("one").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("one", 0, 0).Exited("app", 0, 137).Obj()
		},
		want: Actions{KillPod: true, CreateSandbox: true, SandboxID: "sandbox-0", Attempt: 1, InitContainersToStart: []int{0}},
	}, {
		name: "sandbox died, restartPolicy Never, containers ran: no new sandbox",
		pod:  makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("app", 0, 137).Obj()
		},
		want: Actions{KillPod: true, SandboxID: "sandbox-0", Attempt: 1},
	}, {
		name: "sandbox died, restartPolicy OnFailure, all succeeded: no new sandbox",
		pod:  makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyOnFailure).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("app", 0, 0).Obj()
		},
		want: Actions{KillPod: true, SandboxID: "sandbox-0", Attempt: 1},
	}, {
		name: "sandbox died, restartPolicy OnFailure: restart the failed ones in a new sandbox",
		pod:  makePod("job").Containers("a", "b").RestartPolicy(corev1.RestartPolicyOnFailure).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("a", 0, 0).Exited("b", 0, 137).Obj()
		},
		want: Actions{KillPod: true, CreateSandbox: true, SandboxID: "sandbox-0", Attempt: 1, ContainersToStart: []int{1}},
	}, {
		name: "sandbox without an IP: replace it",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			rt := runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
			rt.Sandboxes[0].Network.Ip = ""
			return rt
		},
		want: Actions{KillPod: true, CreateSandbox: true, SandboxID: "sandbox-0", Attempt: 1, ContainersToStart: []int{0}},
	}, {
		name: "two ready sandboxes: replace them",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Sandbox(1, true).Running("app", 0).Obj()
		},
		want: Actions{KillPod: true, CreateSandbox: true, SandboxID: "sandbox-1", Attempt: 2, ContainersToStart: []int{0}},
	}, {
		name: "host network pod keeps its sandbox without an IP",
		pod:  makePod("agent").HostNetwork().Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0"},
	}, {
		name: "deleted pod: nothing is started",
		pod:  makePod("web").Containers("app").Deleted(30).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", KillPod: true},
	}, {
		name: "sidecar running and started: start the next init container",
		pod:  makePod("web").Sidecar("proxy").Init("setup").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("proxy", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", InitContainersToStart: []int{1}},
	}, {
		name: "sidecar waiting for its startup probe",
		pod:  makePod("web").Sidecar("proxy").StartupProbe("proxy").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("proxy", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0"},
	}, {
		name: "sidecar last and started: start the app containers",
		pod:  makePod("web").Sidecar("proxy").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("proxy", 0).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", ContainersToStart: []int{0}},
	}, {
		name: "sidecar exited after initialization: restart it, keep the app",
		pod:  makePod("web").Sidecar("proxy").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Exited("proxy", 0, 1).Obj()
		},
		want: Actions{SandboxID: "sandbox-0", InitContainersToStart: []int{0}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probes ProbeResults
			if tt.probes != nil {
				probes = tt.probes
			}
			got := ComputeActions(tt.pod, tt.runtime(tt.pod), probes)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}
