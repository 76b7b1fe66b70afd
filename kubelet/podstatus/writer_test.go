package podstatus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

var t0 = metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))

func makePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-web"},
		Spec: corev1.PodSpec{
			NodeName:      "node-1",
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "app", Image: "busybox"}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodPending,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: t0},
			},
		},
	}
}

func running() corev1.PodStatus {
	return corev1.PodStatus{
		Phase:     corev1.PodRunning,
		PodIP:     "10.88.0.2",
		PodIPs:    []corev1.PodIP{{IP: "10.88.0.2"}},
		StartTime: &t0,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t0},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: t0},
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name:        "app",
			Ready:       true,
			Started:     ptr.To(true),
			ContainerID: "containerd://abc",
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t0}},
		}},
		QOSClass: corev1.PodQOSBestEffort,
	}
}

func actionVerbs(client *fake.Clientset) []string {
	var verbs []string
	for _, a := range client.Actions() {
		verb := a.GetVerb()
		if a.GetSubresource() != "" {
			verb += "/" + a.GetSubresource()
		}
		verbs = append(verbs, verb)
	}
	return verbs
}

func TestWriteOnlyChanges(t *testing.T) {
	ctx := context.Background()
	pod := makePod()
	client := fake.NewClientset(pod)
	w := &Writer{Client: client}

	updated, err := w.Write(ctx, pod, running(), false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(running(), updated.Status); diff != "" {
		t.Errorf("written status (-want +got):\n%s", diff)
	}
	stored, err := client.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(running(), stored.Status); diff != "" {
		t.Errorf("stored status (-want +got):\n%s", diff)
	}

	client.ClearActions()
	if _, err := w.Write(ctx, stored, running(), false); err != nil {
		t.Fatal(err)
	}
	if got := actionVerbs(client); len(got) != 0 {
		t.Errorf("writing the same status made calls %v", got)
	}
}

func TestWriteKeepsOthersConditions(t *testing.T) {
	ctx := context.Background()
	pod := makePod()
	// A controller added its readiness gate's condition after the kubelet
	// read the pod.
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: "example.com/lb", Status: corev1.ConditionTrue})
	client := fake.NewClientset(pod)
	w := &Writer{Client: client}

	updated, err := w.Write(ctx, pod, running(), false)
	if err != nil {
		t.Fatal(err)
	}
	var types []corev1.PodConditionType
	for _, c := range updated.Status.Conditions {
		types = append(types, c.Type)
	}
	if diff := cmp.Diff([]corev1.PodConditionType{"example.com/lb", corev1.PodReady, corev1.PodScheduled}, types); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
}

func TestWriteRefusesIllegalTransitions(t *testing.T) {
	pod := makePod()
	pod.Status = running()
	pod.Status.Phase = corev1.PodFailed
	pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}
	client := fake.NewClientset(pod)
	w := &Writer{Client: client}

	_, err := w.Write(context.Background(), pod, running(), false)
	if !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("error = %v, want an illegal transition", err)
	}
	if got := actionVerbs(client); len(got) != 0 {
		t.Errorf("calls %v, want none", got)
	}
}

func TestWriteDeletesStoppedPods(t *testing.T) {
	tests := []struct {
		name    string
		phase   corev1.PodPhase
		stopped bool
		want    []string
	}{
		{"containers still running", corev1.PodFailed, false, []string{"patch/status"}},
		{"status not terminal yet", corev1.PodRunning, true, []string{"patch/status"}},
		{"stopped and terminal", corev1.PodFailed, true, []string{"patch/status", "delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			pod := makePod()
			pod.DeletionTimestamp = &t0
			pod.DeletionGracePeriodSeconds = ptr.To[int64](30)
			pod.Finalizers = []string{"example.com/keep"} // keeps the fake from deleting at once
			client := fake.NewClientset(pod)
			w := &Writer{Client: client}
			status := running()
			status.Phase = tt.phase
			status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}
			if _, err := w.Write(ctx, pod, status, tt.stopped); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, actionVerbs(client)); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			for _, a := range client.Actions() {
				if del, ok := a.(clienttesting.DeleteAction); ok {
					opts := del.GetDeleteOptions()
					if opts.GracePeriodSeconds == nil || *opts.GracePeriodSeconds != 0 {
						t.Errorf("deleted with grace period %v, want 0", opts.GracePeriodSeconds)
					}
					if opts.Preconditions == nil || opts.Preconditions.UID == nil || *opts.Preconditions.UID != "uid-web" {
						t.Errorf("deleted without the UID precondition: %+v", opts.Preconditions)
					}
				}
			}
		})
	}
}

func TestStatusPatch(t *testing.T) {
	old := running()
	updated := running()
	updated.ContainerStatuses[0].Ready = false
	patch, err := statusPatch("uid-web", old, updated)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"uid":"uid-web"},"status":{"containerStatuses":[{"containerID":"containerd://abc","image":"","imageID":"","lastState":{},"name":"app","ready":false,"restartCount":0,"started":true,"state":{"running":{"startedAt":"2026-03-01T12:00:00Z"}}}]}}`
	if diff := cmp.Diff(want, string(patch)); diff != "" {
		t.Errorf("patch (-want +got):\n%s", diff)
	}
}

// A sync before the informer saw the deletion must not delete the pod a
// second time: the node authorizer, which no longer knows it, would refuse.
func TestWriteDeletesOnce(t *testing.T) {
	ctx := context.Background()
	pod := makePod()
	pod.DeletionTimestamp = &t0
	pod.DeletionGracePeriodSeconds = ptr.To[int64](30)
	pod.Finalizers = []string{"example.com/keep"}
	status := running()
	status.Phase = corev1.PodFailed
	status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}
	pod.Status = status
	client := fake.NewClientset(pod)
	w := &Writer{Client: client}
	for range 2 {
		if _, err := w.Write(ctx, pod, status, true); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"delete"}, actionVerbs(client)); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
