package persistentvolumeclaim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func TestRow(t *testing.T) {
	pending := claim("1Gi")
	pending.Spec.StorageClassName = ptr.To("standard")
	pending.Status.Phase = corev1.ClaimPending
	want := []interface{}{"data", "Pending", "", "", "", "standard", "<unset>", "<unknown>", "Filesystem"}
	if diff := cmp.Diff(want, Row(pending)); diff != "" {
		t.Errorf("pending claim (-want +got)\n%s", diff)
	}

	bound := claim("1Gi")
	bound.Spec.VolumeName = "pv-1"
	bound.Spec.VolumeAttributesClassName = ptr.To("gold")
	bound.Status = corev1.PersistentVolumeClaimStatus{
		Phase:       corev1.ClaimBound,
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce},
		Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")},
	}
	want = []interface{}{"data", "Bound", "pv-1", "2Gi", "RWO,RWX", "", "gold", "<unknown>", "Filesystem"}
	if diff := cmp.Diff(want, Row(bound)); diff != "" {
		t.Errorf("bound claim (-want +got)\n%s", diff)
	}
}
