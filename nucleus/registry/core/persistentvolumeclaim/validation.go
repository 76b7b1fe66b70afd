package persistentvolumeclaim

import (
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/validation"
)

// ValidateSpec checks a claim's access modes, requested storage, selector
// and class.
func ValidateSpec(spec *corev1.PersistentVolumeClaimSpec, fldPath *field.Path) field.ErrorList {
	errs := validation.AccessModes(spec.AccessModes, "at least 1 access mode is required", fldPath.Child("accessModes"))
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))...)
	}
	// Upstream reports the storage request at spec.resources[storage].
	storagePath := fldPath.Child("resources").Key(string(corev1.ResourceStorage))
	if storage, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(storagePath, ""))
	} else {
		errs = append(errs, validation.PositiveQuantity(storage, storagePath)...)
	}
	if spec.StorageClassName != nil && *spec.StorageClassName != "" {
		errs = append(errs, validation.StorageClassName(*spec.StorageClassName, fldPath.Child("storageClassName"))...)
	}
	if spec.VolumeAttributesClassName != nil && *spec.VolumeAttributesClassName != "" {
		errs = append(errs, validation.StorageClassName(*spec.VolumeAttributesClassName, fldPath.Child("volumeAttributesClassName"))...)
	}
	return append(errs, validation.VolumeMode(spec.VolumeMode, fldPath.Child("volumeMode"))...)
}

// ValidateUpdate keeps a claim's spec, except that the volume name may be
// set once, a bound claim's volume attributes class may change and its
// storage request too: up, or down to just above the capacity it has (to
// recover from a failed expansion).
func ValidateUpdate(pvc, old *corev1.PersistentVolumeClaim) field.ErrorList {
	var errs field.ErrorList
	spec, oldSpec := pvc.Spec.DeepCopy(), old.Spec.DeepCopy()
	if old.Spec.VolumeName == "" {
		oldSpec.VolumeName = spec.VolumeName
	}
	if pvc.Status.Phase == corev1.ClaimBound {
		if spec.Resources.Requests != nil {
			spec.Resources.Requests[corev1.ResourceStorage] = old.Spec.Resources.Requests[corev1.ResourceStorage]
		}
		if spec.VolumeAttributesClassName != nil {
			spec.VolumeAttributesClassName = oldSpec.VolumeAttributesClassName
		}
	}
	if !apiequality.Semantic.DeepEqual(spec, oldSpec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	size, oldSize := pvc.Spec.Resources.Requests[corev1.ResourceStorage], old.Spec.Resources.Requests[corev1.ResourceStorage]
	if capacity := old.Status.Capacity[corev1.ResourceStorage]; size.Cmp(oldSize) < 0 && size.Cmp(capacity) <= 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"))
	}
	errs = append(errs, validateAttributesClassUpdate(pvc.Spec.VolumeAttributesClassName, old.Spec.VolumeAttributesClassName)...)
	errs = append(errs, genericvalidation.ValidateImmutableField(pvc.Spec.VolumeMode, old.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	errs = append(errs, genericvalidation.ValidateImmutableField(pvc.Annotations[corev1.BetaStorageClassAnnotation], old.Annotations[corev1.BetaStorageClassAnnotation],
		field.NewPath("metadata", "annotations").Key(corev1.BetaStorageClassAnnotation))...)
	return errs
}

// validateAttributesClassUpdate keeps a VolumeAttributesClass, once set,
// named.
func validateAttributesClassUpdate(class, old *string) field.ErrorList {
	if old == nil {
		return nil
	}
	classPath := field.NewPath("spec", "volumeAttributesClassName")
	switch {
	case class == nil:
		return field.ErrorList{field.Forbidden(classPath, "update from non-nil value to nil is forbidden")}
	case *class == "":
		return field.ErrorList{field.Forbidden(classPath, "update from non-nil value to an empty string is forbidden")}
	}
	return nil
}

// ValidateStatus checks the access modes, capacity and allocated resources
// a claim reports.
func ValidateStatus(status *corev1.PersistentVolumeClaimStatus, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(status.AccessModes) > 0 {
		errs = append(errs, validation.AccessModes(status.AccessModes, "", fldPath.Child("accessModes"))...)
	}
	for name, q := range status.Capacity {
		errs = append(errs, validation.NonNegativeQuantity(q, fldPath.Child("capacity").Key(string(name)))...)
	}
	for name, q := range status.AllocatedResources {
		if name != corev1.ResourceStorage {
			errs = append(errs, field.NotSupported(fldPath.Child("allocatedResources").Key(string(name)), name, []corev1.ResourceName{corev1.ResourceStorage}))
			continue
		}
		errs = append(errs, validation.NonNegativeQuantity(q, fldPath.Child("allocatedResources").Key(string(name)))...)
	}
	return errs
}
