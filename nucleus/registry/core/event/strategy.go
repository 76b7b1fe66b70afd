package event

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// TTL is how long Events are kept, upstream's default --event-ttl.
const TTL = 3600

// Definition describes the core v1 events resource.
var Definition = &store.Definition[*corev1.Event]{
	Resource:   corev1.Resource("events"),
	Singular:   "event",
	Namespaced: true,
	New:        func() *corev1.Event { return &corev1.Event{} },
	NewList:    func() runtime.Object { return &corev1.EventList{} },
	// Upstream does not check the names of core v1 Events.
	NameValidation: func(string, bool) []string { return nil },
	Validate: func(_ context.Context, e *corev1.Event) field.ErrorList {
		return ValidateLegacy(e, "reportingComponent")
	},
	Fields:              SelectableFields,
	Columns:             Columns,
	Row:                 Row,
	ShortNames:          []string{"ev"},
	AllowCreateOnUpdate: true,
}

// SelectableFields are the fields upstream lets Events be selected by;
// events.k8s.io/v1 field names are converted to these.
func SelectableFields(e *corev1.Event) fields.Set {
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}
}

// SetTTL makes the store expire Events after TTL seconds.
func SetTTL(s *store.Storage) {
	s.Store.TTLFunc = func(runtime.Object, uint64, bool) (uint64, error) { return TTL, nil }
}
