package validation

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateResourceRequirements checks a container's requests and limits:
// container resource names, valid quantities and requests within the
// limits (equal to them for resources that cannot be overcommitted).
func ValidateResourceRequirements(req *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := fldPath.Child("limits"), fldPath.Child("requests")
	for name, q := range req.Limits {
		p := limPath.Key(string(name))
		errs = append(errs, ContainerResourceName(name, p)...)
		errs = append(errs, ResourceQuantityValue(name, q, p)...)
	}
	for name, q := range req.Requests {
		p := reqPath.Key(string(name))
		errs = append(errs, ContainerResourceName(name, p)...)
		errs = append(errs, ResourceQuantityValue(name, q, p)...)
		limit, ok := req.Limits[name]
		switch {
		case !ok && !IsOvercommitAllowed(name):
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		case !ok:
		case q.Cmp(limit) != 0 && !IsOvercommitAllowed(name):
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return errs
}
