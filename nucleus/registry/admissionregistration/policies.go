package admissionregistration

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating/patch"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// maxAuditAnnotations is how many audit annotations a policy may have.
const maxAuditAnnotations = 20

var (
	validationReasons = sets.New(metav1.StatusReasonForbidden, metav1.StatusReasonInvalid,
		metav1.StatusReasonRequestEntityTooLarge, metav1.StatusReasonUnauthorized)
	patchTypes = []admissionregistrationv1.PatchType{admissionregistrationv1.PatchTypeJSONPatch, admissionregistrationv1.PatchTypeApplyConfiguration}
	// celIdentifier matches CEL identifiers; celReserved are the words
	// that cannot be one.
	celIdentifier = regexp.MustCompile("^[_a-zA-Z][_a-zA-Z0-9]*$")
	celReserved   = sets.New("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function",
		"if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while")
)

// ValidatingAdmissionPolicies describes the validatingadmissionpolicies
// resource.
var ValidatingAdmissionPolicies = &store.Definition[*admissionregistrationv1.ValidatingAdmissionPolicy]{
	Resource: admissionregistrationv1.Resource("validatingadmissionpolicies"),
	Singular: "validatingadmissionpolicy",
	New: func() *admissionregistrationv1.ValidatingAdmissionPolicy {
		return &admissionregistrationv1.ValidatingAdmissionPolicy{}
	},
	NewList: func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyList{} },
	// The type checking results are the controller's to fill in.
	PrepareForCreate: func(_ context.Context, p *admissionregistrationv1.ValidatingAdmissionPolicy) {
		p.Status = admissionregistrationv1.ValidatingAdmissionPolicyStatus{}
	},
	Validate: func(_ context.Context, p *admissionregistrationv1.ValidatingAdmissionPolicy) field.ErrorList {
		return validateValidatingPolicySpec(p.Name, &p.Spec, field.NewPath("spec"))
	},
	ValidateStatusUpdate: func(_ context.Context, p, _ *admissionregistrationv1.ValidatingAdmissionPolicy) field.ErrorList {
		return metav1validation.ValidateConditions(p.Status.Conditions, field.NewPath("status", "conditions"))
	},
	Status:     true,
	Categories: categories,
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Validations", Type: "integer", Description: "Validations indicates the number of validation rules defined in this configuration"},
		{Name: "ParamKind", Type: "string", Description: "ParamKind specifies the kind of resources used to parameterize this policy"},
		store.AgeColumn,
	},
	Row: func(p *admissionregistrationv1.ValidatingAdmissionPolicy) []interface{} {
		return []interface{}{p.Name, int64(len(p.Spec.Validations)), paramKindCell(p.Spec.ParamKind), store.Age(p.CreationTimestamp)}
	},
}

// MutatingAdmissionPolicies describes the mutatingadmissionpolicies
// resource.
var MutatingAdmissionPolicies = &store.Definition[*admissionregistrationv1.MutatingAdmissionPolicy]{
	Resource: admissionregistrationv1.Resource("mutatingadmissionpolicies"),
	Singular: "mutatingadmissionpolicy",
	New: func() *admissionregistrationv1.MutatingAdmissionPolicy {
		return &admissionregistrationv1.MutatingAdmissionPolicy{}
	},
	NewList: func() runtime.Object { return &admissionregistrationv1.MutatingAdmissionPolicyList{} },
	Validate: func(_ context.Context, p *admissionregistrationv1.MutatingAdmissionPolicy) field.ErrorList {
		return validateMutatingPolicySpec(&p.Spec, field.NewPath("spec"))
	},
	Categories: categories,
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Mutations", Type: "integer", Description: "Mutation indicates the number of mutations rules defined in this configuration"},
		{Name: "ParamKind", Type: "string", Description: "ParamKind specifies the kind of resources used to parameterize this policy"},
		store.AgeColumn,
	},
	Row: func(p *admissionregistrationv1.MutatingAdmissionPolicy) []interface{} {
		return []interface{}{p.Name, int64(len(p.Spec.Mutations)), paramKindCell(p.Spec.ParamKind), store.Age(p.CreationTimestamp)}
	},
}

