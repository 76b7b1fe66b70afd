package volumes

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func TestTmpfsSize(t *testing.T) {
	const mi = 1 << 20
	withLimits := func(limits ...string) *corev1.Pod {
		pod := &corev1.Pod{}
		for _, l := range limits {
			c := corev1.Container{}
			if l != "" {
				c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(l)}
			}
			pod.Spec.Containers = append(pod.Spec.Containers, c)
		}
		return pod
	}
	withInit := func(pod *corev1.Pod, limit string, sidecar bool) *corev1.Pod {
		c := corev1.Container{Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)}}}
		if sidecar {
			c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		}
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
		return pod
	}
	podLevel := withLimits("")
	podLevel.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("300Mi")}}

	tests := []struct {
		name       string
		pod        *corev1.Pod
		sizeLimit  string
		nodeMemory int64
		want       int64
	}{
		{name: "nothing known: the kernel's default", pod: withLimits(""), want: 0},
		{name: "the node's memory", pod: withLimits(""), nodeMemory: 8192 * mi, want: 8192 * mi},
		{name: "the pod's limit", pod: withLimits("100Mi", "200Mi"), nodeMemory: 8192 * mi, want: 300 * mi},
		{name: "no pod limit when a container has none", pod: withLimits("100Mi", ""), nodeMemory: 8192 * mi, want: 8192 * mi},
		{name: "sizeLimit below the pod's limit", pod: withLimits("100Mi", "200Mi"), sizeLimit: "64Mi", nodeMemory: 8192 * mi, want: 64 * mi},
		{name: "sizeLimit above the pod's limit", pod: withLimits("100Mi"), sizeLimit: "1Gi", nodeMemory: 8192 * mi, want: 100 * mi},
		{name: "sizeLimit alone", pod: withLimits(""), sizeLimit: "64Mi", want: 64 * mi},
		{name: "a larger init container", pod: withInit(withLimits("100Mi"), "500Mi", false), want: 500 * mi},
		{name: "sidecars add up", pod: withInit(withLimits("100Mi"), "50Mi", true), want: 150 * mi},
		{name: "pod-level limit", pod: podLevel, nodeMemory: 8192 * mi, want: 300 * mi},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var limit *resource.Quantity
			if tt.sizeLimit != "" {
				limit = ptr.To(resource.MustParse(tt.sizeLimit))
			}
			if got := tmpfsSize(tt.pod, limit, tt.nodeMemory); got != tt.want {
				t.Errorf("tmpfsSize = %d, want %d", got, tt.want)
			}
		})
	}
}
