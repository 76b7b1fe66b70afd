package service

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
	"k8s.io/utils/ptr"
)

// initIPFamilyFields defaults ipFamilyPolicy and ipFamilies for a cluster
// serving the single family fam, and rejects requests for a family or for
// dual-stack it cannot serve. old is nil on create.
func initIPFamilyFields(svc, old *corev1.Service, fam corev1.IPFamily) field.ErrorList {
	spec := &svc.Spec
	if !needsClusterIP(svc) {
		return nil
	}
	headlessSelectorless := isHeadless(svc) && len(spec.Selector) == 0
	if spec.IPFamilyPolicy == nil {
		switch {
		case old != nil && old.Spec.IPFamilyPolicy != nil:
			spec.IPFamilyPolicy = ptr.To(*old.Spec.IPFamilyPolicy)
		case headlessSelectorless:
			spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		default:
			spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
		}
	}
	var errs field.ErrorList
	if headlessSelectorless {
		// Nothing is allocated, so any families may be named.
		if len(spec.IPFamilies) == 0 {
			spec.IPFamilies = []corev1.IPFamily{fam}
		}
		if len(spec.IPFamilies) == 1 && *spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
			spec.IPFamilies = append(spec.IPFamilies, otherFamily(spec.IPFamilies[0]))
		}
		return nil
	}
	if *spec.IPFamilyPolicy == corev1.IPFamilyPolicyRequireDualStack {
		errs = append(errs, field.Invalid(specPath.Child("ipFamilyPolicy"), *spec.IPFamilyPolicy,
			"this cluster is not configured for dual-stack services"))
	}
	for i, ip := range spec.ClusterIPs {
		parsed := netutils.ParseIPSloppy(ip)
		if parsed == nil {
			continue // left to validation
		}
		if f := familyOf(parsed); f != fam {
			errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(i), spec.ClusterIPs,
				fmt.Sprintf("%s is not configured on this cluster", f)))
		}
	}
	for i, f := range spec.IPFamilies {
		if f != fam {
			errs = append(errs, field.Invalid(specPath.Child("ipFamilies").Index(i), f, "not configured on this cluster"))
		}
	}
	if len(errs) == 0 && len(spec.IPFamilies) == 0 {
		spec.IPFamilies = []corev1.IPFamily{fam}
	}
	return errs
}
