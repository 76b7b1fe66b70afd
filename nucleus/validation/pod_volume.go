package validation

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var storageMedia = []corev1.StorageMedium{corev1.StorageMediumDefault, corev1.StorageMediumMemory, corev1.StorageMediumHugePages}

// validateVolumes checks pod volumes and returns the names of the valid
// ones: names are unique DNS-1123 labels and every volume has exactly one
// source.
func validateVolumes(volumes []corev1.Volume, fldPath *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range volumes {
		v := &volumes[i]
		p := fldPath.Index(i)
		nameErrs := validateUniqueLabel(p.Child("name"), v.Name, names)
		sourceErrs := validateVolumeSource(&v.VolumeSource, p)
		if len(nameErrs) == 0 && len(sourceErrs) == 0 {
			names.Insert(v.Name)
		}
		errs = append(errs, nameErrs...)
		errs = append(errs, sourceErrs...)
	}
	return names, errs
}

// validateUniqueLabel checks a required name that must be a DNS-1123
// label not among names (containers', volumes').
func validateUniqueLabel(p *field.Path, name string, names sets.Set[string]) field.ErrorList {
	switch {
	case name == "":
		return field.ErrorList{field.Required(p, "")}
	case names.Has(name):
		return field.ErrorList{field.Duplicate(p, name)}
	default:
		return messages(p, name, validation.IsDNS1123Label(name))
	}
}

// validateVolumeSource requires exactly one volume type and checks the
// required fields of the common ones.
func validateVolumeSource(src *corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	set := setSources(src)
	switch {
	case len(set) == 0:
		return field.ErrorList{field.Required(fldPath, "must specify a volume type")}
	case len(set) > 1:
		for _, name := range set[1:] {
			errs = append(errs, field.Forbidden(fldPath.Child(name), "may not specify more than 1 volume type"))
		}
		return errs
	}
	switch {
	case src.HostPath != nil:
		if src.HostPath.Path == "" {
			errs = append(errs, field.Required(fldPath.Child("hostPath", "path"), ""))
		}
	case src.EmptyDir != nil:
		if m := src.EmptyDir.Medium; !contains(storageMedia, m) && !strings.HasPrefix(string(m), string(corev1.StorageMediumHugePagesPrefix)) {
			errs = append(errs, field.NotSupported(fldPath.Child("emptyDir", "medium"), m, storageMedia))
		}
	case src.Secret != nil:
		if src.Secret.SecretName == "" {
			errs = append(errs, field.Required(fldPath.Child("secret", "secretName"), ""))
		}
	case src.ConfigMap != nil:
		if src.ConfigMap.Name == "" {
			errs = append(errs, field.Required(fldPath.Child("configMap", "name"), ""))
		}
	case src.PersistentVolumeClaim != nil:
		if src.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(fldPath.Child("persistentVolumeClaim", "claimName"), ""))
		}
	}
	return errs
}

// setSources returns the JSON names of the volume types set in src, in
// field order.
func setSources(src *corev1.VolumeSource) []string {
	var set []string
	v := reflect.ValueOf(src).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			set = append(set, name)
		}
	}
	return set
}
