/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/nucleus/validation"
)

// The validation below follows upstream's pkg/apis/apps/validation and the
// apps registry strategies: the same checks in the same order, with the
// same field paths, values and messages. Upstream validates its internal
// types, where the optional pointers of apps/v1 are plain values (a nil
// replicas converts to 0, a nil maxSurge to the integer 0); the functions
// here dereference the same way.

var (
	metadataPath = field.NewPath("metadata")
	specPath     = field.NewPath("spec")
)

// ValidateDeployment checks a Deployment on creation.
func ValidateDeployment(d *stratav1.Deployment) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(&d.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metadataPath)
	return append(errs, validateDeploymentSpec(&d.Spec, specPath)...)
}

// ValidateDeploymentUpdate checks an update of a Deployment: the new object
// must be valid, and its selector is immutable in apps/v1.
func ValidateDeploymentUpdate(d, old *stratav1.Deployment) field.ErrorList {
	errs := apivalidation.ValidateObjectMetaUpdate(&d.ObjectMeta, &old.ObjectMeta, metadataPath)
	errs = append(errs, validateDeploymentSpec(&d.Spec, specPath)...)
	return append(errs, apivalidation.ValidateImmutableField(d.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

// ValidateReplicaSet checks a ReplicaSet on creation.
func ValidateReplicaSet(rs *stratav1.ReplicaSet) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(&rs.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, metadataPath)
	return append(errs, validateReplicaSetSpec(&rs.Spec, specPath)...)
}

// ValidateReplicaSetUpdate checks an update of a ReplicaSet: the new object
// must be valid, and its selector is immutable in apps/v1.
func ValidateReplicaSetUpdate(rs, old *stratav1.ReplicaSet) field.ErrorList {
	errs := apivalidation.ValidateObjectMetaUpdate(&rs.ObjectMeta, &old.ObjectMeta, metadataPath)
	errs = append(errs, validateReplicaSetSpec(&rs.Spec, specPath)...)
	return append(errs, apivalidation.ValidateImmutableField(rs.Spec.Selector, old.Spec.Selector, specPath.Child("selector"))...)
}

func validateDeploymentSpec(spec *appsv1.DeploymentSpec, fldPath *field.Path) field.ErrorList {
	errs := apivalidation.ValidateNonnegativeField(int64(ptr.Deref(spec.Replicas, 0)), fldPath.Child("replicas"))
	errs = append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, fldPath)...)
	errs = append(errs, validateDeploymentStrategy(&spec.Strategy, fldPath.Child("strategy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		// Zero is a valid revision history limit.
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if spec.ProgressDeadlineSeconds != nil {
		deadlinePath := fldPath.Child("progressDeadlineSeconds")
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.ProgressDeadlineSeconds), deadlinePath)...)
		if *spec.ProgressDeadlineSeconds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(deadlinePath, spec.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateReplicaSetSpec(spec *appsv1.ReplicaSetSpec, fldPath *field.Path) field.ErrorList {
	errs := apivalidation.ValidateNonnegativeField(int64(ptr.Deref(spec.Replicas, 0)), fldPath.Child("replicas"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	return append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, fldPath)...)
}

// validateSelectorAndTemplate checks the selector of a Deployment or
// ReplicaSet spec (at fldPath) and, if it parses, the pod template against
// it. A missing selector selects nothing, so the template's labels do not
// match it either; an empty one selects everything and is reported once.
func validateSelectorAndTemplate(sel *metav1.LabelSelector, template *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	selPath := fldPath.Child("selector")
	if sel == nil {
		errs = append(errs, field.Required(selPath, ""))
	} else {
		opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: false}
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, opts, selPath)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			// Upstream says "deployment" for ReplicaSets too.
			errs = append(errs, field.Invalid(selPath, sel, "empty selector is invalid for deployment"))
		}
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return append(errs, field.Invalid(selPath, sel, "invalid label selector"))
	}
	return append(errs, validatePodTemplateForSelector(template, selector, fldPath.Child("template"))...)
}

