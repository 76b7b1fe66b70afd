package pod

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
)

func TestGracePeriod(t *testing.T) {
	tests := []struct {
		name      string
		nodeName  string
		phase     corev1.PodPhase
		podGrace  *int64
		requested *int64
		want      int64
	}{
		{name: "pod's own period", nodeName: "n", phase: corev1.PodRunning, podGrace: ptr.To[int64](30), want: 30},
		{name: "requested period wins", nodeName: "n", phase: corev1.PodRunning, podGrace: ptr.To[int64](30), requested: ptr.To[int64](5), want: 5},
		{name: "requested 0 forces", nodeName: "n", phase: corev1.PodRunning, podGrace: ptr.To[int64](30), requested: ptr.To[int64](0), want: 0},
		{name: "no period anywhere", nodeName: "n", phase: corev1.PodRunning, want: 0},
		{name: "unscheduled pod goes at once", phase: corev1.PodPending, podGrace: ptr.To[int64](30), want: 0},
		{name: "unscheduled pod ignores request", phase: corev1.PodPending, requested: ptr.To[int64](10), want: 0},
		{name: "succeeded pod goes at once", nodeName: "n", phase: corev1.PodSucceeded, podGrace: ptr.To[int64](30), want: 0},
		{name: "failed pod goes at once", nodeName: "n", phase: corev1.PodFailed, requested: ptr.To[int64](10), want: 0},
		{name: "negative pod period counts as 1", nodeName: "n", phase: corev1.PodRunning, podGrace: ptr.To[int64](-5), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{
				Spec:   corev1.PodSpec{NodeName: tt.nodeName, TerminationGracePeriodSeconds: tt.podGrace},
				Status: corev1.PodStatus{Phase: tt.phase},
			}
			options := &metav1.DeleteOptions{GracePeriodSeconds: tt.requested}
			if !GracePeriod(pod, options) {
				t.Fatal("GracePeriod returned false")
			}
			if diff := cmp.Diff(&tt.want, options.GracePeriodSeconds); diff != "" {
				t.Errorf("grace period (-want +got):\n%s", diff)
			}
		})
	}
	if GracePeriod(&corev1.Pod{}, nil) {
		t.Error("GracePeriod without options returned true")
	}
}

func TestPrepareForCreate(t *testing.T) {
	pod := &corev1.Pod{
		Spec: corev1.PodSpec{
			Containers:      []corev1.Container{{Name: "a"}},
			SchedulingGates: []corev1.PodSchedulingGate{{Name: "example.com/wait"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", HostIP: "192.168.0.1"},
	}
	prepareForCreate(context.Background(), pod)
	want := corev1.PodStatus{
		Phase:    corev1.PodPending,
		QOSClass: corev1.PodQOSBestEffort,
		Conditions: []corev1.PodCondition{{
			Type:    corev1.PodScheduled,
			Status:  corev1.ConditionFalse,
			Reason:  corev1.PodReasonSchedulingGated,
			Message: "Scheduling is blocked due to non-empty scheduling gates",
		}},
	}
	if diff := cmp.Diff(want, pod.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestPrepareForStatusUpdate(t *testing.T) {
	owner := []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web", UID: "u1"}}
	old := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{OwnerReferences: owner},
		Status:     corev1.PodStatus{QOSClass: corev1.PodQOSGuaranteed},
	}
	pod := &corev1.Pod{Status: corev1.PodStatus{
		Phase:    corev1.PodRunning,
		QOSClass: corev1.PodQOSBestEffort,
		PodIP:    "10.0.0.1",
		HostIPs:  []corev1.HostIP{{IP: "192.168.0.1"}, {IP: "fd00::1"}},
		HostIP:   "192.168.0.9",
	}}
	prepareForStatusUpdate(context.Background(), pod, old)
	wantStatus := corev1.PodStatus{
		Phase:    corev1.PodRunning,
		QOSClass: corev1.PodQOSGuaranteed,
		PodIP:    "10.0.0.1",
		PodIPs:   []corev1.PodIP{{IP: "10.0.0.1"}},
		HostIP:   "192.168.0.1",
		HostIPs:  []corev1.HostIP{{IP: "192.168.0.1"}, {IP: "fd00::1"}},
	}
	if diff := cmp.Diff(wantStatus, pod.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(owner, pod.OwnerReferences); diff != "" {
		t.Errorf("owner references (-want +got):\n%s", diff)
	}
}

func TestSelectableFields(t *testing.T) {
	pod := &corev1.Pod{
		Spec: corev1.PodSpec{
			NodeName: "node-1", RestartPolicy: corev1.RestartPolicyNever, SchedulerName: "default-scheduler",
			ServiceAccountName: "builder", HostNetwork: true,
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "fd00::1"}},
			NominatedNodeName: "node-2",
		},
	}
	want := fields.Set{
		"spec.nodeName":            "node-1",
		"spec.restartPolicy":       "Never",
		"spec.schedulerName":       "default-scheduler",
		"spec.serviceAccountName":  "builder",
		"spec.hostNetwork":         "true",
		"status.phase":             "Running",
		"status.podIP":             "10.0.0.1",
		"status.podIPs":            "10.0.0.1,fd00::1",
		"status.nominatedNodeName": "node-2",
	}
	if diff := cmp.Diff(want, selectableFields(pod)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestBind(t *testing.T) {
	now := metav1.NewTime(t1.Time)
	tests := []struct {
		name    string
		pod     corev1.Pod
		wantErr string
		want    corev1.Pod
	}{
		{
			name: "binds",
			pod: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 1},
				Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", LastTransitionTime: t0},
				}},
			},
			want: corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 1, Annotations: map[string]string{"scheduler": "yes"}},
				Spec:       corev1.PodSpec{NodeName: "node-1"},
				Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, ObservedGeneration: 1, LastTransitionTime: now},
				}},
			},
		},
		{
			name:    "already bound",
			pod:     corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{NodeName: "node-2"}},
			wantErr: `pod web is already assigned to node "node-2"`,
		},
		{
			name:    "being deleted",
			pod:     corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", DeletionTimestamp: &t0}},
			wantErr: "pod web is being deleted, cannot be assigned to a host",
		},
		{
			name:    "gated",
			pod:     corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{SchedulingGates: []corev1.PodSchedulingGate{{Name: "g"}}}},
			wantErr: "pod web has non-empty .spec.schedulingGates",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := tt.pod.DeepCopy()
			err := Bind(pod, "node-1", map[string]string{"scheduler": "yes"}, now)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Bind error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tt.want, pod); diff != "" {
				t.Errorf("pod (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrepareForStatusUpdateComputesMissingQOS(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{container(resources("cpu", "1"), nil)}}}
	prepareForStatusUpdate(context.Background(), pod, pod.DeepCopy())
	if pod.Status.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("QoS class = %q, want Burstable", pod.Status.QOSClass)
	}
}
