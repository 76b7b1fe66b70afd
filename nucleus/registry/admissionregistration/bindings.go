package admissionregistration

import (
	"context"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

var (
	validationActions        = sets.New(admissionregistrationv1.Deny, admissionregistrationv1.Warn, admissionregistrationv1.Audit)
	parameterNotFoundActions = []admissionregistrationv1.ParameterNotFoundActionType{admissionregistrationv1.DenyAction, admissionregistrationv1.AllowAction}
)

var bindingColumns = []metav1.TableColumnDefinition{
	store.NameColumn,
	{Name: "PolicyName", Type: "string", Description: "PolicyName indicates the policy definition which the policy binding binded to"},
	{Name: "ParamRef", Type: "string", Description: "ParamRef indicates the param resource which sets the configration param"},
	store.AgeColumn,
}

// ValidatingAdmissionPolicyBindings describes the
// validatingadmissionpolicybindings resource.
var ValidatingAdmissionPolicyBindings = &store.Definition[*admissionregistrationv1.ValidatingAdmissionPolicyBinding]{
	Resource: admissionregistrationv1.Resource("validatingadmissionpolicybindings"),
	Singular: "validatingadmissionpolicybinding",
	New: func() *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
		return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	},
	NewList: func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyBindingList{} },
	Validate: func(_ context.Context, b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) field.ErrorList {
		specPath := field.NewPath("spec")
		errs := validateBindingCommon(b.Spec.PolicyName, b.Spec.ParamRef, b.Spec.MatchResources, specPath)
		return append(errs, validateValidationActions(b.Spec.ValidationActions, specPath.Child("validationActions"))...)
	},
	Categories: categories,
	Columns:    bindingColumns,
	Row: func(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) []interface{} {
		return []interface{}{b.Name, b.Spec.PolicyName, paramRefCell(b.Spec.ParamRef), store.Age(b.CreationTimestamp)}
	},
}

// MutatingAdmissionPolicyBindings describes the
// mutatingadmissionpolicybindings resource.
var MutatingAdmissionPolicyBindings = &store.Definition[*admissionregistrationv1.MutatingAdmissionPolicyBinding]{
	Resource: admissionregistrationv1.Resource("mutatingadmissionpolicybindings"),
	Singular: "mutatingadmissionpolicybinding",
	New: func() *admissionregistrationv1.MutatingAdmissionPolicyBinding {
		return &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	},
	NewList: func() runtime.Object { return &admissionregistrationv1.MutatingAdmissionPolicyBindingList{} },
	Validate: func(_ context.Context, b *admissionregistrationv1.MutatingAdmissionPolicyBinding) field.ErrorList {
		return validateBindingCommon(b.Spec.PolicyName, b.Spec.ParamRef, b.Spec.MatchResources, field.NewPath("spec"))
	},
	Categories: categories,
	Columns:    bindingColumns,
	Row: func(b *admissionregistrationv1.MutatingAdmissionPolicyBinding) []interface{} {
		return []interface{}{b.Name, b.Spec.PolicyName, paramRefCell(b.Spec.ParamRef), store.Age(b.CreationTimestamp)}
	},
}

// paramRefCell prints the parameters a binding refers to: by name,
// namespace first ("*" when the binding leaves it open), or by selector
// (in its Go syntax, as upstream prints it).
func paramRefCell(pr *admissionregistrationv1.ParamRef) string {
	switch {
	case pr == nil:
		return "<unset>"
	case pr.Name != "" && pr.Namespace != "":
		return pr.Namespace + "/" + pr.Name
	case pr.Name != "":
		return "*/" + pr.Name
	case pr.Selector != nil:
		return pr.Selector.String()
	}
	return "<unset>"
}

// validateBindingCommon checks the fields validating and mutating bindings
// share: the policy, the parameters and what the binding matches.
func validateBindingCommon(policyName string, paramRef *admissionregistrationv1.ParamRef, match *admissionregistrationv1.MatchResources, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if policyName == "" {
		errs = append(errs, field.Required(fldPath.Child("policyName"), ""))
	} else {
		for _, msg := range genericvalidation.NameIsDNSSubdomain(policyName, false) {
			errs = append(errs, field.Invalid(fldPath.Child("policyName"), policyName, msg))
		}
	}
	errs = append(errs, validateParamRef(paramRef, fldPath.Child("paramRef"))...)
	return append(errs, validateMatchResources(match, fldPath.Child("matchResources"))...)
}

// validateParamRef requires exactly one of name and selector and an action
// for missing parameters.
func validateParamRef(pr *admissionregistrationv1.ParamRef, fldPath *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range path.ValidatePathSegmentName(pr.Name, false) {
		errs = append(errs, field.Invalid(fldPath.Child("name"), pr.Name, msg))
	}
	if pr.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(pr.Selector, metav1validation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))...)
	}
	switch {
	case pr.Name != "" && pr.Selector != nil:
		errs = append(errs,
			field.Forbidden(fldPath.Child("name"), "name and selector are mutually exclusive"),
			field.Forbidden(fldPath.Child("selector"), "name and selector are mutually exclusive"))
	case pr.Name == "" && pr.Selector == nil:
		errs = append(errs, field.Required(fldPath, "one of name or selector must be specified"))
	}
	if pr.Namespace != "" {
		for _, msg := range genericvalidation.ValidateNamespaceName(pr.Namespace, false) {
			errs = append(errs, field.Invalid(fldPath.Child("namespace"), pr.Namespace, msg))
		}
	}
	action := pr.ParameterNotFoundAction
	switch {
	case action == nil || *action == "":
		errs = append(errs, field.Required(fldPath.Child("parameterNotFoundAction"), ""))
	case *action != admissionregistrationv1.DenyAction && *action != admissionregistrationv1.AllowAction:
		errs = append(errs, field.NotSupported(fldPath.Child("parameterNotFoundAction"), *action, parameterNotFoundActions))
	}
	return errs
}

// validateValidationActions requires known, unique actions, not both Deny
// and Warn.
func validateValidationActions(actions []admissionregistrationv1.ValidationAction, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[admissionregistrationv1.ValidationAction]()
	for i, a := range actions {
		if !validationActions.Has(a) {
			errs = append(errs, field.NotSupported(fldPath.Index(i), a, sets.List(validationActions)))
		}
		if seen.Has(a) {
			errs = append(errs, field.Duplicate(fldPath.Index(i), a))
		}
		seen.Insert(a)
	}
	if seen.HasAll(admissionregistrationv1.Deny, admissionregistrationv1.Warn) {
		errs = append(errs, field.Invalid(fldPath, actions, "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
	}
	if len(actions) == 0 {
		errs = append(errs, field.Required(fldPath, "at least one validation action is required"))
	}
	return errs
}
