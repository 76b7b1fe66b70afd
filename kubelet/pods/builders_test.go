package pods

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

// t0 is when tests start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// --- pods ---

type podBuilder struct{ pod *corev1.Pod }

// makePod is a pod "default/<name>" with uid "uid-<name>", generation 1,
// restartPolicy Always and no containers.
func makePod(name string) *podBuilder {
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:       name,
			Namespace:  "default",
			UID:        types.UID("uid-" + name),
			Generation: 1,
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			NodeName:                      "node-1",
		},
	}}
}

func container(name string) corev1.Container {
	return corev1.Container{
		Name:                     name,
		Image:                    "busybox",
		ImagePullPolicy:          corev1.PullIfNotPresent,
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
}

// Containers adds app containers running busybox.
func (b *podBuilder) Containers(names ...string) *podBuilder {
	for _, n := range names {
		b.pod.Spec.Containers = append(b.pod.Spec.Containers, container(n))
	}
	return b
}

// Init adds init containers.
func (b *podBuilder) Init(names ...string) *podBuilder {
	for _, n := range names {
		b.pod.Spec.InitContainers = append(b.pod.Spec.InitContainers, container(n))
	}
	return b
}

// Ephemeral adds an ephemeral container (kubectl debug), targeting the
// process namespace of target if set.
func (b *podBuilder) Ephemeral(name, target string) *podBuilder {
	b.pod.Spec.EphemeralContainers = append(b.pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon(container(name)),
		TargetContainerName:      target,
	})
	return b
}

// Sidecar adds a restartable init container.
func (b *podBuilder) Sidecar(name string) *podBuilder {
	c := container(name)
	c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
	b.pod.Spec.InitContainers = append(b.pod.Spec.InitContainers, c)
	return b
}

func (b *podBuilder) RestartPolicy(p corev1.RestartPolicy) *podBuilder {
	b.pod.Spec.RestartPolicy = p
	return b
}

// Edit changes the named container (app or init).
func (b *podBuilder) Edit(name string, edit func(c *corev1.Container)) *podBuilder {
	for _, list := range [][]corev1.Container{b.pod.Spec.Containers, b.pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				edit(&list[i])
			}
		}
	}
	return b
}

func (b *podBuilder) ReadinessProbe(name string) *podBuilder {
	return b.Edit(name, func(c *corev1.Container) {
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	})
}

func (b *podBuilder) LivenessProbe(name string) *podBuilder {
	return b.Edit(name, func(c *corev1.Container) {
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	})
}

func (b *podBuilder) StartupProbe(name string) *podBuilder {
	return b.Edit(name, func(c *corev1.Container) {
		c.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	})
}

// Resources sets requests and limits ("cpu=100m,memory=64Mi").
func (b *podBuilder) Resources(name, requests, limits string) *podBuilder {
	return b.Edit(name, func(c *corev1.Container) {
		c.Resources.Requests = resourceList(requests)
		c.Resources.Limits = resourceList(limits)
	})
}

func resourceList(s string) corev1.ResourceList {
	if s == "" {
		return nil
	}
	list := corev1.ResourceList{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		list[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return list
}

func (b *podBuilder) ReadinessGate(t corev1.PodConditionType) *podBuilder {
	b.pod.Spec.ReadinessGates = append(b.pod.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: t})
	return b
}

func (b *podBuilder) Condition(t corev1.PodConditionType, s corev1.ConditionStatus) *podBuilder {
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{Type: t, Status: s})
	return b
}

func (b *podBuilder) Phase(p corev1.PodPhase) *podBuilder {
	b.pod.Status.Phase = p
	return b
}

func (b *podBuilder) Deleted(grace int64) *podBuilder {
	b.pod.DeletionTimestamp = &metav1.Time{Time: t0}
	b.pod.DeletionGracePeriodSeconds = ptr.To(grace)
	return b
}

func (b *podBuilder) HostNetwork() *podBuilder {
	b.pod.Spec.HostNetwork = true
	return b
}

func (b *podBuilder) Obj() *corev1.Pod { return b.pod }

// --- what the runtime runs ---

type runtimeBuilder struct {
	rt   *RuntimePod
	next time.Duration
	pod  *corev1.Pod
}

// runtimeFor starts the runtime's view of pod: no sandbox, no container.
func runtimeFor(pod *corev1.Pod) *runtimeBuilder {
	return &runtimeBuilder{rt: &RuntimePod{UID: pod.UID, RuntimeName: "containerd"}, pod: pod}
}

func (b *runtimeBuilder) tick() time.Time {
	b.next += time.Second
	return t0.Add(b.next)
}

