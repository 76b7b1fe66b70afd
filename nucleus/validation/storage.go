package validation

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// volumeAccessModes are the access modes of volumes and claims.
var volumeAccessModes = sets.New(corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)

// volumeModes are the volume modes of volumes and claims.
var volumeModes = sets.New(corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)

// AccessModes checks the access modes of a volume or claim: each one
// known, ReadWriteOncePod alone. requiredMsg is the detail of the error
// for an empty list (upstream words it differently for volumes and claims).
func AccessModes(modes []corev1.PersistentVolumeAccessMode, requiredMsg string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(modes) == 0 {
		errs = append(errs, field.Required(fldPath, requiredMsg))
	}
	rwop, others := false, false
	for _, mode := range modes {
		switch {
		case !volumeAccessModes.Has(mode):
			errs = append(errs, field.NotSupported(fldPath, mode, sets.List(volumeAccessModes)))
		case mode == corev1.ReadWriteOncePod:
			rwop = true
		default:
			others = true
		}
	}
	if rwop && others {
		errs = append(errs, field.Forbidden(fldPath, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

// VolumeMode checks a volume or claim's volume mode, when set.
func VolumeMode(mode *corev1.PersistentVolumeMode, fldPath *field.Path) field.ErrorList {
	if mode != nil && !volumeModes.Has(*mode) {
		return field.ErrorList{field.NotSupported(fldPath, *mode, sets.List(volumeModes))}
	}
	return nil
}

// StorageClassName checks the name of a storage class.
func StorageClassName(name string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(fldPath, name, msg))
	}
	return errs
}
