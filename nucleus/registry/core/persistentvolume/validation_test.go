package persistentvolume

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

// hostPathSpec is a valid volume spec.
func hostPathSpec() corev1.PersistentVolumeSpec {
	return corev1.PersistentVolumeSpec{
		Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
		AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}},
	}
}

func TestValidateSpec(t *testing.T) {
	nodeAffinity := &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"n"}}},
	}}}}
	tests := []struct {
		name   string
		modify func(*corev1.PersistentVolumeSpec)
		want   []string
	}{
		{name: "valid", modify: func(*corev1.PersistentVolumeSpec) {}},
		{
			name:   "no capacity or access modes",
			modify: func(s *corev1.PersistentVolumeSpec) { s.Capacity, s.AccessModes = nil, nil },
			want:   []string{"spec.accessModes: Required value", "spec.capacity: Required value", "spec.capacity: Unsupported value"},
		},
		{
			name: "zero storage and cpu",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.Capacity = corev1.ResourceList{"storage": resource.MustParse("0"), "cpu": resource.MustParse("1")}
			},
			want: []string{"spec.capacity: Unsupported value", "spec.capacity[storage]: Invalid value"},
		},
		{
			name:   "no source",
			modify: func(s *corev1.PersistentVolumeSpec) { s.HostPath = nil },
			want:   []string{"spec: Required value"},
		},
		{
			name: "two sources",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.NFS = &corev1.NFSVolumeSource{Server: "nfs", Path: "/exports"}
			},
			want: []string{"spec.nfs: Forbidden"},
		},
		{
			name: "bad nfs",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.HostPath, s.NFS = nil, &corev1.NFSVolumeSource{Path: "exports"}
			},
			want: []string{"spec.nfs.path: Invalid value", "spec.nfs.server: Required value"},
		},
		{
			name: "local without node affinity",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.HostPath, s.Local = nil, &corev1.LocalVolumeSource{Path: "/mnt/disk"}
			},
			want: []string{"spec.nodeAffinity: Required value"},
		},
		{
			name: "local",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.HostPath, s.Local, s.NodeAffinity = nil, &corev1.LocalVolumeSource{Path: "/mnt/disk"}, nodeAffinity
			},
		},
		{
			name: "csi without handle",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.HostPath, s.CSI = nil, &corev1.CSIPersistentVolumeSource{Driver: "csi.example.com"}
			},
			want: []string{"spec.csi.volumeHandle: Required value"},
		},
		{
			name: "policies and modes",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.PersistentVolumeReclaimPolicy = "Keep"
				s.VolumeMode = ptr.To(corev1.PersistentVolumeMode("Raw"))
				s.StorageClassName = "Fast_SSD"
				s.HostPath.Path = "/data/../etc"
			},
			want: []string{"spec.hostPath.path: Invalid value", "spec.persistentVolumeReclaimPolicy: Unsupported value",
				"spec.storageClassName: Invalid value", "spec.volumeMode: Unsupported value"},
		},
		{
			name: "recycling the root",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.HostPath.Path, s.PersistentVolumeReclaimPolicy = "/", corev1.PersistentVolumeReclaimRecycle
			},
			want: []string{"spec.persistentVolumeReclaimPolicy: Forbidden"},
		},
		{
			name:   "attributes class without CSI",
			modify: func(s *corev1.PersistentVolumeSpec) { s.VolumeAttributesClassName = ptr.To("") },
			want:   []string{"spec.csi: Required value", "spec.volumeAttributesClassName: Required value"},
		},
		{
			name: "attributes class",
			modify: func(s *corev1.PersistentVolumeSpec) {
				s.HostPath, s.CSI = nil, &corev1.CSIPersistentVolumeSource{Driver: "csi.example.com", VolumeHandle: "v"}
				s.VolumeAttributesClassName = ptr.To("gold")
			},
		},
		{
			name:   "empty node affinity",
			modify: func(s *corev1.PersistentVolumeSpec) { s.NodeAffinity = &corev1.VolumeNodeAffinity{} },
			want:   []string{"spec.nodeAffinity.required: Required value"},
		},
	}
	for _, tt := range tests {
		spec := hostPathSpec()
		tt.modify(&spec)
		got := validationtest.Summary(ValidateSpec(&spec, field.NewPath("spec")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateUpdate(t *testing.T) {
	old := &corev1.PersistentVolume{Spec: hostPathSpec()}
	resized := old.DeepCopy()
	resized.Spec.Capacity[corev1.ResourceStorage] = resource.MustParse("20Gi")
	resized.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "data"}
	if errs := ValidateUpdate(resized, old); len(errs) != 0 {
		t.Errorf("capacity and claim change refused: %v", errs)
	}
	moved := old.DeepCopy()
	moved.Spec.HostPath.Path = "/elsewhere"
	moved.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeBlock)
	got := validationtest.Summary(ValidateUpdate(moved, old))
	if diff := cmp.Diff([]string{"spec.persistentvolumesource: Forbidden", "volumeMode: Invalid value"}, got); diff != "" {
		t.Errorf("source change (-want +got)\n%s", diff)
	}
}
