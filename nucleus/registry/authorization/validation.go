package authorization

import (
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateSpec checks the attributes of a review, as upstream: exactly one
// of resourceAttributes and nonResourceAttributes, and well-formed
// selectors.
func validateAttributes(res *authorizationv1.ResourceAttributes, nonRes *authorizationv1.NonResourceAttributes, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if res != nil && nonRes != nil {
		errs = append(errs, field.Invalid(fldPath.Child("nonResourceAttributes"), nonRes, `cannot be specified in combination with resourceAttributes`))
	}
	if res == nil && nonRes == nil {
		errs = append(errs, field.Invalid(fldPath.Child("resourceAttributes"), nonRes, `exactly one of nonResourceAttributes or resourceAttributes must be specified`))
	}
	if res != nil {
		p := field.NewPath("spec.resourceAttributes")
		errs = append(errs, validateFieldSelector(res.FieldSelector, p.Child("fieldSelector"))...)
		errs = append(errs, validateLabelSelector(res.LabelSelector, p.Child("labelSelector"))...)
	}
	return errs
}

func validateSubjectAccessReviewSpec(spec authorizationv1.SubjectAccessReviewSpec, fldPath *field.Path) field.ErrorList {
	errs := validateAttributes(spec.ResourceAttributes, spec.NonResourceAttributes, fldPath)
	if len(spec.User) == 0 && len(spec.Groups) == 0 {
		errs = append(errs, field.Invalid(fldPath.Child("user"), spec.User, `at least one of user or group must be specified`))
	}
	return errs
}

func validateFieldSelector(s *authorizationv1.FieldSelectorAttributes, fldPath *field.Path) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateSelectorForm(s.RawSelector, len(s.Requirements), fldPath)...)
	opts := metav1validation.FieldSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}
	for i, r := range s.Requirements {
		errs = append(errs, metav1validation.ValidateFieldSelectorRequirement(r, opts, fldPath.Child("requirements").Index(i))...)
	}
	return errs
}

func validateLabelSelector(s *authorizationv1.LabelSelectorAttributes, fldPath *field.Path) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateSelectorForm(s.RawSelector, len(s.Requirements), fldPath)...)
	opts := metav1validation.LabelSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}
	for i, r := range s.Requirements {
		errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(r, opts, fldPath.Child("requirements").Index(i))...)
	}
	return errs
}

func validateSelectorForm(raw string, requirements int, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(raw) > 0 && requirements > 0 {
		errs = append(errs, field.Invalid(fldPath.Child("rawSelector"), raw, "may not specified at the same time as requirements"))
	}
	if len(raw) == 0 && requirements == 0 {
		errs = append(errs, field.Required(fldPath.Child("requirements"), fmt.Sprintf("when %s is specified, requirements or rawSelector is required", fldPath)))
	}
	return errs
}

// validateEmptyMeta reports metadata other than managedFields (and, when
// allowNamespace, the namespace): review objects have none.
func validateEmptyMeta(meta metav1.ObjectMeta, allowNamespace bool) field.ErrorList {
	m := meta
	m.ManagedFields = nil
	msg := `must be empty`
	if allowNamespace {
		m.Namespace = ""
		msg = `must be empty except for namespace`
	}
	if !apiequality.Semantic.DeepEqual(metav1.ObjectMeta{}, m) {
		return field.ErrorList{field.Invalid(field.NewPath("metadata"), meta, msg)}
	}
	return nil
}

// ValidateSubjectAccessReview checks a SubjectAccessReview.
func ValidateSubjectAccessReview(sar *authorizationv1.SubjectAccessReview) field.ErrorList {
	errs := validateSubjectAccessReviewSpec(sar.Spec, field.NewPath("spec"))
	return append(errs, validateEmptyMeta(sar.ObjectMeta, false)...)
}

// ValidateSelfSubjectAccessReview checks a SelfSubjectAccessReview.
func ValidateSelfSubjectAccessReview(sar *authorizationv1.SelfSubjectAccessReview) field.ErrorList {
	errs := validateAttributes(sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes, field.NewPath("spec"))
	return append(errs, validateEmptyMeta(sar.ObjectMeta, false)...)
}

// ValidateLocalSubjectAccessReview checks a LocalSubjectAccessReview: its
// resource attributes are in its own namespace and it has no
// non-resource attributes.
func ValidateLocalSubjectAccessReview(sar *authorizationv1.LocalSubjectAccessReview) field.ErrorList {
	errs := validateSubjectAccessReviewSpec(sar.Spec, field.NewPath("spec"))
	errs = append(errs, validateEmptyMeta(sar.ObjectMeta, true)...)
	if sar.Spec.ResourceAttributes != nil && sar.Spec.ResourceAttributes.Namespace != sar.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("spec.resourceAttributes.namespace"), sar.Spec.ResourceAttributes.Namespace, `must match metadata.namespace`))
	}
	if sar.Spec.NonResourceAttributes != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec.nonResourceAttributes"), sar.Spec.NonResourceAttributes, `disallowed on this kind of request`))
	}
	return errs
}
