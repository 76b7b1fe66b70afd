package persistentvolume

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRow(t *testing.T) {
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-1", Annotations: map[string]string{corev1.BetaStorageClassAnnotation: "legacy"}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteOnce, corev1.ReadOnlyMany},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef:                      &corev1.ObjectReference{Namespace: "ns", Name: "data"},
			StorageClassName:              "standard",
			VolumeMode:                    ptr.To(corev1.PersistentVolumeBlock),
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
	}
	want := []interface{}{"pv-1", "5Gi", "RWO,ROX,RWOP", "Delete", "Bound", "ns/data", "legacy", "<unset>", "", "<unknown>", "Block"}
	if diff := cmp.Diff(want, Row(pv)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	pv.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	if got := Row(pv)[4]; got != "Terminating" {
		t.Errorf("deleted volume status %q, want Terminating", got)
	}
	if len(want) != len(Definition.Columns) {
		t.Errorf("%d cells for %d columns", len(want), len(Definition.Columns))
	}
}

func TestPhaseTransitionTime(t *testing.T) {
	pv := &corev1.PersistentVolume{Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable}}
	Definition.PrepareForCreate(context.Background(), pv)
	if pv.Status.Phase != corev1.VolumePending || pv.Status.LastPhaseTransitionTime == nil {
		t.Fatalf("created status %+v, want Pending with a transition time", pv.Status)
	}
	long := metav1.NewTime(time.Now().Add(-time.Hour))
	old := &corev1.PersistentVolume{Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &long}}

	same := &corev1.PersistentVolume{Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}}
	Definition.PrepareForStatusUpdate(context.Background(), same, old)
	if !same.Status.LastPhaseTransitionTime.Equal(&long) {
		t.Errorf("same phase: transition time %v, want %v", same.Status.LastPhaseTransitionTime, long)
	}
	bound := &corev1.PersistentVolume{Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound, LastPhaseTransitionTime: &long}}
	Definition.PrepareForStatusUpdate(context.Background(), bound, old)
	if !bound.Status.LastPhaseTransitionTime.After(long.Time) {
		t.Errorf("new phase: transition time %v not updated", bound.Status.LastPhaseTransitionTime)
	}
}
