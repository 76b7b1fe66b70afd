package admissionregistration

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
)

// Allowed values of the admissionregistration enums.
var (
	supportedOperations = sets.New(admissionregistrationv1.OperationAll, admissionregistrationv1.Create,
		admissionregistrationv1.Update, admissionregistrationv1.Delete, admissionregistrationv1.Connect)
	supportedScopes          = sets.New(admissionregistrationv1.AllScopes, admissionregistrationv1.ClusterScope, admissionregistrationv1.NamespacedScope)
	supportedFailurePolicies = sets.New(admissionregistrationv1.Ignore, admissionregistrationv1.Fail)
	supportedMatchPolicies   = sets.New(admissionregistrationv1.Exact, admissionregistrationv1.Equivalent)
)

// maxMatchConditions is how many match conditions a webhook or policy may
// have.
const maxMatchConditions = 64

// validateRuleWithOperations checks the operations and resources a webhook
// or policy rule matches.
func validateRuleWithOperations(r *admissionregistrationv1.RuleWithOperations, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	opsPath := fldPath.Child("operations")
	if len(r.Operations) == 0 {
		errs = append(errs, field.Required(opsPath, ""))
	}
	if len(r.Operations) > 1 && sets.New(r.Operations...).Has(admissionregistrationv1.OperationAll) {
		errs = append(errs, field.Invalid(opsPath, r.Operations, "if '*' is present, must not specify other operations"))
	}
	for i, op := range r.Operations {
		if !supportedOperations.Has(op) {
			errs = append(errs, field.NotSupported(opsPath.Index(i), op, sets.List(supportedOperations)))
		}
	}
	return append(errs, validateRule(&r.Rule, fldPath)...)
}

// validateRule checks the groups, versions, resources and scope of a rule.
func validateRule(r *admissionregistrationv1.Rule, fldPath *field.Path) field.ErrorList {
	errs := validateWildcardList(r.APIGroups, "API groups", fldPath.Child("apiGroups"))
	errs = append(errs, validateWildcardList(r.APIVersions, "API versions", fldPath.Child("apiVersions"))...)
	for i, version := range r.APIVersions {
		if version == "" {
			errs = append(errs, field.Required(fldPath.Child("apiVersions").Index(i), ""))
		}
	}
	errs = append(errs, validateResources(r.Resources, fldPath.Child("resources"))...)
	if r.Scope != nil && !supportedScopes.Has(*r.Scope) {
		errs = append(errs, field.NotSupported(fldPath.Child("scope"), *r.Scope, sets.List(supportedScopes)))
	}
	return errs
}