// validatePodTemplateForSelector is upstream's
// ValidatePodTemplateSpecForReplicaSet, which Deployments use too.
func validatePodTemplateForSelector(template *corev1.PodTemplateSpec, selector labels.Selector, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !selector.Empty() && !selector.Matches(labels.Set(template.Labels)) {
		errs = append(errs, field.Invalid(fldPath.Child("metadata", "labels"), template.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, validation.ValidatePodTemplateSpec(template, fldPath)...)
	// Part of upstream's ValidatePodTemplateSpec the nucleus leaves out: it
	// validates pods, which may have ephemeral containers.
	if len(template.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	if template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fldPath.Child("spec", "restartPolicy"), template.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if template.Spec.ActiveDeadlineSeconds != nil {
		// Upstream says "ReplicaSet" for Deployments too.
		errs = append(errs, field.Forbidden(fldPath.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"))
	}
	return errs
}

func validateDeploymentStrategy(strategy *appsv1.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(fldPath.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		// The defaulter sets it: a nil one means the object skipped it.
		if strategy.RollingUpdate == nil {
			errs = append(errs, field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil"))
		} else {
			errs = append(errs, validateRollingUpdateDeployment(strategy.RollingUpdate, fldPath.Child("rollingUpdate"))...)
		}
	default:
		supported := []appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}
		errs = append(errs, field.NotSupported(fldPath, internalStrategy(strategy), supported))
	}
	return errs
}

// internalDeploymentStrategy renders a strategy in error messages the way
// upstream's do: upstream reports its internal type, which has no JSON tags
// and plain (not pointer) int-or-strings, e.g.
// {"Type":"Canary","RollingUpdate":null}.
type internalDeploymentStrategy struct {
	Type          appsv1.DeploymentStrategyType
	RollingUpdate *internalRollingUpdateDeployment
}

type internalRollingUpdateDeployment struct {
	MaxUnavailable intstr.IntOrString
	MaxSurge       intstr.IntOrString
}

func internalStrategy(s *appsv1.DeploymentStrategy) internalDeploymentStrategy {
	out := internalDeploymentStrategy{Type: s.Type}
	if ru := s.RollingUpdate; ru != nil {
		out.RollingUpdate = &internalRollingUpdateDeployment{
			MaxUnavailable: ptr.Deref(ru.MaxUnavailable, intstr.IntOrString{}),
			MaxSurge:       ptr.Deref(ru.MaxSurge, intstr.IntOrString{}),
		}
	}
	return out
}

func validateRollingUpdateDeployment(ru *appsv1.RollingUpdateDeployment, fldPath *field.Path) field.ErrorList {
	maxUnavailable := ptr.Deref(ru.MaxUnavailable, intstr.IntOrString{})
	maxSurge := ptr.Deref(ru.MaxSurge, intstr.IntOrString{})
	unavailablePath := fldPath.Child("maxUnavailable")

	errs := validateNonnegativeIntOrPercent(maxUnavailable, unavailablePath)
	errs = append(errs, validateNonnegativeIntOrPercent(maxSurge, fldPath.Child("maxSurge"))...)
	if intOrPercentValue(maxUnavailable) == 0 && intOrPercentValue(maxSurge) == 0 {
		// A rollout that may neither surge nor go below the desired
		// replicas cannot make progress.
		errs = append(errs, field.Invalid(unavailablePath, maxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	if v, ok := percentValue(maxUnavailable); ok && v > 100 {
		errs = append(errs, field.Invalid(unavailablePath, maxUnavailable, "must not be greater than 100%"))
	}
	return errs
}

// validateNonnegativeIntOrPercent is upstream's ValidatePositiveIntOrPercent,
// which accepts 0.
func validateNonnegativeIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.String:
		var errs field.ErrorList
		for _, msg := range utilvalidation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(fldPath, v, msg))
		}
		return errs
	case intstr.Int:
		return apivalidation.ValidateNonnegativeField(int64(v.IntValue()), fldPath)
	default:
		// Upstream's message, doubled percent sign included.
		return field.ErrorList{field.Invalid(fldPath, v, "must be an integer or percentage (e.g '5%%')")}
	}
}

// percentValue returns the number of a valid percentage such as "25%".
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(utilvalidation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, err := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, err == nil
}

// intOrPercentValue returns the number of a percentage or an integer; other
// strings count as 0 (they are reported as invalid percentages).
func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}

// nameWarnings is upstream's warning, on creation, about Deployment and
// ReplicaSet names that are valid DNS subdomains but not DNS labels.
func nameWarnings(name string) []string {
	if msgs := utilvalidation.IsDNS1123Label(name); len(msgs) != 0 {
		return []string{fmt.Sprintf("metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: %v", msgs)}
	}
	return nil
}

// templateWarnings returns the warnings about the pod template of a
// Deployment or ReplicaSet.
func templateWarnings(template *corev1.PodTemplateSpec) []string {
	return validation.PodSpecWarnings(&template.Spec, specPath.Child("template", "spec"))
}

// validateReplicas is the replicas check of both kinds, which the defaulting
// webhooks apply first.
func validateReplicas(replicas *int32) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(int64(ptr.Deref(replicas, 0)), field.NewPath("spec", "replicas"))
}
