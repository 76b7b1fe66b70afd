package event

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRow(t *testing.T) {
	hourAgo := metav1.NewTime(time.Now().Add(-time.Hour))
	fiveMinutesAgo := metav1.NewTime(time.Now().Add(-5 * time.Minute))
	tests := []struct {
		name  string
		event corev1.Event
		want  []interface{}
	}{
		{
			name: "old style",
			event: corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: "web.1"},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
				Reason:         "Pulled", Message: "  Pulled image  ", Type: corev1.EventTypeNormal,
				Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
				FirstTimestamp: hourAgo, LastTimestamp: fiveMinutesAgo, Count: 3,
			},
			want: []interface{}{"5m", "Normal", "Pulled", "pod/web", "spec.containers{app}", "kubelet, node-1", "Pulled image", "60m", int64(3), "web.1"},
		},
		{
			name: "new style singleton",
			event: corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: "n.2"},
				InvolvedObject: corev1.ObjectReference{Kind: "Node"},
				Reason:         "Rebooted", Type: corev1.EventTypeWarning,
				EventTime:           metav1.NewMicroTime(hourAgo.Time),
				ReportingController: "kubelet",
			},
			want: []interface{}{"60m", "Warning", "Rebooted", "node", "", "kubelet", "", "60m", int64(1), "n.2"},
		},
		{
			name: "new style series",
			event: corev1.Event{
				ObjectMeta:          metav1.ObjectMeta{Name: "d.3"},
				InvolvedObject:      corev1.ObjectReference{Kind: "Deployment", Name: "d"},
				EventTime:           metav1.NewMicroTime(hourAgo.Time),
				Series:              &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(fiveMinutesAgo.Time)},
				ReportingController: "deployment-controller", ReportingInstance: "cm-1",
			},
			want: []interface{}{"5m", "", "", "deployment/d", "", "deployment-controller, cm-1", "", "60m", int64(7), "d.3"},
		},
	}
	for _, tt := range tests {
		got := Row(&tt.event)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
		if len(got) != len(Columns) {
			t.Errorf("%s: %d cells for %d columns", tt.name, len(got), len(Columns))
		}
	}
}

func TestSelectableFields(t *testing.T) {
	e := &corev1.Event{
		InvolvedObject:      corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p", UID: "u", APIVersion: "v1"},
		Reason:              "Started",
		Type:                corev1.EventTypeNormal,
		ReportingController: "example.com/c",
	}
	got := SelectableFields(e)
	for k, want := range map[string]string{
		"involvedObject.kind": "Pod", "involvedObject.uid": "u", "reason": "Started", "type": "Normal",
		"reportingComponent": "example.com/c", "source": "example.com/c",
	} {
		if got[k] != want {
			t.Errorf("%s: got %q, want %q", k, got[k], want)
		}
	}
	e.Source.Component = "kubelet"
	if got := SelectableFields(e)["source"]; got != "kubelet" {
		t.Errorf("source with a source component: got %q", got)
	}
}