// validateWildcardList requires a non-empty list where "*" stands alone.
func validateWildcardList(values []string, what string, fldPath *field.Path) field.ErrorList {
	if len(values) == 0 {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	if len(values) > 1 && sets.New(values...).Has("*") {
		return field.ErrorList{field.Invalid(fldPath, values, fmt.Sprintf("if '*' is present, must not specify other %s", what))}
	}
	return nil
}

// validateResources checks "resource/subresource" patterns: none empty and
// no pattern already covered by a wildcard one.
func validateResources(resources []string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(resources) == 0 {
		errs = append(errs, field.Required(fldPath, ""))
	}
	wildcardSub := sets.New[string]()      // x/*
	wildcardResource := sets.New[string]() // */x
	doubleWildcard, singleWildcard, plainResource := false, false, false
	for i, rs := range resources {
		if rs == "" {
			errs = append(errs, field.Required(fldPath.Index(i), ""))
			continue
		}
		doubleWildcard = doubleWildcard || rs == "*/*"
		singleWildcard = singleWildcard || rs == "*"
		res, sub, found := strings.Cut(rs, "/")
		if !found {
			plainResource = rs != "*"
			continue
		}
		if wildcardSub.Has(res) {
			errs = append(errs, field.Invalid(fldPath.Index(i), rs, fmt.Sprintf("if '%s/*' is present, must not specify %s", res, rs)))
		}
		if wildcardResource.Has(sub) {
			errs = append(errs, field.Invalid(fldPath.Index(i), rs, fmt.Sprintf("if '*/%s' is present, must not specify %s", sub, rs)))
		}
		if sub == "*" {
			wildcardSub.Insert(res)
		}
		if res == "*" {
			wildcardResource.Insert(sub)
		}
	}
	if len(resources) > 1 && doubleWildcard {
		errs = append(errs, field.Invalid(fldPath, resources, "if '*/*' is present, must not specify other resources"))
	}
	if singleWildcard && plainResource {
		errs = append(errs, field.Invalid(fldPath, resources, "if '*' is present, must not specify other resources without subresources"))
	}
	return errs
}

// validateMatchResources checks what a policy or binding matches. The
// policy and selectors are defaulted when decoding, so they are required
// here.
func validateMatchResources(mc *admissionregistrationv1.MatchResources, fldPath *field.Path) field.ErrorList {
	if mc == nil {
		return nil
	}
	var errs field.ErrorList
	switch {
	case mc.MatchPolicy == nil:
		errs = append(errs, field.Required(fldPath.Child("matchPolicy"), ""))
	case !supportedMatchPolicies.Has(*mc.MatchPolicy):
		errs = append(errs, field.NotSupported(fldPath.Child("matchPolicy"), *mc.MatchPolicy, sets.List(supportedMatchPolicies)))
	}
	errs = append(errs, validateRequiredSelector(mc.NamespaceSelector, fldPath.Child("namespaceSelector"))...)
	errs = append(errs, validateRequiredSelector(mc.ObjectSelector, fldPath.Child("objectSelector"))...)
	for i := range mc.ResourceRules {
		errs = append(errs, validateNamedRule(&mc.ResourceRules[i], fldPath.Child("resourceRules").Index(i))...)
	}
	for i := range mc.ExcludeResourceRules {
		errs = append(errs, validateNamedRule(&mc.ExcludeResourceRules[i], fldPath.Child("excludeResourceRules").Index(i))...)
	}
	return errs
}

// validateRequiredSelector checks a label selector that must be set.
func validateRequiredSelector(s *metav1.LabelSelector, fldPath *field.Path) field.ErrorList {
	if s == nil {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	return metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, fldPath)
}

// validateNamedRule checks a rule with the names of the objects it matches.
func validateNamedRule(r *admissionregistrationv1.NamedRuleWithOperations, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, name := range r.ResourceNames {
		for _, msg := range path.ValidatePathSegmentName(name, false) {
			errs = append(errs, field.Invalid(fldPath.Child("resourceNames").Index(i), name, msg))
		}
		if seen.Has(name) {
			errs = append(errs, field.Duplicate(fldPath.Child("resourceNames").Index(i), name))
		}
		seen.Insert(name)
	}
	return append(errs, validateRuleWithOperations(&r.RuleWithOperations, fldPath)...)
}

// validateMatchConditions checks the named CEL conditions of a webhook or
// policy: at most 64, names qualified and unique, expressions that compile
// in env.
func validateMatchConditions(conditions []admissionregistrationv1.MatchCondition, env *celEnv, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(conditions) > maxMatchConditions {
		errs = append(errs, field.TooMany(fldPath, len(conditions), maxMatchConditions))
	}
	seen := sets.New[string]()
	for i, c := range conditions {
		idxPath := fldPath.Index(i)
		if strings.TrimSpace(c.Expression) == "" {
			errs = append(errs, field.Required(idxPath.Child("expression"), ""))
		} else {
			errs = append(errs, env.check((*matchconditions.MatchCondition)(&c), idxPath.Child("expression"))...)
		}
		if c.Name == "" {
			errs = append(errs, field.Required(idxPath.Child("name"), ""))
			continue
		}
		errs = append(errs, qualifiedName(c.Name, idxPath.Child("name"))...)
		if seen.Has(c.Name) {
			errs = append(errs, field.Duplicate(idxPath.Child("name"), c.Name))
		}
		seen.Insert(c.Name)
	}
	return errs
}

// qualifiedName checks a name of the form [prefix/]name.
func qualifiedName(name string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(fldPath, name, msg))
	}
	return errs
}
