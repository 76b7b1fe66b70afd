package pods

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestComputeStatusSummary(t *testing.T) {
	crashLoop := &StartFailure{Reason: ErrCrashLoopBackOff, Message: "back-off 20s restarting failed container=app pod=web_default(uid-web)"}
	tests := []struct {
		name     string
		pod      *corev1.Pod
		runtime  func(pod *corev1.Pod) *RuntimePod
		failures map[string]*StartFailure
		probes   ProbeResultMap
		terminal bool

		phase      corev1.PodPhase
		conditions []string
		containers []string
		inits      []string
		ephemerals []string
	}{{
		name:    "nothing runs yet",
		pod:     makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Obj() },
		phase:   corev1.PodPending,
		conditions: []string{
			"PodReadyToStartContainers=False",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: waiting(ContainerCreating) restarts=0"},
	}, {
		name:    "running and ready",
		pod:     makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		phase:   corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=True",
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
	}, {
		name: "two containers, one not running yet",
		pod:  makePod("web").Containers("b", "a").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("b", 0).Obj()
		},
		phase: corev1.PodPending,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [a]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [a]",
			"PodScheduled=True",
		},
		containers: []string{"a: waiting(ContainerCreating) restarts=0", "b: running restarts=0 ready started"},
	}, {
		name:    "init container running",
		pod:     makePod("web").Init("setup").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("setup", 0).Obj() },
		phase:   corev1.PodPending,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=False ContainersNotInitialized: containers with incomplete status: [setup]",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: waiting(PodInitializing) restarts=0"},
		inits:      []string{"setup: running restarts=0 started"},
	}, {
		name: "init containers done, app running",
		pod:  makePod("web").Init("one", "two").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("one", 0, 0).Exited("two", 0, 0).Running("app", 0).Obj()
		},
		phase: corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=True",
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
		inits:      []string{"one: terminated(0 Completed) restarts=0 ready", "two: terminated(0 Completed) restarts=0 ready"},
	}, {
		name: "init container failed, restartPolicy Never",
		pod:  makePod("job").Init("setup").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("setup", 0, 3).Obj()
		},
		phase: corev1.PodFailed,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=False ContainersNotInitialized: containers with incomplete status: [setup]",
			"Ready=False PodFailed",
			"ContainersReady=False PodFailed",
			"PodScheduled=True",
		},
		containers: []string{"app: waiting(PodInitializing) restarts=0"},
		inits:      []string{"setup: terminated(3 Error) restarts=0"},
	}, {
		name: "init container failed, restartPolicy Always: it waits to restart",
		pod:  makePod("web").Init("setup").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("setup", 0, 3).Obj()
		},
		failures: map[string]*StartFailure{"setup": {Reason: ErrCrashLoopBackOff, Message: "back-off 10s restarting failed container=setup pod=web_default(uid-web)"}},
		phase:    corev1.PodPending,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=False ContainersNotInitialized: containers with incomplete status: [setup]",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: waiting(PodInitializing) restarts=0"},
		inits:      []string{"setup: waiting(CrashLoopBackOff: back-off 10s restarting failed container=setup pod=web_default(uid-web)) last=terminated(3 Error) restarts=0"},
	}, {
		name: "restartPolicy Never, container failed",
		pod:  makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 2).Obj()
		},
		phase: corev1.PodFailed,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False PodFailed",
			"ContainersReady=False PodFailed",
			"PodScheduled=True",
		},
		containers: []string{"app: terminated(2 Error) restarts=0"},
	}, {
		name: "restartPolicy Never, container succeeded",
		pod:  makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("app", 0, 0).Obj()
		},
		phase: corev1.PodSucceeded,
		conditions: []string{
			"PodReadyToStartContainers=False",
			"Initialized=True PodCompleted",
			"Ready=False PodCompleted",
			"ContainersReady=False PodCompleted",
			"PodScheduled=True",
		},
		containers: []string{"app: terminated(0 Completed) restarts=0"},
	}, {
		name: "restartPolicy OnFailure, one succeeded, one failed and restarting",
		pod:  makePod("job").Containers("a", "b").RestartPolicy(corev1.RestartPolicyOnFailure).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("a", 0, 0).Exited("b", 0, 1).Obj()
		},
		phase: corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [a b]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [a b]",
			"PodScheduled=True",
		},
		containers: []string{"a: terminated(0 Completed) restarts=0", "b: terminated(1 Error) restarts=0"},
	}, {
		name: "restartPolicy OnFailure, all succeeded",
		pod:  makePod("job").Containers("a", "b").RestartPolicy(corev1.RestartPolicyOnFailure).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("a", 0, 0).Exited("b", 1, 0).Obj()
		},
		phase: corev1.PodSucceeded,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True PodCompleted",
			"Ready=False PodCompleted",
			"ContainersReady=False PodCompleted",
			"PodScheduled=True",
		},
		containers: []string{"a: terminated(0 Completed) restarts=0", "b: terminated(0 Completed) restarts=1"},
	}, {
		name: "crash loop: waiting with the back-off, last state the crash",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 1, 1).Exited("app", 2, 1).Obj()
		},
		failures: map[string]*StartFailure{"app": crashLoop},
		phase:    corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: waiting(CrashLoopBackOff: back-off 20s restarting failed container=app pod=web_default(uid-web)) last=terminated(1 Error) restarts=2"},
	}, {
		name: "restarted: running, last state the previous exit",
		pod:  makePod("web").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 1).Running("app", 1).Obj()
		},
		phase: corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=True",
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running last=terminated(1 Error) restarts=1 ready started"},
	}, {
		name: "OOM killed",
		pod:  makePod("hog").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 137, "OOMKilled").Obj()
		},
		phase: corev1.PodFailed,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False PodFailed",
			"ContainersReady=False PodFailed",
			"PodScheduled=True",
		},
		containers: []string{"app: terminated(137 OOMKilled) restarts=0"},
	}, {
		name:     "image pull failed",
		pod:      makePod("web").Containers("app").Obj(),
		runtime:  func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Obj() },
		failures: map[string]*StartFailure{"app": {Reason: ErrImagePull, Message: "pull access denied"}},
		phase:    corev1.PodPending,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: waiting(ErrImagePull: pull access denied) restarts=0"},
	}, {
		name:    "readiness probe not run yet",
		pod:     makePod("web").Containers("app").ReadinessProbe("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		phase:   corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 started"},
	}, {
		name:    "readiness probe succeeded",
		pod:     makePod("web").Containers("app").ReadinessProbe("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		probes:  ProbeResultMap{Readiness: {"app-0": ProbeSuccess}},
		phase:   corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=True",
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
	}, {
		name:    "startup probe not passed: neither started nor ready",
		pod:     makePod("web").Containers("app").StartupProbe("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		phase:   corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0"},
	}, {
		name:    "readiness gate missing",
		pod:     makePod("web").Containers("app").ReadinessGate("example.com/lb").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		phase:   corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			`Ready=False ReadinessGatesNotReady: corresponding condition of pod readiness gate "example.com/lb" does not exist.`,
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
	}, {
		name: "readiness gate False, kept among the conditions",
		pod: makePod("web").Containers("app").ReadinessGate("example.com/lb").
			Condition("example.com/lb", corev1.ConditionFalse).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		phase:   corev1.PodRunning,
		conditions: []string{
			"example.com/lb=False",
			"PodReadyToStartContainers=True",
			"Initialized=True",
			`Ready=False ReadinessGatesNotReady: the status of pod readiness gate "example.com/lb" is not "True", but False`,
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
	}, {
		name: "readiness gate True",
		pod: makePod("web").Containers("app").ReadinessGate("example.com/lb").
			Condition("example.com/lb", corev1.ConditionTrue).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod { return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj() },
		phase:   corev1.PodRunning,
		conditions: []string{
			"example.com/lb=True",
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=True",
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
	}, {
		name: "deleted pod with restartPolicy Always whose containers were stopped is Failed",
		pod:  makePod("web").Containers("app").Deleted(30).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("app", 0, 137).Obj()
		},
		terminal: true,
		phase:    corev1.PodFailed,
		conditions: []string{
			"PodReadyToStartContainers=False",
			"Initialized=True",
			"Ready=False PodFailed",
			"ContainersReady=False PodFailed",
			"PodScheduled=True",
		},
		containers: []string{"app: terminated(137 Error) restarts=0"},
	}, {
		name: "deleted pod whose containers exited 0 is Succeeded",
		pod:  makePod("web").Containers("app").Deleted(30).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, false).Exited("app", 0, 0).Obj()
		},
		terminal: true,
		phase:    corev1.PodSucceeded,
		conditions: []string{
			"PodReadyToStartContainers=False",
			"Initialized=True PodCompleted",
			"Ready=False PodCompleted",
			"ContainersReady=False PodCompleted",
			"PodScheduled=True",
		},
		containers: []string{"app: terminated(0 Completed) restarts=0"},
	}, {
		name: "a terminal phase never changes",
		pod:  makePod("job").Containers("app").Phase(corev1.PodSucceeded).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
		},
		phase: corev1.PodSucceeded,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True PodCompleted",
			"Ready=False PodCompleted",
			"ContainersReady=False PodCompleted",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
	}, {
		name: "sidecar started, app running",
		pod:  makePod("web").Sidecar("proxy").Containers("app").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("proxy", 0).Running("app", 0).Obj()
		},
		phase: corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=True",
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
		inits:      []string{"proxy: running restarts=0 ready started"},
	}, {
		name: "sidecar not started yet",
		pod:  makePod("web").Sidecar("proxy").Containers("app").StartupProbe("proxy").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("proxy", 0).Obj()
		},
		phase: corev1.PodPending,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=False ContainersNotInitialized: containers with incomplete status: [proxy]",
			"Ready=False ContainersNotReady: containers with unready status: [proxy app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [proxy app]",
			"PodScheduled=True",
		},
		containers: []string{"app: waiting(PodInitializing) restarts=0"},
		inits:      []string{"proxy: running restarts=0"},
	}, {
		name: "restartPolicy Never, app done, sidecar still running: Succeeded once it stops",
		pod:  makePod("job").Sidecar("proxy").Containers("app").RestartPolicy(corev1.RestartPolicyNever).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("proxy", 0).Exited("app", 0, 0).Obj()
		},
		phase: corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: terminated(0 Completed) restarts=0"},
		inits:      []string{"proxy: running restarts=0 ready started"},
	}, {
		name: "container restart policy overrides the pod's",
		pod: makePod("job").Containers("app").RestartPolicy(corev1.RestartPolicyNever).
			Edit("app", func(c *corev1.Container) {
				c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
				c.RestartPolicyRules = []corev1.ContainerRestartRule{{
					Action:    corev1.ContainerRestartRuleActionRestart,
					ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{42}},
				}}
			}).Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Exited("app", 0, 42).Obj()
		},
		phase: corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=False ContainersNotReady: containers with unready status: [app]",
			"ContainersReady=False ContainersNotReady: containers with unready status: [app]",
			"PodScheduled=True",
		},
		containers: []string{"app: terminated(42 Error) restarts=0"},
	}, {
		name: "an ephemeral container runs: listed apart, the pod's readiness unchanged",
		pod:  makePod("web").Containers("app").Ephemeral("debugger", "app").Ephemeral("later", "").Obj(),
		runtime: func(pod *corev1.Pod) *RuntimePod {
			return runtimeFor(pod).Sandbox(0, true).Running("app", 0).Running("debugger", 0).Obj()
		},
		phase: corev1.PodRunning,
		conditions: []string{
			"PodReadyToStartContainers=True",
			"Initialized=True",
			"Ready=True",
			"ContainersReady=True",
			"PodScheduled=True",
		},
		containers: []string{"app: running restarts=0 ready started"},
		ephemerals: []string{"debugger: running restarts=0", "later: waiting(ContainerCreating) restarts=0"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := StatusInput{
				Pod:           tt.pod,
				Runtime:       tt.runtime(tt.pod),
				StartFailures: tt.failures,
				Terminal:      tt.terminal,
				Now:           t0,
			}
			if tt.probes != nil {
				in.Probes = tt.probes
			}
			got := ComputeStatus(in)
			if got.Phase != tt.phase {
				t.Errorf("phase = %s, want %s", got.Phase, tt.phase)
			}
			if diff := cmp.Diff(tt.conditions, conditionSummary(got.Conditions)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.containers, containerSummary(got.ContainerStatuses)); diff != "" {
				t.Errorf("container statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.inits, containerSummary(got.InitContainerStatuses)); diff != "" {
				t.Errorf("init container statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.ephemerals, containerSummary(got.EphemeralContainerStatuses)); diff != "" {
				t.Errorf("ephemeral container statuses (-want +got):\n%s", diff)
			}
		})
	}
}

