package persistentvolumeclaim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

func claim(storage string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(storage)}},
			VolumeMode:  ptr.To(corev1.PersistentVolumeFilesystem),
		},
	}
}

func TestValidateSpec(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.PersistentVolumeClaimSpec)
		want   []string
	}{
		{name: "valid", modify: func(*corev1.PersistentVolumeClaimSpec) {}},
		{
			name:   "nothing requested",
			modify: func(s *corev1.PersistentVolumeClaimSpec) { s.AccessModes, s.Resources.Requests = nil, nil },
			want:   []string{"spec.accessModes: Required value", "spec.resources[storage]: Required value"},
		},
		{
			name: "zero storage",
			modify: func(s *corev1.PersistentVolumeClaimSpec) {
				s.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("0")
			},
			want: []string{"spec.resources[storage]: Invalid value"},
		},
		{
			name: "bad class, mode and selector",
			modify: func(s *corev1.PersistentVolumeClaimSpec) {
				s.StorageClassName = ptr.To("Fast!")
				s.VolumeMode = ptr.To(corev1.PersistentVolumeMode("Raw"))
				s.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"bad key!": "x"}}
			},
			want: []string{"spec.selector.matchLabels: Invalid value", "spec.storageClassName: Invalid value", "spec.volumeMode: Unsupported value"},
		},
		{name: "empty class", modify: func(s *corev1.PersistentVolumeClaimSpec) { s.StorageClassName = ptr.To("") }},
	}
	for _, tt := range tests {
		pvc := claim("1Gi")
		tt.modify(&pvc.Spec)
		got := validationtest.Summary(ValidateSpec(&pvc.Spec, field.NewPath("spec")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateUpdate(t *testing.T) {
	bound := func(storage, capacity string) *corev1.PersistentVolumeClaim {
		pvc := claim(storage)
		pvc.Spec.VolumeName = "pv-1"
		pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(capacity)}}
		return pvc
	}
	tests := []struct {
		name     string
		old, new *corev1.PersistentVolumeClaim
		want     []string
	}{
		{name: "volume name set once", old: claim("1Gi"), new: func() *corev1.PersistentVolumeClaim { c := claim("1Gi"); c.Spec.VolumeName = "pv-1"; return c }()},
		{
			name: "volume name changed",
			old:  bound("1Gi", "1Gi"),
			new:  func() *corev1.PersistentVolumeClaim { c := bound("1Gi", "1Gi"); c.Spec.VolumeName = "pv-2"; return c }(),
			want: []string{"spec: Forbidden"},
		},
		{name: "bound claim grows", old: bound("1Gi", "1Gi"), new: bound("2Gi", "1Gi")},
		{name: "failed expansion shrinks to above capacity", old: bound("4Gi", "1Gi"), new: bound("2Gi", "1Gi")},
		{
			name: "bound claim shrinks to capacity",
			old:  bound("2Gi", "1Gi"),
			new:  bound("1Gi", "1Gi"),
			want: []string{"spec.resources.requests.storage: Forbidden"},
		},
		{
			name: "bound claim changes attributes class",
			old: func() *corev1.PersistentVolumeClaim {
				c := bound("1Gi", "1Gi")
				c.Spec.VolumeAttributesClassName = ptr.To("silver")
				return c
			}(),
			new: func() *corev1.PersistentVolumeClaim {
				c := bound("1Gi", "1Gi")
				c.Spec.VolumeAttributesClassName = ptr.To("gold")
				return c
			}(),
		},
		{
			name: "attributes class removed",
			old: func() *corev1.PersistentVolumeClaim {
				c := bound("1Gi", "1Gi")
				c.Spec.VolumeAttributesClassName = ptr.To("silver")
				return c
			}(),
			new:  bound("1Gi", "1Gi"),
			want: []string{"spec.volumeAttributesClassName: Forbidden", "spec: Forbidden"},
		},
		{name: "unbound claim grows", old: claim("1Gi"), new: claim("2Gi"), want: []string{"spec: Forbidden"}},
		{
			name: "access modes changed",
			old:  claim("1Gi"),
			new: func() *corev1.PersistentVolumeClaim {
				c := claim("1Gi")
				c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
				return c
			}(),
			want: []string{"spec: Forbidden"},
		},
	}
	for _, tt := range tests {
		got := validationtest.Summary(ValidateUpdate(tt.new, tt.old))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}