// paramKindCell prints a policy's parameter kind as "apiVersion/Kind".
func paramKindCell(pk *admissionregistrationv1.ParamKind) string {
	if pk == nil {
		return "<unset>"
	}
	return pk.APIVersion + "/" + pk.Kind
}

// validateValidatingPolicySpec checks a ValidatingAdmissionPolicy: what it
// matches and at least one validation or audit annotation. name is the
// policy's, which prefixes its audit annotation keys.
func validateValidatingPolicySpec(name string, spec *admissionregistrationv1.ValidatingAdmissionPolicySpec, fldPath *field.Path) field.ErrorList {
	errs, env := validatePolicyCommon(spec.FailurePolicy, spec.ParamKind, spec.MatchConstraints, spec.MatchConditions, spec.Variables, false, fldPath)
	if len(spec.Validations) == 0 && len(spec.AuditAnnotations) == 0 {
		const msg = "validations or auditAnnotations must contain at least one item"
		return append(errs, field.Required(fldPath.Child("validations"), msg), field.Required(fldPath.Child("auditAnnotations"), msg))
	}
	for i := range spec.Validations {
		errs = append(errs, validateValidation(&spec.Validations[i], env, fldPath.Child("validations").Index(i))...)
	}
	if len(spec.AuditAnnotations) > maxAuditAnnotations {
		errs = append(errs, field.Invalid(fldPath.Child("auditAnnotations"), spec.AuditAnnotations, fmt.Sprintf("must not have more than %d auditAnnotations", maxAuditAnnotations)))
	}
	keys := sets.New[string]()
	for i, a := range spec.AuditAnnotations {
		idxPath := fldPath.Child("auditAnnotations").Index(i)
		errs = append(errs, validateAuditAnnotation(name, &a, env, idxPath)...)
		if keys.Has(a.Key) {
			errs = append(errs, field.Duplicate(idxPath.Child("key"), a.Key))
		}
		keys.Insert(a.Key)
	}
	return errs
}

// validateMutatingPolicySpec checks a MutatingAdmissionPolicy: what it
// matches, its mutations and its reinvocation policy.
func validateMutatingPolicySpec(spec *admissionregistrationv1.MutatingAdmissionPolicySpec, fldPath *field.Path) field.ErrorList {
	errs, env := validatePolicyCommon(spec.FailurePolicy, spec.ParamKind, spec.MatchConstraints, spec.MatchConditions, spec.Variables, true, fldPath)
	if len(spec.Mutations) == 0 {
		errs = append(errs, field.Required(fldPath.Child("mutations"), "mutations must contain at least one item"))
	}
	for i := range spec.Mutations {
		errs = append(errs, validateMutation(&spec.Mutations[i], env, fldPath.Child("mutations").Index(i))...)
	}
	switch {
	case spec.ReinvocationPolicy == "":
		errs = append(errs, field.Required(fldPath.Child("reinvocationPolicy"), ""))
	case !reinvocationPolicies.Has(spec.ReinvocationPolicy):
		errs = append(errs, field.NotSupported(fldPath.Child("reinvocationPolicy"), spec.ReinvocationPolicy, sets.List(reinvocationPolicies)))
	}
	return errs
}

