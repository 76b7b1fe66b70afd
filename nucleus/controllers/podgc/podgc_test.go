package podgc

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(name string, phase corev1.PodPhase, age time.Duration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-age))},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestExcessTerminated(t *testing.T) {
	pods := []*corev1.Pod{
		pod("running-old", corev1.PodRunning, 10*time.Hour),
		pod("done-3h", corev1.PodSucceeded, 3*time.Hour),
		pod("failed-5h", corev1.PodFailed, 5*time.Hour),
		pod("done-1h", corev1.PodSucceeded, time.Hour),
	}
	tests := []struct {
		threshold int
		want      []string
	}{
		{threshold: 3, want: nil},
		{threshold: 2, want: []string{"failed-5h"}},
		{threshold: 0, want: []string{"failed-5h", "done-3h", "done-1h"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.threshold), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, names(excessTerminated(pods, tt.threshold))); diff != "" {
				t.Errorf("collected (-want +got)\n%s", diff)
			}
		})
	}
}

func TestUnscheduledTerminating(t *testing.T) {
	now := metav1.Now()
	scheduled := pod("scheduled", corev1.PodRunning, 0)
	scheduled.Spec.NodeName = "n1"
	scheduled.DeletionTimestamp = &now
	stuck := pod("stuck", corev1.PodPending, 0)
	stuck.DeletionTimestamp = &now
	alive := pod("alive", corev1.PodPending, 0)
	if diff := cmp.Diff([]string{"stuck"}, names(unscheduledTerminating([]*corev1.Pod{scheduled, stuck, alive}))); diff != "" {
		t.Errorf("collected (-want +got)\n%s", diff)
	}
}