// TestComputeStatusFull checks every field of a running pod's status.
func TestComputeStatusFull(t *testing.T) {
	pod := makePod("web").Containers("app").Resources("app", "cpu=100m,memory=64Mi", "cpu=100m,memory=64Mi").Obj()
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
		{Name: "data", MountPath: "/data"},
		{Name: "token", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true},
	}
	pod.Status.Conditions = []corev1.PodCondition{{
		Type:               corev1.PodScheduled,
		Status:             corev1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute)),
	}}
	rt := runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
	now := t0.Add(5 * time.Second)

	got := ComputeStatus(StatusInput{Pod: pod, Runtime: rt, HostIPs: []string{"192.168.1.10"}, Now: now})

	started := metav1.NewTime(t0.Add(2 * time.Second))
	nowTime := metav1.NewTime(now)
	want := corev1.PodStatus{
		Phase:              corev1.PodRunning,
		ObservedGeneration: 1,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, ObservedGeneration: 1, LastTransitionTime: nowTime},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, ObservedGeneration: 1, LastTransitionTime: nowTime},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, ObservedGeneration: 1, LastTransitionTime: nowTime},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, ObservedGeneration: 1, LastTransitionTime: nowTime},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute))},
		},
		HostIP:    "192.168.1.10",
		HostIPs:   []corev1.HostIP{{IP: "192.168.1.10"}},
		PodIP:     "10.88.0.2",
		PodIPs:    []corev1.PodIP{{IP: "10.88.0.2"}},
		StartTime: &nowTime,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name:        "app",
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
			Ready:       true,
			Image:       "busybox",
			ImageID:     "sha256:busybox",
			ContainerID: "containerd://app-0",
			Started:     ptr.To(true),
			Resources: &corev1.ResourceRequirements{
				Requests: resourceList("cpu=100m,memory=64Mi"),
				Limits:   resourceList("cpu=100m,memory=64Mi"),
			},
			AllocatedResources: resourceList("cpu=100m,memory=64Mi"),
			VolumeMounts: []corev1.VolumeMountStatus{
				{Name: "data", MountPath: "/data"},
				{Name: "token", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true, RecursiveReadOnly: ptr.To(corev1.RecursiveReadOnlyDisabled)},
			},
		}},
		QOSClass: corev1.PodQOSGuaranteed,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// Computed again later with the same observation, nothing moves: the
	// transition times and the start time stay.
	pod.Status = got
	again := ComputeStatus(StatusInput{Pod: pod, Runtime: rt, HostIPs: []string{"192.168.1.10"}, Now: now.Add(time.Hour)})
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("status changed on a second computation (-first +second):\n%s", diff)
	}
}

