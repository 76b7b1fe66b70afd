package validation

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ephemeralContainerFields are the fields of an ephemeral container that
// may be set, as upstream allows them. Every other field (ports, resources,
// probes, lifecycle, restart policies and any field added to containers
// later) is Forbidden: ephemeral containers are for debugging and must not
// become part of the pod's workload.
var ephemeralContainerFields = sets.New(
	"Name", "Image", "Command", "Args", "WorkingDir", "EnvFrom", "Env",
	"VolumeMounts", "VolumeDevices", "TerminationMessagePath",
	"TerminationMessagePolicy", "ImagePullPolicy", "SecurityContext",
	"Stdin", "StdinOnce", "TTY",
)

// forbiddenForEphemeral is upstream's message for a field an ephemeral
// container may not set.
const forbiddenForEphemeral = "cannot be set for an Ephemeral Container"

// validateEphemeralContainers checks the ephemeral containers of spec: what
// every container is checked for, names unique across all the pod's
// containers, a target that is one of the init or app containers, only the
// allowed fields and no subPath mounts. names holds the names of the init
// and app containers.
func validateEphemeralContainers(spec *corev1.PodSpec, volumes, names sets.Set[string], fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	targets := names.Clone()
	for i := range spec.EphemeralContainers {
		ec := &spec.EphemeralContainers[i]
		p := fldPath.Index(i)
		c := corev1.Container(ec.EphemeralContainerCommon)
		errs = append(errs, validateContainerCommon(&c, spec, volumes, names, p)...)
		if ec.TargetContainerName != "" && !targets.Has(ec.TargetContainerName) {
			errs = append(errs, field.NotFound(p.Child("targetContainerName"), ec.TargetContainerName))
		}
		errs = append(errs, validateEphemeralContainerFields(&ec.EphemeralContainerCommon, p)...)
		// Subpath mounts are bind mounts that stay until the pod ends.
		for j, m := range ec.VolumeMounts {
			mp := p.Child("volumeMounts").Index(j)
			if m.SubPath != "" {
				errs = append(errs, field.Forbidden(mp.Child("subPath"), forbiddenForEphemeral))
			}
			if m.SubPathExpr != "" {
				errs = append(errs, field.Forbidden(mp.Child("subPathExpr"), forbiddenForEphemeral))
			}
		}
	}
	return errs
}

// validateEphemeralContainerFields forbids every set field that is not in
// ephemeralContainerFields, at its JSON name.
func validateEphemeralContainerFields(ec *corev1.EphemeralContainerCommon, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	v := reflect.ValueOf(ec).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if ephemeralContainerFields.Has(f.Name) || v.Field(i).IsZero() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		errs = append(errs, field.Forbidden(fldPath.Child(name), forbiddenForEphemeral))
	}
	return errs
}

// ValidatePodCreate checks what only a new pod is refused for: ephemeral
// containers, which are added to a running pod through its
// ephemeralcontainers subresource.
func ValidatePodCreate(pod *corev1.Pod) field.ErrorList {
	if len(pod.Spec.EphemeralContainers) > 0 {
		return field.ErrorList{field.Forbidden(field.NewPath("spec", "ephemeralContainers"), "cannot be set on create")}
	}
	return nil
}

// ValidatePodEphemeralContainersUpdate checks an update through
// pods/ephemeralcontainers: the pod (its new ephemeral containers included)
// is valid, it is not a static pod, and every ephemeral container it had is
// still there, unchanged (the list may be reordered: patches do not keep
// the order).
func ValidatePodEphemeralContainersUpdate(pod, old *corev1.Pod) field.ErrorList {
	errs := genericvalidation.ValidateObjectMetaAccessorUpdate(pod, old, field.NewPath("metadata"))
	errs = append(errs, ValidatePodSpec(&pod.Spec, field.NewPath("spec"))...)
	if _, mirror := old.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
	}
	byName := make(map[string]*corev1.EphemeralContainer, len(pod.Spec.EphemeralContainers))
	for i := range pod.Spec.EphemeralContainers {
		byName[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
	}
	p := field.NewPath("spec", "ephemeralContainers")
	for _, o := range old.Spec.EphemeralContainers {
		n, ok := byName[o.Name]
		switch {
		case !ok:
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("existing ephemeral containers %q may not be removed\n", o.Name)))
		case !apiequality.Semantic.DeepEqual(o, *n):
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("existing ephemeral containers %q may not be changed\n%v", o.Name, diff.Diff(o, *n))))
		}
	}
	return errs
}