// Sandbox adds a sandbox (ready with IP 10.88.0.<attempt+2>, or not ready).
func (b *runtimeBuilder) Sandbox(attempt uint32, ready bool) *runtimeBuilder {
	state := runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	if ready {
		state = runtimeapi.PodSandboxState_SANDBOX_READY
	}
	ns := runtimeapi.NamespaceMode_POD
	if b.pod.Spec.HostNetwork {
		ns = runtimeapi.NamespaceMode_NODE
	}
	ip := fmt.Sprintf("10.88.0.%d", attempt+2)
	if b.pod.Spec.HostNetwork {
		ip = ""
	}
	s := &runtimeapi.PodSandboxStatus{
		Id:        fmt.Sprintf("sandbox-%d", attempt),
		Metadata:  &runtimeapi.PodSandboxMetadata{Name: b.pod.Name, Namespace: b.pod.Namespace, Uid: string(b.pod.UID), Attempt: attempt},
		State:     state,
		CreatedAt: b.tick().UnixNano(),
		Network:   &runtimeapi.PodSandboxNetworkStatus{Ip: ip},
		Linux:     &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: &runtimeapi.NamespaceOption{Network: ns}}},
	}
	b.rt.Sandboxes = append([]*runtimeapi.PodSandboxStatus{s}, b.rt.Sandboxes...)
	if ready && ip != "" {
		b.rt.IPs = []string{ip}
	} else if ready {
		b.rt.IPs = nil
	}
	return b
}

func (b *runtimeBuilder) add(name string, state ContainerState, restarts int, edit func(c *RuntimeContainer)) *runtimeBuilder {
	sandbox := ""
	if len(b.rt.Sandboxes) > 0 {
		sandbox = b.rt.Sandboxes[0].Id
	}
	spec := containerSpec(b.pod, name)
	created := b.tick()
	c := &RuntimeContainer{
		ID:           fmt.Sprintf("%s-%d", name, restarts),
		Name:         name,
		SandboxID:    sandbox,
		State:        state,
		RestartCount: restarts,
		CreatedAt:    created,
		Image:        "busybox",
		ImageRef:     "sha256:busybox",
		Hash:         HashContainer(spec),
	}
	if state == ContainerRunning || state == ContainerExited {
		c.StartedAt = created
	}
	if edit != nil {
		edit(c)
	}
	b.rt.Containers = append([]*RuntimeContainer{c}, b.rt.Containers...)
	return b
}

func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers, ephemeralContainers(&pod.Spec)} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return &corev1.Container{Name: name, Image: "busybox"}
}

func (b *runtimeBuilder) Running(name string, restarts int) *runtimeBuilder {
	return b.add(name, ContainerRunning, restarts, nil)
}

func (b *runtimeBuilder) Created(name string, restarts int) *runtimeBuilder {
	return b.add(name, ContainerCreated, restarts, nil)
}

func (b *runtimeBuilder) Unknown(name string, restarts int) *runtimeBuilder {
	return b.add(name, ContainerUnknown, restarts, nil)
}

// Exited adds a container that exited with code; the reason is upstream's
// by code (Completed or Error) unless given.
func (b *runtimeBuilder) Exited(name string, restarts int, code int32, reason ...string) *runtimeBuilder {
	return b.add(name, ContainerExited, restarts, func(c *RuntimeContainer) {
		c.ExitCode = code
		c.FinishedAt = c.StartedAt.Add(500 * time.Millisecond)
		c.Reason = "Error"
		if code == 0 {
			c.Reason = "Completed"
		}
		if len(reason) > 0 {
			c.Reason = reason[0]
		}
	})
}

// WithHash sets the spec hash of the newest container.
func (b *runtimeBuilder) WithHash(hash string) *runtimeBuilder {
	b.rt.Containers[0].Hash = hash
	return b
}

func (b *runtimeBuilder) Obj() *RuntimePod { return b.rt }

// --- summaries that read well in diffs ---

// conditionSummary is "Type=Status Reason: Message".
func conditionSummary(conditions []corev1.PodCondition) []string {
	var out []string
	for _, c := range conditions {
		s := fmt.Sprintf("%s=%s", c.Type, c.Status)
		if c.Reason != "" {
			s += " " + c.Reason
		}
		if c.Message != "" {
			s += ": " + c.Message
		}
		out = append(out, s)
	}
	return out
}

// containerSummary is "name: state [last=state] restarts=N ready started".
func containerSummary(statuses []corev1.ContainerStatus) []string {
	var out []string
	for _, s := range statuses {
		line := fmt.Sprintf("%s: %s", s.Name, stateSummary(s.State))
		if last := stateSummary(s.LastTerminationState); last != "" {
			line += " last=" + last
		}
		line += fmt.Sprintf(" restarts=%d", s.RestartCount)
		if s.Ready {
			line += " ready"
		}
		if s.Started != nil && *s.Started {
			line += " started"
		}
		out = append(out, line)
	}
	return out
}

func stateSummary(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		t := fmt.Sprintf("terminated(%d %s", s.Terminated.ExitCode, s.Terminated.Reason)
		if s.Terminated.Message != "" {
			t += ": " + s.Terminated.Message
		}
		return t + ")"
	case s.Waiting != nil:
		w := "waiting(" + s.Waiting.Reason
		if s.Waiting.Message != "" {
			w += ": " + s.Waiting.Message
		}
		return w + ")"
	}
	return ""
}

func sortedStrings(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