func TestComputeStatusKeepsWhatTheRuntimeForgot(t *testing.T) {
	pod := makePod("web").Containers("app").Obj()
	previous := &corev1.PodStatus{
		Phase: corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name:         "app",
			State:        corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}},
			RestartCount: 3,
		}},
	}
	// The runtime lost the container (garbage collected, node reboot).
	got := ComputeStatus(StatusInput{Pod: pod, Previous: previous, Runtime: runtimeFor(pod).Sandbox(0, true).Obj(), Now: t0})
	want := []string{"app: waiting(ContainerCreating) last=terminated(137 ContainerStatusUnknown: The container could not be located when the pod was deleted.  The container used to be Running) restarts=4"}
	if diff := cmp.Diff(want, containerSummary(got.ContainerStatuses)); diff != "" {
		t.Errorf("container statuses (-want +got):\n%s", diff)
	}
	if got.Phase != corev1.PodRunning {
		t.Errorf("phase = %s, want Running", got.Phase)
	}
}

func TestComputeStatusHostNetwork(t *testing.T) {
	pod := makePod("agent").HostNetwork().Containers("app").Obj()
	rt := runtimeFor(pod).Sandbox(0, true).Running("app", 0).Obj()
	got := ComputeStatus(StatusInput{Pod: pod, Runtime: rt, HostIPs: []string{"192.168.1.10", "fd00::10"}, Now: t0})
	if diff := cmp.Diff([]corev1.PodIP{{IP: "192.168.1.10"}, {IP: "fd00::10"}}, got.PodIPs); diff != "" {
		t.Errorf("pod IPs (-want +got):\n%s", diff)
	}
	if got.PodIP != "192.168.1.10" {
		t.Errorf("pod IP = %q", got.PodIP)
	}
}

