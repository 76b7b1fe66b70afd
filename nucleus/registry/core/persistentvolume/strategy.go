package persistentvolume

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	storageutil "k8s.io/kubectl/pkg/util/storage"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the persistentvolumes resource.
var Definition = &store.Definition[*corev1.PersistentVolume]{
	Resource: corev1.Resource("persistentvolumes"),
	Singular: "persistentvolume",
	New:      func() *corev1.PersistentVolume { return &corev1.PersistentVolume{} },
	NewList:  func() runtime.Object { return &corev1.PersistentVolumeList{} },
	// A new volume waits for the controller to make it available.
	PrepareForCreate: func(_ context.Context, pv *corev1.PersistentVolume) {
		now := metav1.Now()
		pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
	},
	PrepareForStatusUpdate: func(_ context.Context, pv, old *corev1.PersistentVolume) { stampPhaseTransition(pv, old) },
	Validate: func(_ context.Context, pv *corev1.PersistentVolume) field.ErrorList {
		return ValidateSpec(&pv.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, pv, old *corev1.PersistentVolume) field.ErrorList {
		return ValidateUpdate(pv, old)
	},
	ShortNames: []string{"pv"},
	Status:     true,
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Capacity", Type: "string", Description: "capacity is the description of the persistent volume's resources and capacity."},
		{Name: "Access Modes", Type: "string", Description: "accessModes contains all ways the volume can be mounted."},
		{Name: "Reclaim Policy", Type: "string", Description: "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."},
		{Name: "Status", Type: "string", Description: "phase indicates if a volume is available, bound to a claim, or released by a claim."},
		{Name: "Claim", Type: "string", Description: "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."},
		{Name: "StorageClass", Type: "string", Description: "storageClassName is the name of StorageClass to which this persistent volume belongs."},
		{Name: "VolumeAttributesClass", Type: "string", Description: "Name of VolumeAttributesClass to which this persistent volume belongs."},
		{Name: "Reason", Type: "string", Description: "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."},
		store.AgeColumn,
		{Name: "VolumeMode", Type: "string", Priority: 1, Description: "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state."},
	},
	Row: Row,
}

// Row prints a PersistentVolume as upstream does.
func Row(pv *corev1.PersistentVolume) []interface{} {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	return []interface{}{
		pv.Name, capacity.String(), storageutil.GetAccessModesAsString(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy), phase, claim,
		storageutil.GetPersistentVolumeClass(pv), Unset(pv.Spec.VolumeAttributesClassName),
		pv.Status.Reason, store.Age(pv.CreationTimestamp), Unset(pv.Spec.VolumeMode),
	}
}

// Unset prints an optional value, or "<unset>".
func Unset[T ~string](v *T) string {
	if v == nil {
		return "<unset>"
	}
	return string(*v)
}

// stampPhaseTransition records when the phase changed, unless the client
// set the time itself, and keeps the recorded time otherwise.
func stampPhaseTransition(pv, old *corev1.PersistentVolume) {
	switch {
	case pv.Status.Phase == old.Status.Phase && pv.Status.LastPhaseTransitionTime == nil:
		pv.Status.LastPhaseTransitionTime = old.Status.LastPhaseTransitionTime
	case pv.Status.Phase != old.Status.Phase &&
		(pv.Status.LastPhaseTransitionTime == nil || pv.Status.LastPhaseTransitionTime.Equal(old.Status.LastPhaseTransitionTime)):
		now := metav1.Now()
		pv.Status.LastPhaseTransitionTime = &now
	}
}
