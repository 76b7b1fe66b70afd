package event

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

// newStyle is a valid event of the events.k8s.io API.
func newStyle() *corev1.Event {
	return &corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "e", Namespace: "ns"},
		InvolvedObject:      corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p"},
		EventTime:           metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		ReportingController: "example.com/controller",
		ReportingInstance:   "controller-1",
		Action:              "Scheduling",
		Reason:              "Scheduled",
		Type:                corev1.EventTypeNormal,
	}
}

func TestValidateLegacy(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.Event)
		want   []string
	}{
		{name: "new style", modify: func(*corev1.Event) {}},
		{
			name: "old style matching namespace",
			modify: func(e *corev1.Event) {
				*e = corev1.Event{ObjectMeta: e.ObjectMeta, InvolvedObject: e.InvolvedObject, Reason: "Started", Type: "Custom"}
			},
		},
		{
			name: "old style other namespace",
			modify: func(e *corev1.Event) {
				e.EventTime = metav1.MicroTime{}
				e.InvolvedObject.Namespace = "other"
			},
			want: []string{"involvedObject.namespace: Invalid value"},
		},
		{
			name: "old style cluster object in default",
			modify: func(e *corev1.Event) {
				e.EventTime = metav1.MicroTime{}
				e.Namespace, e.InvolvedObject = "default", corev1.ObjectReference{Kind: "Node", Name: "n"}
			},
		},
		{
			name: "old style cluster object in a namespace",
			modify: func(e *corev1.Event) {
				e.EventTime = metav1.MicroTime{}
				e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "n"}
			},
			want: []string{"involvedObject.namespace: Invalid value"},
		},
		{
			name: "new style cluster object in kube-system",
			modify: func(e *corev1.Event) {
				e.Namespace, e.InvolvedObject = "kube-system", corev1.ObjectReference{Kind: "Node", Name: "n"}
			},
		},
		{
			name: "new style without reporter",
			modify: func(e *corev1.Event) {
				e.ReportingController, e.ReportingInstance, e.Action, e.Reason = "", "", "", ""
			},
			// As upstream, the empty controller is also not a qualified name.
			want: []string{"action: Required value", "reason: Required value", "reportingComponent: Invalid value",
				"reportingComponent: Invalid value", "reportingComponent: Required value", "reportingInstance: Required value"},
		},
		{
			name:   "new style with long fields",
			modify: func(e *corev1.Event) { e.Action, e.Message = strings.Repeat("a", 129), strings.Repeat("m", 1025) },
			want:   []string{"action: Invalid value", "message: Invalid value"},
		},
		{
			name:   "bad controller name",
			modify: func(e *corev1.Event) { e.ReportingController = "not a name" },
			want:   []string{"reportingComponent: Invalid value"},
		},
	}
	for _, tt := range tests {
		e := newStyle()
		tt.modify(e)
		got := validationtest.Summary(ValidateLegacy(e, "reportingComponent"))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateStrict(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.Event)
		want   []string
	}{
		{name: "valid", modify: func(*corev1.Event) {}},
		{
			name:   "no event time, odd type",
			modify: func(e *corev1.Event) { e.EventTime, e.Type = metav1.MicroTime{}, "Custom" },
			want:   []string{"eventTime: Required value", "type: Invalid value"},
		},
		{
			name: "deprecated fields",
			modify: func(e *corev1.Event) {
				e.FirstTimestamp, e.LastTimestamp = metav1.Now(), metav1.Now()
				e.Count, e.Source = 2, corev1.EventSource{Component: "kubelet"}
			},
			want: []string{"deprecatedCount: Invalid value", "deprecatedFirstTimestamp: Invalid value",
				"deprecatedLastTimestamp: Invalid value", "deprecatedSource: Invalid value"},
		},
		{
			name:   "series too short",
			modify: func(e *corev1.Event) { e.Series = &corev1.EventSeries{Count: 1} },
			want:   []string{"series.count: Invalid value", "series.lastObservedTime: Required value"},
		},
	}
	for _, tt := range tests {
		e := newStyle()
		tt.modify(e)
		got := validationtest.Summary(ValidateStrict(e))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateStrictUpdate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.Event)
		want   []string
	}{
		{name: "unchanged", modify: func(*corev1.Event) {}},
		{
			name: "series grows",
			modify: func(e *corev1.Event) {
				e.Series = &corev1.EventSeries{Count: 2, LastObservedTime: metav1.NowMicro()}
			},
		},
		{
			name:   "bad series",
			modify: func(e *corev1.Event) { e.Series = &corev1.EventSeries{Count: 1, LastObservedTime: metav1.NowMicro()} },
			want:   []string{"series.count: Invalid value"},
		},
		{
			name: "reason, note and time changed",
			modify: func(e *corev1.Event) {
				e.Reason, e.Message = "Other", "changed"
				e.EventTime = metav1.NewMicroTime(e.EventTime.Add(time.Second))
			},
			want: []string{"eventTime: Invalid value", "message: Invalid value", "reason: Invalid value"},
		},
		{
			name:   "sub-microsecond time change",
			modify: func(e *corev1.Event) { e.EventTime = metav1.NewMicroTime(e.EventTime.Add(time.Nanosecond)) },
		},
	}
	for _, tt := range tests {
		old, e := newStyle(), newStyle()
		tt.modify(e)
		got := validationtest.Summary(ValidateStrictUpdate(e, old))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}
