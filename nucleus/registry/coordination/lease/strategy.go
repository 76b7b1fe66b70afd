package lease

import (
	"context"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// strategies are the coordinated lease strategies Kubernetes defines.
var strategies = []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion}

// Definition describes the leases resource.
var Definition = &store.Definition[*coordinationv1.Lease]{
	Resource:   coordinationv1.Resource("leases"),
	Singular:   "lease",
	Namespaced: true,
	New:        func() *coordinationv1.Lease { return &coordinationv1.Lease{} },
	NewList:    func() runtime.Object { return &coordinationv1.LeaseList{} },
	Validate: func(_ context.Context, l *coordinationv1.Lease) field.ErrorList {
		return ValidateSpec(&l.Spec, field.NewPath("spec"))
	},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Holder", Type: "string", Description: "holderIdentity contains the identity of the holder of a current lease."},
		store.AgeColumn,
	},
	Row: func(l *coordinationv1.Lease) []interface{} {
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		return []interface{}{l.Name, holder, store.Age(l.CreationTimestamp)}
	},
}

// ValidateSpec checks a Lease's durations, transitions and strategy.
func ValidateSpec(spec *coordinationv1.LeaseSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(fldPath.Child("leaseDurationSeconds"), *spec.LeaseDurationSeconds, "must be greater than 0"))
	}
	if spec.LeaseTransitions != nil && *spec.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(fldPath.Child("leaseTransitions"), *spec.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		errs = append(errs, validateStrategy(*spec.Strategy, fldPath.Child("strategy"))...)
	}
	if spec.PreferredHolder != nil && *spec.PreferredHolder != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		errs = append(errs, field.Forbidden(fldPath.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}

// validateStrategy accepts the strategies Kubernetes defines and
// domain-prefixed custom ones.
func validateStrategy(s coordinationv1.CoordinatedLeaseStrategy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !strings.Contains(string(s), "/") {
		for _, known := range strategies {
			if s == known {
				return nil
			}
		}
		return field.ErrorList{field.NotSupported(fldPath, s, strategies)}
	}
	for _, msg := range validation.IsQualifiedName(string(s)) {
		errs = append(errs, field.Invalid(fldPath, s, msg))
	}
	return errs
}
