package validation

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// updatablePodSpecFields names what a pod update may change, as upstream
// prints it.
var updatablePodSpecFields = []string{
	"`spec.containers[*].image`",
	"`spec.initContainers[*].image`",
	"`spec.activeDeadlineSeconds`",
	"`spec.tolerations` (only additions to existing tolerations)",
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
}

// ValidatePodUpdate checks that an update of a pod's spec changes only
// what upstream lets change on a running pod: container images, a shorter
// activeDeadlineSeconds, added tolerations, removed scheduling gates (and,
// while gated, added node selector terms) and a negative grace period
// raised to 1. The new spec itself is checked by ValidatePodSpec.
func ValidatePodUpdate(pod, old *corev1.Pod) field.ErrorList {
	specPath := field.NewPath("spec")
	// Containers are compared one by one below, so their number is fixed.
	if len(pod.Spec.Containers) != len(old.Spec.Containers) {
		return field.ErrorList{field.Forbidden(specPath.Child("containers"), "pod updates may not add or remove containers")}
	}
	if len(pod.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return field.ErrorList{field.Forbidden(specPath.Child("initContainers"), "pod updates may not add or remove containers")}
	}
	var errs field.ErrorList
	deadline := specPath.Child("activeDeadlineSeconds")
	switch n, o := pod.Spec.ActiveDeadlineSeconds, old.Spec.ActiveDeadlineSeconds; {
	case n != nil && (*n < 0 || *n > math.MaxInt32):
		return append(errs, field.Invalid(deadline, *n, validation.InclusiveRangeError(0, math.MaxInt32)))
	case n != nil && o != nil && *o < *n:
		return append(errs, field.Invalid(deadline, *n, "must be less than or equal to previous value"))
	case n == nil && o != nil:
		errs = append(errs, field.Invalid(deadline, n, "must not update from a positive integer to nil value"))
	}
	errs = append(errs, validateOnlyAddedTolerations(pod.Spec.Tolerations, old.Spec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, validateOnlyDeletedSchedulingGates(pod.Spec.SchedulingGates, old.Spec.SchedulingGates, specPath.Child("schedulingGates"))...)
	if apiequality.Semantic.DeepEqual(pod.Spec, old.Spec) {
		return errs
	}

	// Put back the fields that may change and compare what is left.
	munged := pod.Spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = old.Spec.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = old.Spec.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = old.Spec.ActiveDeadlineSeconds
	munged.SchedulingGates = old.Spec.SchedulingGates
	munged.Tolerations = old.Spec.Tolerations
	if g, og := munged.TerminationGracePeriodSeconds, old.Spec.TerminationGracePeriodSeconds; og != nil && *og < 0 && g != nil && *g == 1 {
		munged.TerminationGracePeriodSeconds = og
	}
	if len(old.Spec.SchedulingGates) > 0 && !apiequality.Semantic.DeepEqual(munged.NodeSelector, old.Spec.NodeSelector) {
		errs = append(errs, validateNodeSelectorAdditions(munged.NodeSelector, old.Spec.NodeSelector, specPath.Child("nodeSelector"))...)
		munged.NodeSelector = old.Spec.NodeSelector
	}
	if !apiequality.Semantic.DeepEqual(*munged, old.Spec) {
		errs = append(errs, field.Forbidden(specPath, fmt.Sprintf("pod updates may not change fields other than %s\n%v",
			strings.Join(updatablePodSpecFields, ","), diff.Diff(old.Spec, *munged))))
	}
	return errs
}

// validateOnlyAddedTolerations requires every old toleration to still be
// there, except that its tolerationSeconds may change.
func validateOnlyAddedTolerations(tolerations, old []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	for _, o := range old {
		found := false
		for _, t := range tolerations {
			o.TolerationSeconds = t.TolerationSeconds
			if reflect.DeepEqual(o, t) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(fldPath, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return ValidateTolerations(tolerations, fldPath)
}

func validateOnlyDeletedSchedulingGates(gates, old []corev1.PodSchedulingGate, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	oldNames := sets.New[string]()
	for _, g := range old {
		oldNames.Insert(g.Name)
	}
	for i, g := range gates {
		if !oldNames.Has(g.Name) {
			errs = append(errs, field.Forbidden(fldPath.Index(i).Child("name"), fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}
	return errs
}

// validateNodeSelectorAdditions lets a gated pod add node selector terms
// but not change or drop existing ones.
func validateNodeSelectorAdditions(selector, old map[string]string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for k, v := range old {
		if nv, ok := selector[k]; !ok || nv != v {
			errs = append(errs, field.Invalid(fldPath.Key(k), nv, "cannot be removed or modified"))
		}
	}
	return errs
}

// ValidatePodStatusUpdate checks an update through pods/status: the
// nominated node name and the pod and host IPs are well formed.
func ValidatePodStatusUpdate(pod *corev1.Pod) field.ErrorList {
	statusPath := field.NewPath("status")
	errs := dnsSubdomain(pod.Status.NominatedNodeName, statusPath.Child("nominatedNodeName"))
	podIPs := make([]string, len(pod.Status.PodIPs))
	for i, ip := range pod.Status.PodIPs {
		podIPs[i] = ip.IP
	}
	errs = append(errs, validateIPs(podIPs, statusPath.Child("podIPs"))...)
	hostIPs := make([]string, len(pod.Status.HostIPs))
	for i, ip := range pod.Status.HostIPs {
		hostIPs[i] = ip.IP
	}
	return append(errs, validateIPs(hostIPs, statusPath.Child("hostIPs"))...)
}

// validateIPs checks a dual-stack IP list: valid, unique addresses and at
// most one per IP family.
func validateIPs(ips []string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, ip := range ips {
		p := fldPath.Index(i).Child("ip")
		errs = append(errs, validation.IsValidIPForLegacyField(p, ip, true, nil)...)
		if seen.Has(ip) {
			errs = append(errs, field.Duplicate(p, ip))
		}
		seen.Insert(ip)
	}
	if len(errs) == 0 && len(ips) > 1 && (len(ips) > 2 || netutils.IsIPv6String(ips[0]) == netutils.IsIPv6String(ips[1])) {
		errs = append(errs, field.Invalid(fldPath, ips, "may specify no more than one IP for each IP family"))
	}
	return errs
}