// validatePolicyCommon checks the fields validating and mutating policies
// share. It returns the CEL environment, with the policy's variables, that
// the policy's other expressions compile in.
func validatePolicyCommon(failurePolicy *admissionregistrationv1.FailurePolicyType, paramKind *admissionregistrationv1.ParamKind,
	match *admissionregistrationv1.MatchResources, conditions []admissionregistrationv1.MatchCondition,
	variables []admissionregistrationv1.Variable, mutating bool, fldPath *field.Path) (field.ErrorList, *celEnv) {
	env, errs := newCELEnv(paramKind != nil, mutating, fldPath)
	switch {
	case failurePolicy == nil:
		errs = append(errs, field.Required(fldPath.Child("failurePolicy"), ""))
	case !supportedFailurePolicies.Has(*failurePolicy):
		errs = append(errs, field.NotSupported(fldPath.Child("failurePolicy"), *failurePolicy, sets.List(supportedFailurePolicies)))
	}
	if paramKind != nil {
		errs = append(errs, validateParamKind(paramKind, fldPath.Child("paramKind"))...)
	}
	if match == nil {
		errs = append(errs, field.Required(fldPath.Child("matchConstraints"), ""))
	} else {
		errs = append(errs, validateMatchResources(match, fldPath.Child("matchConstraints"))...)
		// The resource rules give the expressions their types.
		if len(match.ResourceRules) == 0 {
			errs = append(errs, field.Required(fldPath.Child("matchConstraints", "resourceRules"), ""))
		}
	}
	errs = append(errs, validateMatchConditions(conditions, env, fldPath.Child("matchConditions"))...)
	for i, v := range variables {
		errs = append(errs, validateVariable(&v, env, fldPath.Child("variables").Index(i))...)
	}
	return errs, env
}

// validateParamKind requires a group version and a kind.
func validateParamKind(pk *admissionregistrationv1.ParamKind, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if pk.APIVersion == "" {
		errs = append(errs, field.Required(fldPath.Child("apiVersion"), ""))
	} else if gv, err := schema.ParseGroupVersion(pk.APIVersion); err != nil {
		errs = append(errs, field.Invalid(fldPath.Child("apiVersion"), pk.APIVersion, err.Error()))
	} else {
		if gv.Group != "" {
			for _, msg := range validation.IsDNS1123Subdomain(gv.Group) {
				errs = append(errs, field.Invalid(fldPath.Child("apiVersion"), gv.Group, msg))
			}
		}
		for _, msg := range validation.IsDNS1035Label(gv.Version) {
			errs = append(errs, field.Invalid(fldPath.Child("apiVersion"), gv.Version, msg))
		}
	}
	if pk.Kind == "" {
		errs = append(errs, field.Required(fldPath.Child("kind"), ""))
	} else if msgs := validation.IsDNS1035Label(strings.ToLower(pk.Kind)); len(msgs) > 0 {
		errs = append(errs, field.Invalid(fldPath.Child("kind"), pk.Kind, "may have mixed case, but should otherwise match: "+strings.Join(msgs, ",")))
	}
	return errs
}

// validateVariable requires a CEL identifier and an expression, which it
// adds to env.
func validateVariable(v *admissionregistrationv1.Variable, env *celEnv, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if strings.TrimSpace(v.Name) == "" {
		errs = append(errs, field.Required(fldPath.Child("name"), "name is not specified"))
	} else if !celIdentifier.MatchString(v.Name) || celReserved.Has(v.Name) {
		errs = append(errs, field.Invalid(fldPath.Child("name"), v.Name, "name is not a valid CEL identifier"))
	}
	if strings.TrimSpace(v.Expression) == "" {
		errs = append(errs, field.Required(fldPath.Child("expression"), "expression is not specified"))
	} else {
		errs = append(errs, env.addVariable(v, fldPath.Child("expression"))...)
	}
	return errs
}

