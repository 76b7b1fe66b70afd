package persistentvolume

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	storagehelpers "k8s.io/component-helpers/storage/volume"
)

const (
	rwo = corev1.ReadWriteOnce
	rox = corev1.ReadOnlyMany
	rwx = corev1.ReadWriteMany
)

type volumeBuilder struct{ pv *corev1.PersistentVolume }

// makeVolume is an Available 1Gi ReadWriteOnce hostPath volume without a
// class, reclaimed by Retain.
func makeVolume(name string) volumeBuilder {
	return volumeBuilder{&corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{rwo},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/" + name}},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable},
	}}
}

func (b volumeBuilder) Size(s string) volumeBuilder {
	b.pv.Spec.Capacity[corev1.ResourceStorage] = resource.MustParse(s)
	return b
}

func (b volumeBuilder) Modes(m ...corev1.PersistentVolumeAccessMode) volumeBuilder {
	b.pv.Spec.AccessModes = m
	return b
}

func (b volumeBuilder) Class(c string) volumeBuilder {
	b.pv.Spec.StorageClassName = c
	return b
}

func (b volumeBuilder) Block() volumeBuilder {
	mode := corev1.PersistentVolumeBlock
	b.pv.Spec.VolumeMode = &mode
	return b
}

func (b volumeBuilder) Labels(kv ...string) volumeBuilder {
	b.pv.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		b.pv.Labels[kv[i]] = kv[i+1]
	}
	return b
}

func (b volumeBuilder) Phase(p corev1.PersistentVolumePhase) volumeBuilder {
	b.pv.Status.Phase = p
	return b
}

// PreBound reserves the volume for namespace/name (no UID).
func (b volumeBuilder) PreBound(namespace, name string) volumeBuilder {
	b.pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: namespace, Name: name}
	return b
}

// ClaimUID sets the UID of the claim the volume is bound to.
func (b volumeBuilder) ClaimUID(uid types.UID) volumeBuilder {
	b.pv.Spec.ClaimRef.UID = uid
	return b
}

// BoundTo binds the volume to claim, as the controller does.
func (b volumeBuilder) BoundTo(claim *corev1.PersistentVolumeClaim) volumeBuilder {
	b.pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID}
	metav1.SetMetaDataAnnotation(&b.pv.ObjectMeta, storagehelpers.AnnBoundByController, "yes")
	b.pv.Status.Phase = corev1.VolumeBound
	return b
}

func (b volumeBuilder) Annotate(k, v string) volumeBuilder {
	metav1.SetMetaDataAnnotation(&b.pv.ObjectMeta, k, v)
	return b
}

func (b volumeBuilder) Reclaim(p corev1.PersistentVolumeReclaimPolicy) volumeBuilder {
	b.pv.Spec.PersistentVolumeReclaimPolicy = p
	return b
}

func (b volumeBuilder) Source(s corev1.PersistentVolumeSource) volumeBuilder {
	b.pv.Spec.PersistentVolumeSource = s
	return b
}

func (b volumeBuilder) Deleting() volumeBuilder {
	now := metav1.Now()
	b.pv.DeletionTimestamp = &now
	return b
}

func (b volumeBuilder) Obj() *corev1.PersistentVolume { return b.pv }

type claimBuilder struct{ pvc *corev1.PersistentVolumeClaim }

// makeClaim is a Pending claim in ns for 1Gi ReadWriteOnce without a class.
func makeClaim(name string) claimBuilder {
	return claimBuilder{&corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{rwo},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}}
}

func (b claimBuilder) Size(s string) claimBuilder {
	b.pvc.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse(s)
	return b
}

func (b claimBuilder) Modes(m ...corev1.PersistentVolumeAccessMode) claimBuilder {
	b.pvc.Spec.AccessModes = m
	return b
}

func (b claimBuilder) Class(c string) claimBuilder {
	b.pvc.Spec.StorageClassName = &c
	return b
}

func (b claimBuilder) Block() claimBuilder {
	mode := corev1.PersistentVolumeBlock
	b.pvc.Spec.VolumeMode = &mode
	return b
}

func (b claimBuilder) Selector(kv ...string) claimBuilder {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		sel.MatchLabels[kv[i]] = kv[i+1]
	}
	b.pvc.Spec.Selector = sel
	return b
}

// Wants names a volume in spec.volumeName, as a user pre-binding does.
func (b claimBuilder) Wants(volume string) claimBuilder {
	b.pvc.Spec.VolumeName = volume
	return b
}

// Bound marks the claim bound to volume by the controller.
func (b claimBuilder) Bound(volume string) claimBuilder {
	b.pvc.Spec.VolumeName = volume
	metav1.SetMetaDataAnnotation(&b.pvc.ObjectMeta, storagehelpers.AnnBindCompleted, "yes")
	metav1.SetMetaDataAnnotation(&b.pvc.ObjectMeta, storagehelpers.AnnBoundByController, "yes")
	b.pvc.Status.Phase = corev1.ClaimBound
	return b
}

func (b claimBuilder) Annotate(k, v string) claimBuilder {
	metav1.SetMetaDataAnnotation(&b.pvc.ObjectMeta, k, v)
	return b
}

func (b claimBuilder) Obj() *corev1.PersistentVolumeClaim { return b.pvc }
