package store

import (
	"context"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Strategy implements the create, update and delete strategies of a
// Definition.
type Strategy[T Object] struct {
	runtime.ObjectTyper
	names.NameGenerator
	def *Definition[T]
	// apiVersion keys the reset fields for server-side apply.
	apiVersion string
}

var _ rest.RESTCreateStrategy = Strategy[Object]{}
var _ rest.RESTUpdateStrategy = Strategy[Object]{}
var _ rest.ResetFieldsStrategy = Strategy[Object]{}

// NamespaceScoped reports whether the resource lives in namespaces.
func (s Strategy[T]) NamespaceScoped() bool { return s.def.Namespaced }

// PrepareForCreate clears the status (when the resource has a status
// subresource), sets the generation and applies the resource's own step.
func (s Strategy[T]) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	o := obj.(T)
	if hasField(o, "Spec") {
		o.SetGeneration(1)
	}
	if s.def.PrepareForCreate != nil {
		s.def.PrepareForCreate(ctx, o)
	}
}

// PrepareForUpdate keeps the stored status (status changes go through the
// status subresource) and bumps the generation when the spec changed.
func (s Strategy[T]) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	o, prev := obj.(T), old.(T)
	if s.def.Status {
		copyField(o, prev, "Status")
	}
	if s.def.PrepareForUpdate != nil {
		s.def.PrepareForUpdate(ctx, o, prev)
	}
	if hasField(o, "Spec") && !apiequality.Semantic.DeepEqual(fieldOf(o, "Spec"), fieldOf(prev, "Spec")) {
		o.SetGeneration(prev.GetGeneration() + 1)
	}
}

// Validate checks metadata and the resource's own rules for a new object.
func (s Strategy[T]) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	o := obj.(T)
	errs := genericvalidation.ValidateObjectMetaAccessor(o, s.def.Namespaced, s.nameValidation(), field.NewPath("metadata"))
	if s.def.Validate != nil {
		errs = append(errs, s.def.Validate(ctx, o)...)
	}
	if s.def.ValidateCreate != nil {
		errs = append(errs, s.def.ValidateCreate(ctx, o)...)
	}
	return errs
}

// ValidateUpdate checks metadata changes, the object itself and the
// resource's update rules (immutable fields).
func (s Strategy[T]) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	o, prev := obj.(T), old.(T)
	errs := genericvalidation.ValidateObjectMetaAccessorUpdate(o, prev, field.NewPath("metadata"))
	if s.def.Validate != nil {
		errs = append(errs, s.def.Validate(ctx, o)...)
	}
	if s.def.ValidateUpdate != nil {
		errs = append(errs, s.def.ValidateUpdate(ctx, o, prev)...)
	}
	return errs
}

// WarningsOnCreate returns the resource's warnings.
func (s Strategy[T]) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	if s.def.WarningsOnCreate == nil {
		return nil
	}
	return s.def.WarningsOnCreate(ctx, obj.(T))
}

// WarningsOnUpdate returns no warnings.
func (Strategy[T]) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// Canonicalize does nothing: the wire types are already canonical.
func (Strategy[T]) Canonicalize(runtime.Object) {}

// AllowCreateOnUpdate is true only for resources that upstream creates on PUT.
func (s Strategy[T]) AllowCreateOnUpdate(context.Context) bool { return s.def.AllowCreateOnUpdate }

// AllowUnconditionalUpdate lets updates without a resourceVersion through.
func (Strategy[T]) AllowUnconditionalUpdate(context.Context) bool { return true }

// GetResetFields names the fields server-side apply must not take ownership
// of through this endpoint.
func (s Strategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	if !s.def.Status {
		return nil
	}
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(s.apiVersion): fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

func (s Strategy[T]) nameValidation() genericvalidation.ValidateNameFunc {
	if s.def.NameValidation != nil {
		return s.def.NameValidation
	}
	return genericvalidation.NameIsDNSSubdomain
}

// GracefulStrategy is the delete strategy of a Definition with
// GracefulDelete.
type GracefulStrategy[T Object] struct {
	Strategy[T]
}

var _ rest.RESTGracefulDeleteStrategy = GracefulStrategy[Object]{}

// CheckGracefulDelete asks the Definition how gracefully to delete obj.
func (s GracefulStrategy[T]) CheckGracefulDelete(ctx context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	return s.def.GracefulDelete(ctx, obj.(T), options)
}

// StatusStrategy implements updates through the status subresource: only the
// status (and metadata) of the submitted object is kept.
type StatusStrategy[T Object] struct {
	Strategy[T]
}

// PrepareForUpdate keeps the stored spec.
func (s StatusStrategy[T]) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	o, prev := obj.(T), old.(T)
	if hasField(o, "Spec") {
		copyField(o, prev, "Spec")
	}
	if s.def.PrepareForStatusUpdate != nil {
		s.def.PrepareForStatusUpdate(ctx, o, prev)
	}
}

// ValidateUpdate checks metadata and the resource's status rules.
func (s StatusStrategy[T]) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	o, prev := obj.(T), old.(T)
	errs := genericvalidation.ValidateObjectMetaAccessorUpdate(o, prev, field.NewPath("metadata"))
	if s.def.ValidateStatusUpdate != nil {
		errs = append(errs, s.def.ValidateStatusUpdate(ctx, o, prev)...)
	}
	return errs
}

// GetResetFields resets everything but the status.
func (s StatusStrategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(s.apiVersion): fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

func hasField(obj runtime.Object, name string) bool {
	return reflect.ValueOf(obj).Elem().FieldByName(name).IsValid()
}

func fieldOf(obj runtime.Object, name string) interface{} {
	return reflect.ValueOf(obj).Elem().FieldByName(name).Interface()
}

// copyField sets dst.<name> to a copy of src.<name>.
func copyField(dst, src runtime.Object, name string) {
	cp := src.DeepCopyObject()
	reflect.ValueOf(dst).Elem().FieldByName(name).Set(reflect.ValueOf(cp).Elem().FieldByName(name))
}
