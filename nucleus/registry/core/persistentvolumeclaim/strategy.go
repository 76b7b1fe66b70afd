package persistentvolumeclaim

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	storageutil "k8s.io/kubectl/pkg/util/storage"

	"github.com/strata-dev/strata/nucleus/registry/core/persistentvolume"
	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the persistentvolumeclaims resource.
var Definition = &store.Definition[*corev1.PersistentVolumeClaim]{
	Resource:   corev1.Resource("persistentvolumeclaims"),
	Singular:   "persistentvolumeclaim",
	Namespaced: true,
	New:        func() *corev1.PersistentVolumeClaim { return &corev1.PersistentVolumeClaim{} },
	NewList:    func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
	// A new claim waits for the controller to bind it.
	PrepareForCreate: func(_ context.Context, pvc *corev1.PersistentVolumeClaim) {
		pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
	},
	Validate: func(_ context.Context, pvc *corev1.PersistentVolumeClaim) field.ErrorList {
		return ValidateSpec(&pvc.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, pvc, old *corev1.PersistentVolumeClaim) field.ErrorList {
		return ValidateUpdate(pvc, old)
	},
	ValidateStatusUpdate: func(_ context.Context, pvc, _ *corev1.PersistentVolumeClaim) field.ErrorList {
		return ValidateStatus(&pvc.Status, field.NewPath("status"))
	},
	ShortNames: []string{"pvc"},
	Status:     true,
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Status", Type: "string", Description: "phase represents the current phase of PersistentVolumeClaim."},
		{Name: "Volume", Type: "string", Description: "volumeName is the binding reference to the PersistentVolume backing this claim."},
		{Name: "Capacity", Type: "string", Description: "capacity represents the actual resources of the underlying volume."},
		{Name: "Access Modes", Type: "string", Description: "accessModes contains the actual access modes the volume backing the PVC has."},
		{Name: "StorageClass", Type: "string", Description: "storageClassName is the name of the StorageClass required by the claim."},
		{Name: "VolumeAttributesClass", Type: "string", Description: "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim."},
		store.AgeColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: "volumeMode defines what type of volume is required by the claim."},
	},
	Row: Row,
}

// Row prints a claim as upstream does: capacity and access modes come from
// the bound volume, so they are empty until the claim has one.
func Row(pvc *corev1.PersistentVolumeClaim) []interface{} {
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, accessModes := "", ""
	if pvc.Spec.VolumeName != "" {
		storage := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity = storage.String()
		accessModes = storageutil.GetAccessModesAsString(pvc.Status.AccessModes)
	}
	return []interface{}{
		pvc.Name, phase, pvc.Spec.VolumeName, capacity, accessModes,
		storageutil.GetPersistentVolumeClaimClass(pvc), persistentvolume.Unset(pvc.Spec.VolumeAttributesClassName),
		store.Age(pvc.CreationTimestamp), persistentvolume.Unset(pvc.Spec.VolumeMode),
	}
}
