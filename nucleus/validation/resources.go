package validation

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Messages upstream uses for resource quantities and names.
const (
	quantityNegativeMsg         = "must be greater than or equal to 0"
	quantityNotPositiveMsg      = "must be greater than zero"
	quantityNotIntegerMsg       = "must be an integer"
	resourceNotStandardMsg      = "must be a standard resource type or fully qualified"
	resourceNotQuotaMsg         = "must be a standard resource for quota"
	resourceNotForContainersMsg = "must be a standard resource for containers"
	resourceNotExtendedMsg      = "doesn't follow extended resource name standard"
)

// resourcesStandard are the resource names that need no domain prefix.
var resourcesStandard = sets.New(
	"cpu", "memory", "ephemeral-storage", "storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage", "requests.storage",
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
	"persistentvolumeclaims", "configmaps", "services.nodeports", "services.loadbalancers",
)

// resourcesStandardForQuota are the unprefixed names a ResourceQuota may limit.
var resourcesStandardForQuota = sets.New(
	"cpu", "memory", "ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.storage", "requests.ephemeral-storage",
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
	"persistentvolumeclaims", "configmaps", "services.nodeports", "services.loadbalancers",
)

// resourcesStandardForContainers are the unprefixed names a container may request.
var resourcesStandardForContainers = sets.New("cpu", "memory", "ephemeral-storage")

// resourcesCountedInUnits are counted in whole units.
var resourcesCountedInUnits = sets.New(
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
	"persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
)

// NonNegativeQuantity requires q ≥ 0.
func NonNegativeQuantity(q resource.Quantity, fldPath *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(fldPath, q.String(), quantityNegativeMsg)}
	}
	return nil
}

// PositiveQuantity requires q > 0.
func PositiveQuantity(q resource.Quantity, fldPath *field.Path) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(fldPath, q.String(), quantityNotPositiveMsg)}
	}
	return nil
}

// ResourceQuantityValue checks the amount of a named resource: never
// negative, and whole for resources counted in units (pods, secrets,
// extended resources…).
func ResourceQuantityValue(name corev1.ResourceName, q resource.Quantity, fldPath *field.Path) field.ErrorList {
	errs := NonNegativeQuantity(q, fldPath)
	if (resourcesCountedInUnits.Has(string(name)) || IsExtendedResourceName(name)) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(fldPath, q.String(), quantityNotIntegerMsg))
	}
	return errs
}

// StandardOrQualifiedResourceName requires a qualified name that is either
// one of the standard resources or has a domain prefix.
func StandardOrQualifiedResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(fldPath, name, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(string(name), "/") && !resourcesStandard.Has(string(name)) && !resourceIsQuotaHugePages(name) {
		errs = append(errs, field.Invalid(fldPath, name, resourceNotStandardMsg))
	}
	return errs
}

// QuotaResourceName checks a resource name limited by a ResourceQuota.
func QuotaResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	errs := StandardOrQualifiedResourceName(name, fldPath)
	if !strings.Contains(string(name), "/") && !IsStandardQuotaResourceName(name) {
		errs = append(errs, field.Invalid(fldPath, name, resourceNotQuotaMsg))
	}
	return errs
}

// ContainerResourceName checks a resource name a container may request.
func ContainerResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	errs := StandardOrQualifiedResourceName(name, fldPath)
	switch {
	case !strings.Contains(string(name), "/"):
		if !resourcesStandardForContainers.Has(string(name)) && !resourceIsHugePages(name) {
			errs = append(errs, field.Invalid(fldPath, name, resourceNotForContainersMsg))
		}
	case !resourceIsNative(name) && !IsExtendedResourceName(name):
		errs = append(errs, field.Invalid(fldPath, name, resourceNotExtendedMsg))
	}
	return errs
}

// IsStandardQuotaResourceName reports whether a ResourceQuota may limit
// name without a domain prefix.
func IsStandardQuotaResourceName(name corev1.ResourceName) bool {
	return resourcesStandardForQuota.Has(string(name)) || resourceIsQuotaHugePages(name)
}

// IsExtendedResourceName reports whether name is an extended resource: a
// domain-prefixed name outside kubernetes.io that is valid in quotas too.
func IsExtendedResourceName(name corev1.ResourceName) bool {
	if resourceIsNative(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(utilvalidation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// IsOvercommitAllowed reports whether limits of the resource may exceed its
// requests (not for hugepages and extended resources).
func IsOvercommitAllowed(name corev1.ResourceName) bool {
	return resourceIsNative(name) && !resourceIsHugePages(name)
}

func resourceIsNative(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

func resourceIsHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func resourceIsQuotaHugePages(name corev1.ResourceName) bool {
	return resourceIsHugePages(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix+corev1.ResourceHugePagesPrefix)
}
