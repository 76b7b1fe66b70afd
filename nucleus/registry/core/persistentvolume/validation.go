package persistentvolume

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/validation"
)

// reclaimPolicies are the supported persistentVolumeReclaimPolicy values.
var reclaimPolicies = sets.New(corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain)

// hostPathTypes are the supported hostPath types.
var hostPathTypes = sets.New(corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
	corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev)

// ValidateSpec checks a volume's capacity, access modes, policies and its
// one volume source.
func ValidateSpec(spec *corev1.PersistentVolumeSpec, fldPath *field.Path) field.ErrorList {
	errs := validation.AccessModes(spec.AccessModes, "", fldPath.Child("accessModes"))
	errs = append(errs, validateCapacity(spec.Capacity, fldPath.Child("capacity"))...)
	if spec.StorageClassName != "" {
		errs = append(errs, validation.StorageClassName(spec.StorageClassName, fldPath.Child("storageClassName"))...)
	}
	if spec.VolumeAttributesClassName != nil {
		errs = append(errs, validateAttributesClass(spec, fldPath)...)
	}
	errs = append(errs, validation.VolumeMode(spec.VolumeMode, fldPath.Child("volumeMode"))...)
	if spec.PersistentVolumeReclaimPolicy != "" && !reclaimPolicies.Has(spec.PersistentVolumeReclaimPolicy) {
		errs = append(errs, field.NotSupported(fldPath.Child("persistentVolumeReclaimPolicy"), spec.PersistentVolumeReclaimPolicy, sets.List(reclaimPolicies)))
	}
	if spec.NodeAffinity != nil {
		errs = append(errs, validateNodeAffinity(spec.NodeAffinity, fldPath.Child("nodeAffinity"))...)
	}
	errs = append(errs, validateSource(spec, fldPath)...)
	if spec.HostPath != nil && path.Clean(spec.HostPath.Path) == "/" && spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		errs = append(errs, field.Forbidden(fldPath.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"))
	}
	return errs
}

// validateAttributesClass checks the name of a volume's
// VolumeAttributesClass, which only CSI volumes can have.
func validateAttributesClass(spec *corev1.PersistentVolumeSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	classPath := fldPath.Child("volumeAttributesClassName")
	if name := *spec.VolumeAttributesClassName; name == "" {
		errs = append(errs, field.Required(classPath, "an empty string is disallowed"))
	} else {
		errs = append(errs, validation.StorageClassName(name, classPath)...)
	}
	if spec.CSI == nil {
		errs = append(errs, field.Required(fldPath.Child("csi"), "has to be specified when using volumeAttributesClassName"))
	}
	return errs
}

// validateCapacity requires a positive storage capacity and nothing else.
func validateCapacity(capacity corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(capacity) == 0 {
		errs = append(errs, field.Required(fldPath, ""))
	}
	if _, ok := capacity[corev1.ResourceStorage]; !ok || len(capacity) > 1 {
		errs = append(errs, field.NotSupported(fldPath, capacity, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for name, q := range capacity {
		errs = append(errs, validation.PositiveQuantity(q, fldPath.Key(string(name)))...)
	}
	return errs
}

// validateNodeAffinity requires the node constraints a volume is
// reachable from.
func validateNodeAffinity(affinity *corev1.VolumeNodeAffinity, fldPath *field.Path) field.ErrorList {
	if affinity.Required == nil {
		return field.ErrorList{field.Required(fldPath.Child("required"), "must specify required node constraints")}
	}
	if len(affinity.Required.NodeSelectorTerms) == 0 {
		return field.ErrorList{field.Required(fldPath.Child("required", "nodeSelectorTerms"), "must have at least one node selector term")}
	}
	return nil
}

// source is one of the volume sources of a PersistentVolumeSpec.
type source struct {
	name     string
	set      bool
	validate func(*field.Path) field.ErrorList
}

// sources lists the volume sources of spec, at specPath, in upstream's
// order.
func sources(spec *corev1.PersistentVolumeSpec, specPath *field.Path) []source {
	s := &spec.PersistentVolumeSource
	return []source{
		{"gcePersistentDisk", s.GCEPersistentDisk != nil, nil},
		{"awsElasticBlockStore", s.AWSElasticBlockStore != nil, nil},
		{"hostPath", s.HostPath != nil, func(p *field.Path) field.ErrorList { return validateHostPath(s.HostPath, p) }},
		{"glusterfs", s.Glusterfs != nil, nil},
		{"flocker", s.Flocker != nil, nil},
		{"nfs", s.NFS != nil, func(p *field.Path) field.ErrorList { return validateNFS(s.NFS, p) }},
		{"rbd", s.RBD != nil, nil},
		{"quobyte", s.Quobyte != nil, nil},
		{"cephfs", s.CephFS != nil, nil},
		{"iscsi", s.ISCSI != nil, nil},
		{"cinder", s.Cinder != nil, nil},
		{"fc", s.FC != nil, nil},
		{"flexVolume", s.FlexVolume != nil, nil},
		{"azureFile", s.AzureFile != nil, nil},
		{"vsphereVolume", s.VsphereVolume != nil, nil},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil, nil},
		{"portworxVolume", s.PortworxVolume != nil, nil},
		{"azureDisk", s.AzureDisk != nil, nil},
		{"scaleIO", s.ScaleIO != nil, nil},
		{"local", s.Local != nil, func(p *field.Path) field.ErrorList { return validateLocal(spec, p, specPath) }},
		{"storageos", s.StorageOS != nil, nil},
		{"csi", s.CSI != nil, func(p *field.Path) field.ErrorList { return validateCSI(s.CSI, p) }},
	}
}

// validateSource requires exactly one volume source and checks the common
// ones.
func validateSource(spec *corev1.PersistentVolumeSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	found := false
	for _, src := range sources(spec, fldPath) {
		if !src.set {
			continue
		}
		if found {
			errs = append(errs, field.Forbidden(fldPath.Child(src.name), "may not specify more than 1 volume type"))
			continue
		}
		found = true
		if src.validate != nil {
			errs = append(errs, src.validate(fldPath.Child(src.name))...)
		}
	}
	if !found {
		errs = append(errs, field.Required(fldPath, "must specify a volume type"))
	}
	return errs
}

func validateHostPath(hp *corev1.HostPathVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if hp.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	}
	errs = append(errs, noBacksteps(hp.Path, fldPath.Child("path"))...)
	if hp.Type != nil && !hostPathTypes.Has(*hp.Type) {
		errs = append(errs, field.NotSupported(fldPath.Child("type"), *hp.Type, sets.List(hostPathTypes)))
	}
	return errs
}

func validateNFS(nfs *corev1.NFSVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if nfs.Server == "" {
		errs = append(errs, field.Required(fldPath.Child("server"), ""))
	}
	switch {
	case nfs.Path == "":
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	case !path.IsAbs(nfs.Path):
		errs = append(errs, field.Invalid(fldPath.Child("path"), nfs.Path, "must be an absolute path"))
	}
	return errs
}

// validateLocal requires a path and the node affinity that says where it is.
func validateLocal(spec *corev1.PersistentVolumeSpec, fldPath, specPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Local.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	}
	errs = append(errs, noBacksteps(spec.Local.Path, fldPath.Child("path"))...)
	if spec.NodeAffinity == nil {
		errs = append(errs, field.Required(specPath.Child("nodeAffinity"), "Local volume requires node affinity"))
	}
	return errs
}

func validateCSI(csi *corev1.CSIPersistentVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if csi.Driver == "" {
		errs = append(errs, field.Required(fldPath.Child("driver"), ""))
	}
	if csi.VolumeHandle == "" {
		errs = append(errs, field.Required(fldPath.Child("volumeHandle"), ""))
	}
	return errs
}

// noBacksteps forbids ".." elements in a path.
func noBacksteps(p string, fldPath *field.Path) field.ErrorList {
	for _, item := range strings.Split(p, "/") {
		if item == ".." {
			return field.ErrorList{field.Invalid(fldPath, p, "must not contain '..'")}
		}
	}
	return nil
}

// ValidateUpdate keeps the volume source and mode, and the node affinity
// once set.
func ValidateUpdate(pv, old *corev1.PersistentVolume) field.ErrorList {
	var errs field.ErrorList
	if !apiequality.Semantic.DeepEqual(pv.Spec.PersistentVolumeSource, old.Spec.PersistentVolumeSource) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"))
	}
	errs = append(errs, genericvalidation.ValidateImmutableField(pv.Spec.VolumeMode, old.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if old.Spec.NodeAffinity != nil {
		errs = append(errs, genericvalidation.ValidateImmutableField(pv.Spec.NodeAffinity, old.Spec.NodeAffinity, field.NewPath("nodeAffinity"))...)
	}
	return errs
}