func TestSortPodIPs(t *testing.T) {
	tests := []struct {
		name    string
		ips     []string
		hostIPs []string
		want    []string
	}{
		{"none", nil, nil, nil},
		{"one v4", []string{"10.0.0.1"}, nil, []string{"10.0.0.1"}},
		{"v6 then v4 on a v4 node", []string{"fd00::1", "10.0.0.1"}, []string{"192.168.0.1"}, []string{"10.0.0.1", "fd00::1"}},
		{"v4 then v6 on a v6 node", []string{"10.0.0.1", "fd00::1"}, []string{"fd00::10"}, []string{"fd00::1", "10.0.0.1"}},
		{"two of a family: the first", []string{"10.0.0.1", "10.0.0.2"}, nil, []string{"10.0.0.1"}},
		{"garbage ignored", []string{"nope", "10.0.0.1"}, nil, []string{"10.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, sortPodIPs(tt.ips, tt.hostIPs)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTerminalStatus(t *testing.T) {
	waiting := func(name, reason string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
	}
	terminated := func(name string, code int32, reason string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}
	}
	const unknown = "terminated(137 ContainerStatusUnknown: The container could not be located when the pod was terminated)"
	tests := []struct {
		name       string
		pod        *corev1.Pod
		status     corev1.PodStatus
		phase      corev1.PodPhase
		containers []string
		inits      []string
	}{{
		name:       "deleted before it started",
		pod:        makePod("web").Containers("app").Obj(),
		status:     corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{waiting("app", "ContainerCreating")}},
		phase:      corev1.PodFailed,
		containers: []string{"app: " + unknown + " restarts=0"},
	}, {
		name: "deleted before its init containers ran: the first failed, the rest waits",
		pod:  makePod("web").Init("one", "two").Containers("app").Obj(),
		status: corev1.PodStatus{
			Phase:                 corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{waiting("one", "PodInitializing"), waiting("two", "PodInitializing")},
			ContainerStatuses:     []corev1.ContainerStatus{waiting("app", "PodInitializing")},
		},
		phase:      corev1.PodFailed,
		containers: []string{"app: waiting(PodInitializing) restarts=0"},
		inits:      []string{"one: " + unknown + " restarts=0", "two: waiting(PodInitializing) restarts=0"},
	}, {
		name: "initialized: an app container that never ended failed",
		pod:  makePod("web").Init("one").Containers("a", "b").Obj(),
		status: corev1.PodStatus{
			Phase:                 corev1.PodRunning,
			InitContainerStatuses: []corev1.ContainerStatus{terminated("one", 0, "Completed")},
			ContainerStatuses:     []corev1.ContainerStatus{terminated("a", 0, "Completed"), waiting("b", "ContainerCreating")},
		},
		phase:      corev1.PodFailed,
		containers: []string{"a: terminated(0 Completed) restarts=0", "b: " + unknown + " restarts=0"},
		inits:      []string{"one: terminated(0 Completed) restarts=0"},
	}, {
		name:       "already succeeded",
		pod:        makePod("job").Containers("app").Obj(),
		status:     corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("app", 0, "Completed")}},
		phase:      corev1.PodSucceeded,
		containers: []string{"app: terminated(0 Completed) restarts=0"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TerminalStatus(tt.pod, tt.status)
			diff(t, "phase", tt.phase, got.Phase)
			diff(t, "containers", tt.containers, containerSummary(got.ContainerStatuses))
			diff(t, "init containers", tt.inits, containerSummary(got.InitContainerStatuses))
		})
	}
}
