package limitrange

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/validation"
)

// standardTypes are the limit types that need no domain prefix.
var standardTypes = sets.New(corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim)

// bounds are one resource's values across the fields of a limit.
type bounds struct {
	min, max, def, defRequest, ratio *resource.Quantity
}

// Validate checks each limit: its type (once each), its resource names,
// and that min ≤ default request ≤ default ≤ max with a sane ratio.
func Validate(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[corev1.LimitType]()
	for i := range lr.Spec.Limits {
		limit := &lr.Spec.Limits[i]
		idxPath := field.NewPath("spec", "limits").Index(i)
		errs = append(errs, validateType(limit.Type, idxPath.Child("type"))...)
		if seen.Has(limit.Type) {
			errs = append(errs, field.Duplicate(idxPath.Child("type"), limit.Type))
		}
		seen.Insert(limit.Type)
		errs = append(errs, validateLimit(limit, idxPath)...)
	}
	return errs
}

func validateType(t corev1.LimitType, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsQualifiedName(string(t)) {
		errs = append(errs, field.Invalid(fldPath, t, msg))
	}
	if len(errs) == 0 && !strings.Contains(string(t), "/") && !standardTypes.Has(t) {
		errs = append(errs, field.Invalid(fldPath, t, "must be a standard limit type or fully qualified"))
	}
	return errs
}

func validateLimit(limit *corev1.LimitRangeItem, idxPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	all := map[corev1.ResourceName]*bounds{}
	collect := func(list corev1.ResourceList, fieldName string, set func(*bounds, *resource.Quantity)) {
		for name, q := range list {
			errs = append(errs, validateResourceName(limit.Type, name, idxPath.Child(fieldName).Key(string(name)))...)
			if all[name] == nil {
				all[name] = &bounds{}
			}
			set(all[name], &q)
		}
	}
	collect(limit.Max, "max", func(b *bounds, q *resource.Quantity) { b.max = q })
	collect(limit.Min, "min", func(b *bounds, q *resource.Quantity) { b.min = q })
	if limit.Type == corev1.LimitTypePod {
		if len(limit.Default) > 0 {
			errs = append(errs, field.Forbidden(idxPath.Child("default"), "may not be specified when `type` is 'Pod'"))
		}
		if len(limit.DefaultRequest) > 0 {
			errs = append(errs, field.Forbidden(idxPath.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
		}
	} else {
		collect(limit.Default, "default", func(b *bounds, q *resource.Quantity) { b.def = q })
		collect(limit.DefaultRequest, "defaultRequest", func(b *bounds, q *resource.Quantity) { b.defRequest = q })
	}
	collect(limit.MaxLimitRequestRatio, "maxLimitRequestRatio", func(b *bounds, q *resource.Quantity) { b.ratio = q })
	if limit.Type == corev1.LimitTypePersistentVolumeClaim {
		_, hasMin := limit.Min[corev1.ResourceStorage]
		_, hasMax := limit.Max[corev1.ResourceStorage]
		if !hasMin && !hasMax {
			errs = append(errs, field.Required(idxPath.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
		}
	}
	for _, name := range sets.List(sets.KeySet(all)) {
		errs = append(errs, validateBounds(name, all[name], idxPath)...)
	}
	return errs
}

// validateResourceName checks a resource limited for pods and containers
// as a container resource, for anything else as any resource.
func validateResourceName(t corev1.LimitType, name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	if t == corev1.LimitTypePod || t == corev1.LimitTypeContainer {
		return validation.ContainerResourceName(name, fldPath)
	}
	return validation.StandardOrQualifiedResourceName(name, fldPath)
}

// validateBounds orders one resource's values as upstream does.
func validateBounds(name corev1.ResourceName, b *bounds, idxPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	key := string(name)
	invalid := func(fieldName string, value *resource.Quantity, format string, args ...interface{}) {
		errs = append(errs, field.Invalid(idxPath.Child(fieldName).Key(key), value.String(), fmt.Sprintf(format, args...)))
	}
	if b.min != nil && b.max != nil && b.min.Cmp(*b.max) > 0 {
		invalid("min", b.min, "min value %s is greater than max value %s", b.min, b.max)
	}
	if b.defRequest != nil && b.min != nil && b.min.Cmp(*b.defRequest) > 0 {
		invalid("defaultRequest", b.defRequest, "min value %s is greater than default request value %s", b.min, b.defRequest)
	}
	if b.defRequest != nil && b.max != nil && b.defRequest.Cmp(*b.max) > 0 {
		invalid("defaultRequest", b.defRequest, "default request value %s is greater than max value %s", b.defRequest, b.max)
	}
	if b.defRequest != nil && b.def != nil && b.defRequest.Cmp(*b.def) > 0 {
		invalid("defaultRequest", b.defRequest, "default request value %s is greater than default limit value %s", b.defRequest, b.def)
	}
	if b.def != nil && b.min != nil && b.min.Cmp(*b.def) > 0 {
		invalid("default", b.min, "min value %s is greater than default value %s", b.min, b.def)
	}
	if b.def != nil && b.max != nil && b.def.Cmp(*b.max) > 0 {
		invalid("default", b.max, "default value %s is greater than max value %s", b.def, b.max)
	}
	if b.ratio != nil && b.ratio.Cmp(resource.MustParse("1")) < 0 {
		invalid("maxLimitRequestRatio", b.ratio, "ratio %s is less than 1", b.ratio)
	}
	if b.ratio != nil && b.min != nil && b.max != nil {
		if got, limit := ratios(b.ratio, b.min, b.max); got > limit {
			invalid("maxLimitRequestRatio", b.ratio, "ratio %s is greater than max/min = %f", b.ratio, limit)
		}
	}
	// Resources that cannot be overcommitted need limit == request.
	if !validation.IsOvercommitAllowed(name) && b.def != nil && b.defRequest != nil && b.def.Cmp(*b.defRequest) != 0 {
		invalid("defaultRequest", b.defRequest, "default value %s must equal to defaultRequest value %s in %s", b.def, b.defRequest, key)
	}
	return errs
}

// ratios returns the limit's maxLimitRequestRatio and max/min, in
// milli-units when all three fit.
func ratios(ratio, min, max *resource.Quantity) (got, limit float64) {
	if ratio.Value() < resource.MaxMilliValue && min.Value() < resource.MaxMilliValue && max.Value() < resource.MaxMilliValue {
		return float64(ratio.MilliValue()) / 1000, float64(max.MilliValue()) / float64(min.MilliValue())
	}
	return float64(ratio.Value()), float64(max.Value()) / float64(min.Value())
}
