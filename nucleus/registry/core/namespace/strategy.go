// Package namespace serves core v1 Namespaces (with status and finalize).
package namespace

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the namespaces resource.
var Definition = &store.Definition[*corev1.Namespace]{
	Resource:       corev1.Resource("namespaces"),
	Singular:       "namespace",
	New:            func() *corev1.Namespace { return &corev1.Namespace{} },
	NewList:        func() runtime.Object { return &corev1.NamespaceList{} },
	NameValidation: genericvalidation.ValidateNamespaceName,
	Validate: func(_ context.Context, ns *corev1.Namespace) field.ErrorList {
		return validateFinalizers(ns.Spec.Finalizers)
	},
	ValidateStatusUpdate: func(_ context.Context, ns, _ *corev1.Namespace) field.ErrorList {
		return validateStatus(ns)
	},
	PrepareForCreate: prepareForCreate,
	PrepareForUpdate: func(_ context.Context, ns, old *corev1.Namespace) {
		// spec.finalizers change only through the finalize subresource.
		ns.Spec.Finalizers = old.Spec.Finalizers
		setNameLabel(ns)
	},
	PrepareForStatusUpdate: func(_ context.Context, ns, _ *corev1.Namespace) { setNameLabel(ns) },
	// A namespace goes away once both its metadata and spec finalizers
	// are gone.
	DeleteDuringUpdate: func(ns *corev1.Namespace) bool { return len(ns.Spec.Finalizers) == 0 },
	Fields: func(ns *corev1.Namespace) fields.Set {
		return fields.Set{"status.phase": string(ns.Status.Phase)}
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Status", Type: "string", Description: "The status of the namespace"},
		store.AgeColumn,
	},
	Row: func(ns *corev1.Namespace) []interface{} {
		return []interface{}{ns.Name, string(ns.Status.Phase), store.Age(ns.CreationTimestamp)}
	},
	ShortNames: []string{"ns"},
	Status:     true,
}

// prepareForCreate makes a new namespace Active and gives it the
// "kubernetes" finalizer, which the namespace controller removes once the
// namespace's content is gone.
func prepareForCreate(_ context.Context, ns *corev1.Namespace) {
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
	setNameLabel(ns)
}

// setNameLabel labels a namespace with its own name, whatever the client
// sent.
func setNameLabel(ns *corev1.Namespace) {
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

// standardFinalizers are the finalizer names that need no domain.
var standardFinalizers = []string{string(corev1.FinalizerKubernetes), metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents}

// validateFinalizers checks spec.finalizers: qualified names, with a
// domain unless standard.
func validateFinalizers(finalizers []corev1.FinalizerName) field.ErrorList {
	var errs field.ErrorList
	fldPath := field.NewPath("spec", "finalizers")
	for i, f := range finalizers {
		p := fldPath.Index(i)
		errs = append(errs, genericvalidation.ValidateFinalizerName(string(f), p)...)
		if !strings.Contains(string(f), "/") && !slices.Contains(standardFinalizers, string(f)) {
			errs = append(errs, field.Invalid(p, string(f), "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// validateStatus ties the phase to the deletion: Active until deleted,
// Terminating after.
func validateStatus(ns *corev1.Namespace) field.ErrorList {
	p := field.NewPath("status", "Phase")
	switch {
	case ns.DeletionTimestamp.IsZero() && ns.Status.Phase != corev1.NamespaceActive:
		return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
	case !ns.DeletionTimestamp.IsZero() && ns.Status.Phase != corev1.NamespaceTerminating:
		return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}
