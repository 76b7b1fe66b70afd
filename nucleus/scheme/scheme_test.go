package scheme

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestWireTypesAreTheirOwnInternalVersion(t *testing.T) {
	for _, gvk := range []schema.GroupVersionKind{
		{Version: runtime.APIVersionInternal, Kind: "Pod"},
		{Group: "discovery.k8s.io", Version: runtime.APIVersionInternal, Kind: "EndpointSlice"},
		{Group: "coordination.k8s.io", Version: runtime.APIVersionInternal, Kind: "Lease"},
	} {
		if !Scheme.Recognizes(gvk) {
			t.Errorf("scheme does not know %v", gvk)
		}
	}
	obj, err := Scheme.New(schema.GroupVersionKind{Group: "events.k8s.io", Version: runtime.APIVersionInternal, Kind: "Event"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := obj.(*corev1.Event); !ok {
		t.Errorf("internal events.k8s.io Event is %T, want the core Event it is stored as", obj)
	}
	if kinds, _, _ := External.ObjectKinds(&corev1.Pod{}); len(kinds) != 1 {
		t.Errorf("the external scheme names Pod %v, want only v1", kinds)
	}
}

func TestEventConversionRoundTrip(t *testing.T) {
	now := metav1.NewMicroTime(metav1.Now().Rfc3339Copy().Time)
	in := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "e", Namespace: "default"},
		EventTime:           now,
		Series:              &eventsv1.EventSeries{Count: 2, LastObservedTime: now},
		ReportingController: "strata.io/test",
		ReportingInstance:   "test-1",
		Action:              "Binding",
		Reason:              "Scheduled",
		Regarding:           corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "default"},
		Note:                "assigned",
		Type:                corev1.EventTypeNormal,
		DeprecatedCount:     3,
	}
	core := &corev1.Event{}
	if err := Scheme.Convert(in, core, nil); err != nil {
		t.Fatal(err)
	}
	if core.InvolvedObject.Name != "web" || core.Message != "assigned" || core.ReportingController != "strata.io/test" {
		t.Errorf("core event lost fields: %+v", core)
	}
	back := &eventsv1.Event{}
	if err := Scheme.Convert(core, back, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestFieldLabelConversion(t *testing.T) {
	tests := []struct {
		gvk     schema.GroupVersionKind
		label   string
		want    string
		wantErr bool
	}{
		{gvk: corev1.SchemeGroupVersion.WithKind("Pod"), label: "spec.nodeName", want: "spec.nodeName"},
		{gvk: corev1.SchemeGroupVersion.WithKind("Pod"), label: "status.phase", want: "status.phase"},
		{gvk: corev1.SchemeGroupVersion.WithKind("Pod"), label: "spec.containers", wantErr: true},
		{gvk: corev1.SchemeGroupVersion.WithKind("Event"), label: "involvedObject.name", want: "involvedObject.name"},
		{gvk: eventsv1.SchemeGroupVersion.WithKind("Event"), label: "regarding.name", want: "involvedObject.name"},
		{gvk: corev1.SchemeGroupVersion.WithKind("ConfigMap"), label: "metadata.name", want: "metadata.name"},
	}
	for _, tt := range tests {
		got, _, err := Scheme.ConvertFieldLabel(tt.gvk, tt.label, "x")
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ConvertFieldLabel(%v, %q) = %q, %v; want %q, error %v", tt.gvk.Kind, tt.label, got, err, tt.want, tt.wantErr)
		}
	}
}
