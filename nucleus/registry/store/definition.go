// Package store builds the nucleus' REST storage for one resource from a
// Definition: the strategies, the status subresource, field and label
// selection and server-side Table output.
//
// Every core resource the nucleus serves has the same shape (a k8s.io/api
// type stored as is, metadata validation, spec/status split), so the shared
// mechanics live here once and each resource's package states only what is
// particular to it: its validation, its defaults at create time, its
// selectable fields and its printed columns.
package store

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Object is a stored API object.
type Object interface {
	runtime.Object
	metav1.Object
}

// Definition describes one resource.
type Definition[T Object] struct {
	// Resource is the plural resource with its group, e.g. {"", "pods"}.
	Resource schema.GroupResource
	// Singular is the singular resource name, e.g. "pod".
	Singular string
	// Namespaced is true for namespace-scoped resources.
	Namespaced bool
	// New returns an empty object; NewList an empty list.
	New     func() T
	NewList func() runtime.Object

	// NameValidation checks metadata.name; nil means DNS-1123 subdomain.
	NameValidation func(name string, prefix bool) []string
	// Validate checks a new object; ValidateUpdate a changed one (the
	// object checks of Validate run on updates too).
	Validate       func(ctx context.Context, obj T) field.ErrorList
	ValidateUpdate func(ctx context.Context, obj, old T) field.ErrorList
	// ValidateCreate adds the checks only a new object gets.
	ValidateCreate func(ctx context.Context, obj T) field.ErrorList
	// ValidateStatusUpdate checks an update through the status subresource.
	ValidateStatusUpdate func(ctx context.Context, obj, old T) field.ErrorList
	// PrepareForCreate and PrepareForUpdate adjust the object before
	// validation (after the spec/status split has been applied).
	PrepareForCreate func(ctx context.Context, obj T)
	PrepareForUpdate func(ctx context.Context, obj, old T)
	// PrepareForStatusUpdate adjusts a status update.
	PrepareForStatusUpdate func(ctx context.Context, obj, old T)
	// WarningsOnCreate returns warnings for a new object.
	WarningsOnCreate func(ctx context.Context, obj T) []string

	// Fields returns the selectable fields beyond metadata.name and
	// metadata.namespace.
	Fields func(obj T) fields.Set

	// Columns and Row define server-side Table output. Row returns every
	// cell of the object, name first.
	Columns []metav1.TableColumnDefinition
	Row     func(obj T) []interface{}

	ShortNames []string
	Categories []string
	// Status adds the status subresource (requires a Status field).
	Status bool
	// AllowCreateOnUpdate lets PUT create a missing object.
	AllowCreateOnUpdate bool

	// GracefulDelete, when set, makes deletion graceful: it sets
	// options.GracePeriodSeconds and returns true when the object should
	// get a deletionTimestamp instead of being removed at once (see
	// rest.RESTGracefulDeleteStrategy).
	GracefulDelete func(ctx context.Context, obj T, options *metav1.DeleteOptions) bool
	// DeleteDuringUpdate, when set, vetoes the removal of an object being
	// deleted whose last metadata finalizer an update drops: the object is
	// removed only if it returns true (namespaces also wait for their spec
	// finalizers).
	DeleteDuringUpdate func(obj T) bool
}
