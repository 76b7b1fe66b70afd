package event

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/request"

	coreevent "github.com/strata-dev/strata/nucleus/registry/core/event"
	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the events.k8s.io events resource. Its objects are
// core v1 Events: the scheme converts them to and from eventsv1.Event on
// the wire, and they share storage with the core endpoint.
var Definition = &store.Definition[*corev1.Event]{
	Resource:   eventsv1.Resource("events"),
	Singular:   "event",
	Namespaced: true,
	New:        func() *corev1.Event { return &corev1.Event{} },
	NewList:    func() runtime.Object { return &corev1.EventList{} },
	Validate:   validate,
	ValidateUpdate: func(_ context.Context, e, old *corev1.Event) field.ErrorList {
		return coreevent.ValidateStrictUpdate(e, old)
	},
	Fields:              coreevent.SelectableFields,
	Columns:             coreevent.Columns,
	Row:                 coreevent.Row,
	ShortNames:          []string{"ev"},
	AllowCreateOnUpdate: true,
}

// validate applies the rules of every Event and, on creation, the stricter
// ones of the new API. (The store runs Validate on updates as well, where
// upstream checks only what ValidateStrictUpdate does.)
func validate(ctx context.Context, e *corev1.Event) field.ErrorList {
	errs := coreevent.ValidateLegacy(e, "reportingController")
	if info, ok := request.RequestInfoFrom(ctx); !ok || info.Verb == "create" {
		errs = append(errs, coreevent.ValidateStrict(e)...)
	}
	return errs
}
