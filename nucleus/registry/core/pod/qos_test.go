package pod

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func resources(pairs ...string) corev1.ResourceList {
	list := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		list[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return list
}

func container(requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func TestComputeQOS(t *testing.T) {
	full := resources("cpu", "1", "memory", "1Gi")
	tests := []struct {
		name string
		spec corev1.PodSpec
		want corev1.PodQOSClass
	}{
		{name: "nothing", spec: corev1.PodSpec{Containers: []corev1.Container{{}}}, want: corev1.PodQOSBestEffort},
		{
			name: "only other resources",
			spec: corev1.PodSpec{Containers: []corev1.Container{container(resources("ephemeral-storage", "1Gi"), nil)}},
			want: corev1.PodQOSBestEffort,
		},
		{
			name: "zero requests",
			spec: corev1.PodSpec{Containers: []corev1.Container{container(resources("cpu", "0"), nil)}},
			want: corev1.PodQOSBestEffort,
		},
		{
			name: "requests equal limits",
			spec: corev1.PodSpec{Containers: []corev1.Container{container(full, full), container(full, full)}},
			want: corev1.PodQOSGuaranteed,
		},
		{
			name: "request below limit",
			spec: corev1.PodSpec{Containers: []corev1.Container{container(resources("cpu", "500m", "memory", "1Gi"), full)}},
			want: corev1.PodQOSBurstable,
		},
		{
			name: "limit without memory",
			spec: corev1.PodSpec{Containers: []corev1.Container{container(resources("cpu", "1"), resources("cpu", "1"))}},
			want: corev1.PodQOSBurstable,
		},
		{
			name: "one container without resources",
			spec: corev1.PodSpec{Containers: []corev1.Container{container(full, full), {}}},
			want: corev1.PodQOSBurstable,
		},
		{
			name: "init container counts",
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{container(resources("memory", "1Gi"), nil)},
				Containers:     []corev1.Container{container(full, full)},
			},
			want: corev1.PodQOSBurstable,
		},
		{
			name: "pod-level resources win",
			spec: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Requests: full, Limits: full},
				Containers: []corev1.Container{{}},
			},
			want: corev1.PodQOSGuaranteed,
		},
		{
			name: "pod-level requests only",
			spec: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Requests: full},
				Containers: []corev1.Container{container(full, full)},
			},
			want: corev1.PodQOSBurstable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ComputeQOS(&corev1.Pod{Spec: tt.spec})); diff != "" {
				t.Errorf("QoS class (-want +got):\n%s", diff)
			}
		})
	}
}
