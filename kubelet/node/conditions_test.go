package node

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(10 * time.Second))
)

func cond(t corev1.NodeConditionType, st corev1.ConditionStatus, reason, msg string, heartbeat, transition metav1.Time) corev1.NodeCondition {
	return corev1.NodeCondition{Type: t, Status: st, Reason: reason, Message: msg, LastHeartbeatTime: heartbeat, LastTransitionTime: transition}
}

func TestSetPressureCondition(t *testing.T) {
	sufficient := func(hb, tr metav1.Time) corev1.NodeCondition {
		return cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", hb, tr)
	}
	insufficient := func(hb, tr metav1.Time) corev1.NodeCondition {
		return cond(corev1.NodeMemoryPressure, corev1.ConditionTrue, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available", hb, tr)
	}
	for _, tc := range []struct {
		name      string
		existing  []corev1.NodeCondition
		pressure  bool
		want      []corev1.NodeCondition
		wantEvent string
	}{
		{name: "new, no pressure", want: []corev1.NodeCondition{sufficient(t1, t1)}, wantEvent: "NodeHasSufficientMemory"},
		{name: "new, pressure", pressure: true, want: []corev1.NodeCondition{insufficient(t1, t1)}, wantEvent: "NodeHasInsufficientMemory"},
		{name: "unchanged: heartbeat only", existing: []corev1.NodeCondition{sufficient(t0, t0)}, want: []corev1.NodeCondition{sufficient(t1, t0)}},
		{name: "turns to pressure", existing: []corev1.NodeCondition{sufficient(t0, t0)}, pressure: true,
			want: []corev1.NodeCondition{insufficient(t1, t1)}, wantEvent: "NodeHasInsufficientMemory"},
		{name: "from Unknown (node controller)", existing: []corev1.NodeCondition{cond(corev1.NodeMemoryPressure, corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", t0, t0)},
			want: []corev1.NodeCondition{sufficient(t1, t1)}, wantEvent: "NodeHasSufficientMemory"},
		{name: "other conditions kept", existing: []corev1.NodeCondition{cond("NetworkUnavailable", corev1.ConditionFalse, "RouteCreated", "", t0, t0)},
			want: []corev1.NodeCondition{cond("NetworkUnavailable", corev1.ConditionFalse, "RouteCreated", "", t0, t0), sufficient(t1, t1)}, wantEvent: "NodeHasSufficientMemory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &corev1.NodeStatus{Conditions: tc.existing}
			event := SetPressureCondition(st, corev1.NodeMemoryPressure, tc.pressure, t1)
			if diff := cmp.Diff(tc.want, st.Conditions); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if event != tc.wantEvent {
				t.Errorf("event = %q, want %q", event, tc.wantEvent)
			}
		})
	}
}

func TestPressureConditionTexts(t *testing.T) {
	st := &corev1.NodeStatus{}
	SetPressureCondition(st, corev1.NodeDiskPressure, false, t0)
	SetPressureCondition(st, corev1.NodePIDPressure, false, t0)
	want := []corev1.NodeCondition{
		cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", t0, t0),
		cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available", t0, t0),
	}
	if diff := cmp.Diff(want, st.Conditions); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if e := SetPressureCondition(st, corev1.NodeDiskPressure, true, t1); e != "NodeHasDiskPressure" || st.Conditions[0].Reason != "KubeletHasDiskPressure" || st.Conditions[0].Message != "kubelet has disk pressure" {
		t.Errorf("disk pressure: event %q, condition %+v", e, st.Conditions[0])
	}
	if e := SetPressureCondition(st, corev1.NodePIDPressure, true, t1); e != "NodeHasInsufficientPID" || st.Conditions[1].Reason != "KubeletHasInsufficientPID" || st.Conditions[1].Message != "kubelet has insufficient PID available" {
		t.Errorf("pid pressure: event %q, condition %+v", e, st.Conditions[1])
	}
}

func TestSetReadyCondition(t *testing.T) {
	ready := func(hb, tr metav1.Time) corev1.NodeCondition {
		return cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status", hb, tr)
	}
	notReady := func(msg string, hb, tr metav1.Time) corev1.NodeCondition {
		return cond(corev1.NodeReady, corev1.ConditionFalse, "KubeletNotReady", msg, hb, tr)
	}
	netErr := errors.New("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized")
	for _, tc := range []struct {
		name      string
		existing  []corev1.NodeCondition
		err       error
		want      []corev1.NodeCondition
		wantEvent string
	}{
		{name: "new ready: no event", want: []corev1.NodeCondition{ready(t1, t1)}},
		{name: "new not ready: no event", err: netErr, want: []corev1.NodeCondition{notReady(netErr.Error(), t1, t1)}},
		{name: "stays ready", existing: []corev1.NodeCondition{ready(t0, t0)}, want: []corev1.NodeCondition{ready(t1, t0)}},
		{name: "becomes ready", existing: []corev1.NodeCondition{notReady("x", t0, t0)}, want: []corev1.NodeCondition{ready(t1, t1)}, wantEvent: "NodeReady"},
		{name: "becomes not ready", existing: []corev1.NodeCondition{ready(t0, t0)}, err: netErr,
			want: []corev1.NodeCondition{notReady(netErr.Error(), t1, t1)}, wantEvent: "NodeNotReady"},
		{name: "not ready for another reason keeps the transition time", existing: []corev1.NodeCondition{notReady("x", t0, t0)}, err: netErr,
			want: []corev1.NodeCondition{notReady(netErr.Error(), t1, t0)}},
		{name: "back from Unknown", existing: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", t0, t0)},
			want: []corev1.NodeCondition{ready(t1, t1)}, wantEvent: "NodeReady"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &corev1.NodeStatus{Conditions: tc.existing}
			event := SetReadyCondition(st, tc.err, t1)
			if diff := cmp.Diff(tc.want, st.Conditions); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if event != tc.wantEvent {
				t.Errorf("event = %q, want %q", event, tc.wantEvent)
			}
		})
	}
}

func TestReadyErrors(t *testing.T) {
	full := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi"),
		corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("1Gi"),
	}
	now := t0.Time
	synced := runtimeState{lastSync: now.Add(-5 * time.Second)}
	for _, tc := range []struct {
		name     string
		capacity corev1.ResourceList
		runtime  runtimeState
		want     string
	}{
		{name: "ready", capacity: full, runtime: synced},
		{name: "runtime never checked", capacity: full, runtime: runtimeState{},
			want: "container runtime status check may not have completed yet"},
		{name: "runtime down", capacity: full, runtime: runtimeState{lastSync: now.Add(-31 * time.Second)},
			want: "container runtime is down"},
		{name: "network not ready", capacity: full,
			runtime: func() runtimeState {
				s := runtimeState{}
				s.observeStatus(runtimeStatus(true, false, "NetworkPluginNotReady", "Network plugin returns error: cni plugin not initialized"), now)
				return s
			}(),
			want: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"},
		{name: "runtime not ready: not a successful check", capacity: full,
			runtime: func() runtimeState {
				s := runtimeState{}
				s.observeStatus(&runtimeapi.StatusResponse{Status: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
					{Type: runtimeapi.RuntimeReady, Status: false, Reason: "Down", Message: "no"},
				}}}, now)
				return s
			}(),
			want: "[container runtime status check may not have completed yet, container runtime not ready: RuntimeReady=false reason:Down message:no, container runtime network not ready: <nil>]"},
		{name: "missing capacity", capacity: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}, runtime: synced,
			want: "Missing node capacity for resources: cpu, memory, ephemeral-storage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ReadyErrors(&corev1.NodeStatus{Capacity: tc.capacity}, tc.runtime.runtimeErrors(now), tc.runtime.networkErrors())
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("ReadyErrors = %q\nwant %q", got, tc.want)
			}
		})
	}
}

func runtimeStatus(runtimeReady, networkReady bool, reason, message string) *runtimeapi.StatusResponse {
	c := func(t string, ok bool) *runtimeapi.RuntimeCondition {
		rc := &runtimeapi.RuntimeCondition{Type: t, Status: ok}
		if !ok {
			rc.Reason, rc.Message = reason, message
		}
		return rc
	}
	return &runtimeapi.StatusResponse{
		Status:          &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{c(runtimeapi.RuntimeReady, runtimeReady), c(runtimeapi.NetworkReady, networkReady)}},
		RuntimeHandlers: []*runtimeapi.RuntimeHandler{{Name: "runc", Features: &runtimeapi.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: true}}},
		Features:        &runtimeapi.RuntimeFeatures{SupplementalGroupsPolicy: true},
	}
}
