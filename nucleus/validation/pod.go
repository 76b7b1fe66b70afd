// Package validation checks core v1 objects the way upstream Kubernetes
// does (pkg/apis/core/validation), on the wire types the nucleus stores.
// Errors carry the same field paths and, as far as they are implemented,
// the same messages as upstream, so clients see what they would see
// against a real API server.
//
// Only the rules people hit in practice are implemented; fields that are
// not checked here are stored as sent.
package validation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	restartPolicies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure}
	dnsPolicies     = []corev1.DNSPolicy{corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, corev1.DNSDefault, corev1.DNSNone}
)

// ValidatePodTemplateSpec checks the labels, annotations and pod spec of a
// pod template.
func ValidatePodTemplateSpec(spec *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	metaPath := fldPath.Child("metadata")
	errs := metav1validation.ValidateLabels(spec.Labels, metaPath.Child("labels"))
	errs = append(errs, genericvalidation.ValidateAnnotations(spec.Annotations, metaPath.Child("annotations"))...)
	return append(errs, ValidatePodSpec(&spec.Spec, fldPath.Child("spec"))...)
}

// ValidatePodSpec checks a pod spec: volumes, containers (init, app and
// ephemeral), policies and the scheduling fields.
func ValidatePodSpec(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	volumes, errs := validateVolumes(spec.Volumes, fldPath.Child("volumes"))
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(fldPath.Child("containers"), ""))
	}
	names := sets.New[string]()
	errs = append(errs, validateContainers(spec.InitContainers, true, spec, volumes, names, fldPath.Child("initContainers"))...)
	errs = append(errs, validateContainers(spec.Containers, false, spec, volumes, names, fldPath.Child("containers"))...)
	errs = append(errs, validateEphemeralContainers(spec, volumes, names, fldPath.Child("ephemeralContainers"))...)

	switch {
	case spec.RestartPolicy == "":
		errs = append(errs, field.Required(fldPath.Child("restartPolicy"), ""))
	case !contains(restartPolicies, spec.RestartPolicy):
		errs = append(errs, field.NotSupported(fldPath.Child("restartPolicy"), spec.RestartPolicy, restartPolicies))
	}
	switch {
	case spec.DNSPolicy == "":
		errs = append(errs, field.Required(fldPath.Child("dnsPolicy"), ""))
	case !contains(dnsPolicies, spec.DNSPolicy):
		errs = append(errs, field.NotSupported(fldPath.Child("dnsPolicy"), spec.DNSPolicy, dnsPolicies))
	case spec.DNSPolicy == corev1.DNSNone && spec.DNSConfig == nil:
		errs = append(errs, field.Required(fldPath.Child("dnsConfig"), fmt.Sprintf("must provide `dnsConfig` when `dnsPolicy` is %s", corev1.DNSNone)))
	}
	if spec.ActiveDeadlineSeconds != nil && (*spec.ActiveDeadlineSeconds < 1 || *spec.ActiveDeadlineSeconds > 2147483647) {
		errs = append(errs, field.Invalid(fldPath.Child("activeDeadlineSeconds"), *spec.ActiveDeadlineSeconds, validation.InclusiveRangeError(1, 2147483647)))
	}
	errs = append(errs, dnsSubdomain(spec.NodeName, fldPath.Child("nodeName"))...)
	errs = append(errs, dnsSubdomain(spec.ServiceAccountName, fldPath.Child("serviceAccountName"))...)
	errs = append(errs, dnsLabel(spec.Hostname, fldPath.Child("hostname"))...)
	errs = append(errs, dnsLabel(spec.Subdomain, fldPath.Child("subdomain"))...)
	errs = append(errs, dnsSubdomain(spec.SchedulerName, fldPath.Child("schedulerName"))...)
	errs = append(errs, dnsSubdomain(spec.PriorityClassName, fldPath.Child("priorityClassName"))...)
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, fldPath.Child("nodeSelector"))...)
	errs = append(errs, ValidateTolerations(spec.Tolerations, fldPath.Child("tolerations"))...)
	errs = append(errs, validateSchedulingGates(spec.SchedulingGates, fldPath.Child("schedulingGates"))...)
	for i, gate := range spec.ReadinessGates {
		errs = append(errs, qualifiedName(string(gate.ConditionType), fldPath.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	return errs
}

// PodSpecWarnings returns upstream's warnings about a pod spec that is
// accepted but probably not what its author meant.
func PodSpecWarnings(spec *corev1.PodSpec, fldPath *field.Path) []string {
	var warnings []string
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		warnings = append(warnings, fmt.Sprintf("%s: must be >= 0; negative values are invalid and will be treated as 1", fldPath.Child("terminationGracePeriodSeconds")))
	}
	return warnings
}

func validateSchedulingGates(gates []corev1.PodSchedulingGate, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, gate := range gates {
		p := fldPath.Index(i).Child("name")
		errs = append(errs, qualifiedName(gate.Name, p)...)
		if seen.Has(gate.Name) {
			errs = append(errs, field.Duplicate(p, gate.Name))
		}
		seen.Insert(gate.Name)
	}
	return errs
}
