package pod

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
)

func running(name string, ready bool, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, RestartCount: restarts, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, RestartCount: restarts, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, code, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code, Signal: signal}}}
}

func withLastTermination(cs corev1.ContainerStatus, finished metav1.Time) corev1.ContainerStatus {
	cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: finished}
	return cs
}

func containers(names ...string) []corev1.Container {
	var out []corev1.Container
	for _, n := range names {
		out = append(out, corev1.Container{Name: n})
	}
	return out
}

func TestSummarize(t *testing.T) {
	sidecar := corev1.Container{Name: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}
	tests := []struct {
		name string
		pod  corev1.Pod
		want summary
	}{
		{
			name: "pending",
			pod:  corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
			want: summary{total: 1, reason: "Pending"},
		},
		{
			name: "running and ready",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), running("b", false, 0)}},
			},
			want: summary{ready: 1, total: 2, reason: "Running"},
		},
		{
			name: "container creating",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{waiting("a", "ContainerCreating", 0)}},
			},
			want: summary{total: 1, reason: "ContainerCreating"},
		},
		{
			name: "crash loop with restarts",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					withLastTermination(waiting("a", "CrashLoopBackOff", 3), t1),
				}},
			},
			want: summary{total: 1, reason: "CrashLoopBackOff", restarts: 3, lastRestart: t1},
		},
		{
			name: "status reason wins over phase",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"},
			},
			want: summary{total: 1, reason: "Evicted"},
		},
		{
			name: "completed",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0)}},
			},
			want: summary{total: 1, reason: "Completed"},
		},
		{
			name: "one container completed, the other still running",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
					ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true, 0)},
				},
			},
			want: summary{ready: 1, total: 2, reason: "Running"},
		},
		{
			name: "one container completed, the other running but not ready",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{
					Phase:             corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true, 0)},
				},
			},
			want: summary{ready: 1, total: 2, reason: "NotReady"},
		},
		{
			name: "terminated by signal without reason",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "", 137, 9)}},
			},
			want: summary{total: 1, reason: "Signal:9"},
		},
		{
			name: "terminated with exit code without reason",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "", 2, 0)}},
			},
			want: summary{total: 1, reason: "ExitCode:2"},
		},
		{
			name: "first init container running",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{InitContainers: containers("i1", "i2"), Containers: containers("a")},
				Status: corev1.PodStatus{
					Phase:                 corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{running("i1", false, 0), waiting("i2", "PodInitializing", 0)},
					ContainerStatuses:     []corev1.ContainerStatus{waiting("a", "PodInitializing", 0)},
				},
			},
			want: summary{total: 1, reason: "Init:0/2"},
		},
		{
			name: "second init container crash looping",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{InitContainers: containers("i1", "i2"), Containers: containers("a")},
				Status: corev1.PodStatus{
					Phase: corev1.PodPending,
					InitContainerStatuses: []corev1.ContainerStatus{
						terminated("i1", "Completed", 0, 0),
						withLastTermination(waiting("i2", "CrashLoopBackOff", 4), t0),
					},
				},
			},
			want: summary{total: 1, reason: "Init:CrashLoopBackOff", restarts: 4, lastRestart: t0},
		},
		{
			name: "init container failed",
			pod: corev1.Pod{
				Spec:   corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{terminated("i1", "", 1, 0)}},
			},
			want: summary{total: 1, reason: "Init:ExitCode:1"},
		},
		{
			name: "sidecar counts as a container",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{InitContainers: []corev1.Container{sidecar}, Containers: containers("a")},
				Status: corev1.PodStatus{
					Phase: corev1.PodRunning,
					InitContainerStatuses: []corev1.ContainerStatus{func() corev1.ContainerStatus {
						cs := withLastTermination(running("proxy", true, 2), t1)
						cs.Started = ptr.To(true)
						return cs
					}()},
					ContainerStatuses: []corev1.ContainerStatus{withLastTermination(running("a", true, 1), t0)},
				},
			},
			want: summary{ready: 2, total: 2, reason: "Running", restarts: 3, lastRestart: t1},
		},
		{
			name: "scheduling gated",
			pod: corev1.Pod{
				Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{
					Phase:      corev1.PodPending,
					Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated}},
				},
			},
			want: summary{total: 1, reason: "SchedulingGated"},
		},
		{
			name: "terminating",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &t1},
				Spec:       corev1.PodSpec{Containers: containers("a")},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0)}},
			},
			want: summary{ready: 1, total: 1, reason: "Terminating"},
		},
		{
			name: "deleted after it finished",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &t1},
				Spec:       corev1.PodSpec{Containers: containers("a")},
				Status:     corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0)}},
			},
			want: summary{total: 1, reason: "Completed"},
		},
		{
			name: "node lost",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &t1},
				Spec:       corev1.PodSpec{Containers: containers("a")},
				Status:     corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"},
			},
			want: summary{total: 1, reason: "Unknown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(&tt.pod)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(summary{})); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestartsCell(t *testing.T) {
	now := t0.Add(5 * time.Minute)
	tests := []struct {
		restarts int
		last     metav1.Time
		want     string
	}{
		{0, metav1.Time{}, "0"},
		{2, metav1.Time{}, "2"},
		{3, t0, "3 (5m ago)"},
	}
	for _, tt := range tests {
		if got := restartsCell(tt.restarts, tt.last, now); got != tt.want {
			t.Errorf("restartsCell(%d, %v) = %q, want %q", tt.restarts, tt.last, got, tt.want)
		}
	}
}

func TestRowWideColumns(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{
			NodeName:       "node-1",
			Containers:     containers("a"),
			ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			PodIPs:     []corev1.PodIP{{IP: "10.0.0.5"}, {IP: "fd00::5"}},
			Conditions: []corev1.PodCondition{{Type: "example.com/lb", Status: corev1.ConditionTrue}, {Type: "example.com/dns", Status: corev1.ConditionFalse}},
		},
	}
	got := row(pod)
	want := []interface{}{"web", "0/1", "Running", "0", "<unknown>", "10.0.0.5", "node-1", "<none>", "1/2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if len(got) != len(columns) {
		t.Errorf("row has %d cells for %d columns", len(got), len(columns))
	}
}
