package resourcequota

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/validation"
)

// podComputeResources are the resources pod scopes apply to.
var podComputeResources = sets.New[corev1.ResourceName](
	corev1.ResourcePods, corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
)

// scopeResources lists, per scope, the resources it may restrict.
var scopeResources = map[corev1.ResourceQuotaScope]sets.Set[corev1.ResourceName]{
	corev1.ResourceQuotaScopeTerminating:               podComputeResources,
	corev1.ResourceQuotaScopeNotTerminating:            podComputeResources,
	corev1.ResourceQuotaScopeNotBestEffort:             podComputeResources,
	corev1.ResourceQuotaScopePriorityClass:             podComputeResources,
	corev1.ResourceQuotaScopeCrossNamespacePodAffinity: podComputeResources,
	corev1.ResourceQuotaScopeBestEffort:                sets.New(corev1.ResourcePods),
	corev1.ResourceQuotaScopeVolumeAttributesClass: sets.New(
		corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage),
}

// existsOnlyScopes may only be matched with the Exists operator.
var existsOnlyScopes = sets.New(
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
	corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
)

// conflictingScopes are the pairs a quota may not combine.
var conflictingScopes = [][2]corev1.ResourceQuotaScope{
	{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort},
	{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating},
}

// ValidateSpec checks the hard limits and the scopes of a quota.
func ValidateSpec(spec *corev1.ResourceQuotaSpec, fldPath *field.Path) field.ErrorList {
	errs := validateResourceList(spec.Hard, fldPath.Child("hard"))
	errs = append(errs, validateScopes(spec, fldPath.Child("scopes"))...)
	return append(errs, validateScopeSelector(spec, fldPath.Child("scopeSelector"))...)
}

// ValidateStatus checks the hard and used amounts of a quota's status.
func ValidateStatus(status *corev1.ResourceQuotaStatus, fldPath *field.Path) field.ErrorList {
	errs := validateResourceList(status.Hard, fldPath.Child("hard"))
	return append(errs, validateResourceList(status.Used, fldPath.Child("used"))...)
}

// ValidateUpdate keeps the scopes of a quota.
func ValidateUpdate(q, old *corev1.ResourceQuota) field.ErrorList {
	if !sets.New(q.Spec.Scopes...).Equal(sets.New(old.Spec.Scopes...)) {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "scopes"), q.Spec.Scopes, "field is immutable")}
	}
	return nil
}

func validateResourceList(list corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range list {
		p := fldPath.Key(string(name))
		errs = append(errs, validation.QuotaResourceName(name, p)...)
		errs = append(errs, validation.ResourceQuantityValue(name, q, p)...)
	}
	return errs
}

// scopeFitsResource reports whether a standard resource the quota limits
// can be restricted by scope.
func scopeFitsResource(scope corev1.ResourceQuotaScope, name corev1.ResourceName) bool {
	return !validation.IsStandardQuotaResourceName(name) || scopeResources[scope].Has(name)
}

func validateScopes(spec *corev1.ResourceQuotaSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, scope := range spec.Scopes {
		if _, ok := scopeResources[scope]; !ok {
			errs = append(errs, field.Invalid(fldPath, spec.Scopes, "unsupported scope"))
		}
		for name := range spec.Hard {
			if !scopeFitsResource(scope, name) {
				errs = append(errs, field.Invalid(fldPath, spec.Scopes, "unsupported scope applied to resource"))
			}
		}
	}
	if conflicting(sets.New(spec.Scopes...)) {
		errs = append(errs, field.Invalid(fldPath, spec.Scopes, "conflicting scopes"))
	}
	return errs
}

func validateScopeSelector(spec *corev1.ResourceQuotaSpec, fldPath *field.Path) field.ErrorList {
	if spec.ScopeSelector == nil {
		return nil
	}
	var errs field.ErrorList
	fldPath = fldPath.Child("matchExpressions")
	scopes := sets.New[corev1.ResourceQuotaScope]()
	for _, req := range spec.ScopeSelector.MatchExpressions {
		if _, ok := scopeResources[req.ScopeName]; !ok {
			errs = append(errs, field.Invalid(fldPath.Child("scopeName"), req.ScopeName, "unsupported scope"))
		}
		for name := range spec.Hard {
			if !scopeFitsResource(req.ScopeName, name) {
				errs = append(errs, field.Invalid(fldPath, spec.ScopeSelector, "unsupported scope applied to resource"))
			}
		}
		if existsOnlyScopes.Has(req.ScopeName) && req.Operator != corev1.ScopeSelectorOpExists {
			errs = append(errs, field.Invalid(fldPath.Child("operator"), req.Operator,
				"must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
		}
		switch req.Operator {
		case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
			if len(req.Values) == 0 {
				errs = append(errs, field.Required(fldPath.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
			}
		case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
			if len(req.Values) != 0 {
				errs = append(errs, field.Invalid(fldPath.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
			}
		default:
			errs = append(errs, field.Invalid(fldPath.Child("operator"), req.Operator, "not a valid selector operator"))
		}
		scopes.Insert(req.ScopeName)
	}
	if conflicting(scopes) {
		errs = append(errs, field.Invalid(fldPath, spec.ScopeSelector, "conflicting scopes"))
	}
	return errs
}

func conflicting(scopes sets.Set[corev1.ResourceQuotaScope]) bool {
	for _, pair := range conflictingScopes {
		if scopes.HasAll(pair[0], pair[1]) {
			return true
		}
	}
	return false
}