// validateValidation checks one validation rule: its expressions, its
// one-line message and its reason.
func validateValidation(v *admissionregistrationv1.Validation, env *celEnv, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if expr := strings.TrimSpace(v.Expression); expr == "" {
		errs = append(errs, field.Required(fldPath.Child("expression"), "expression is not specified"))
	} else {
		errs = append(errs, env.check(&validating.ValidationCondition{Expression: expr}, fldPath.Child("expression"))...)
	}
	switch msgExpr := strings.TrimSpace(v.MessageExpression); {
	case v.MessageExpression != "" && msgExpr == "":
		errs = append(errs, field.Invalid(fldPath.Child("messageExpression"), v.MessageExpression, "must be non-empty if specified"))
	case msgExpr != "":
		errs = append(errs, env.check(&validating.MessageExpressionCondition{MessageExpression: msgExpr}, fldPath.Child("messageExpression"))...)
	}
	msg := strings.TrimSpace(v.Message)
	switch {
	case v.Message != "" && msg == "":
		errs = append(errs, field.Invalid(fldPath.Child("message"), v.Message, "message must be non-empty if specified"))
	case strings.ContainsAny(msg, "\n\r"):
		errs = append(errs, field.Invalid(fldPath.Child("message"), v.Message, "message must not contain line breaks"))
	}
	if v.Reason != nil && !validationReasons.Has(*v.Reason) {
		errs = append(errs, field.NotSupported(fldPath.Child("reason"), *v.Reason, sets.List(validationReasons)))
	}
	return errs
}

// validateAuditAnnotation requires a key that, prefixed with the policy's
// name, is a qualified name, and a value expression.
func validateAuditAnnotation(policyName string, a *admissionregistrationv1.AuditAnnotation, env *celEnv, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if policyName == "" {
		errs = append(errs, field.Invalid(fldPath.Child("key"), a.Key, "requires metadata.name be non-empty"))
	} else {
		errs = append(errs, qualifiedName(policyName+"/"+a.Key, fldPath.Child("key"))...)
	}
	if expr := strings.TrimSpace(a.ValueExpression); expr == "" {
		errs = append(errs, field.Required(fldPath.Child("valueExpression"), "valueExpression is not specified"))
	} else {
		errs = append(errs, env.check(&validating.AuditAnnotationCondition{Key: a.Key, ValueExpression: expr}, fldPath.Child("valueExpression"))...)
	}
	return errs
}

// validateMutation requires the patch of the mutation's patch type, with
// an expression that compiles, and not the other.
func validateMutation(m *admissionregistrationv1.Mutation, env *celEnv, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	jsonPatch, applyConfiguration := fldPath.Child("jsonPatch"), fldPath.Child("applyConfiguration")
	switch m.PatchType {
	case admissionregistrationv1.PatchTypeJSONPatch:
		if m.JSONPatch == nil {
			errs = append(errs, field.Required(jsonPatch, "must be specified when patchType is JSONPatch"))
		} else {
			errs = append(errs, validatePatchExpression(&patch.JSONPatchCondition{Expression: strings.TrimSpace(m.JSONPatch.Expression)}, env, jsonPatch.Child("expression"))...)
		}
		if m.ApplyConfiguration != nil {
			errs = append(errs, field.Invalid(applyConfiguration, "{applyConfiguration}", "must not be specified when patchType is JSONPatch"))
		}
	case admissionregistrationv1.PatchTypeApplyConfiguration:
		if m.ApplyConfiguration == nil {
			errs = append(errs, field.Required(applyConfiguration, "must be specified when patchType is ApplyConfiguration"))
		} else {
			errs = append(errs, validatePatchExpression(&patch.ApplyConfigurationCondition{Expression: strings.TrimSpace(m.ApplyConfiguration.Expression)}, env, applyConfiguration.Child("expression"))...)
		}
		if m.JSONPatch != nil {
			errs = append(errs, field.Invalid(jsonPatch, "{jsonPatch}", "must not be specified when patchType is ApplyConfiguration"))
		}
	default:
		errs = append(errs, field.NotSupported(fldPath.Child("patchType"), m.PatchType, patchTypes))
	}
	return errs
}

// validatePatchExpression requires a mutation's expression and compiles it.
func validatePatchExpression(expr plugincel.ExpressionAccessor, env *celEnv, fldPath *field.Path) field.ErrorList {
	if expr.GetExpression() == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return env.check(expr, fldPath)
}
