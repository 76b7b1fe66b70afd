package node

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	corevalidation "github.com/strata-dev/strata/nucleus/validation"
)

// Validate checks a node: pod CIDRs (at most one per IP family), taints
// and the resource lists of its status.
func Validate(n *corev1.Node) field.ErrorList {
	specPath := field.NewPath("spec")
	var errs field.ErrorList
	cidrsPath := specPath.Child("podCIDRs")
	for i, cidr := range n.Spec.PodCIDRs {
		errs = append(errs, validation.IsValidCIDRForLegacyField(cidrsPath.Index(i), cidr, true, nil)...)
	}
	if len(errs) == 0 && len(n.Spec.PodCIDRs) > 1 {
		if dual, err := netutils.IsDualStackCIDRStrings(n.Spec.PodCIDRs); err != nil || !dual || len(n.Spec.PodCIDRs) > 2 {
			errs = append(errs, field.Invalid(cidrsPath, n.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
		}
	}
	errs = append(errs, corevalidation.ValidateTaints(n.Spec.Taints, specPath.Child("taints"))...)
	statusPath := field.NewPath("status")
	errs = append(errs, validateResourceList(n.Status.Capacity, statusPath.Child("capacity"))...)
	return append(errs, validateResourceList(n.Status.Allocatable, statusPath.Child("allocatable"))...)
}

func validateResourceList(list corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range list {
		p := fldPath.Key(string(name))
		errs = append(errs, corevalidation.StandardOrQualifiedResourceName(name, p)...)
		errs = append(errs, corevalidation.ResourceQuantityValue(name, q, p)...)
	}
	return errs
}

// ValidateUpdate checks what an update may not change: pod CIDRs and the
// provider ID, once set, stay.
func ValidateUpdate(n, old *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	if len(old.Spec.PodCIDRs) > 0 && !slices.Equal(n.Spec.PodCIDRs, old.Spec.PodCIDRs) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if old.Spec.ProviderID != "" && n.Spec.ProviderID != old.Spec.ProviderID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}
