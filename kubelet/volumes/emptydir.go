package volumes

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// tmpfsSize is the size of a memory-backed volume, as upstream's
// calculateEmptyDirMemorySize: the node's allocatable memory, lowered to
// the pod's memory limit and then to the volume's sizeLimit when they are
// smaller. 0 means no size option (the kernel's default, half the RAM).
func tmpfsSize(pod *corev1.Pod, sizeLimit *resource.Quantity, nodeMemory int64) int64 {
	size := nodeMemory
	lower := func(v int64) {
		if v > 0 && (size <= 0 || v <= size) {
			size = v
		}
	}
	if limit, ok := podMemoryLimit(pod); ok {
		lower(limit)
	}
	if sizeLimit != nil {
		lower(sizeLimit.Value())
	}
	return size
}

// podMemoryLimit is the memory limit of the pod's cgroup: the pod-level
// limit, else, when every container has one, the larger of the sum of the
// app containers' and sidecars' limits and the largest init container's.
func podMemoryLimit(pod *corev1.Pod) (int64, bool) {
	if pod.Spec.Resources != nil {
		if q, ok := pod.Spec.Resources.Limits[corev1.ResourceMemory]; ok {
			return q.Value(), true
		}
	}
	var sum, initMax int64
	for _, c := range pod.Spec.Containers {
		q, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok {
			return 0, false
		}
		sum += q.Value()
	}
	for _, c := range pod.Spec.InitContainers {
		q, ok := c.Resources.Limits[corev1.ResourceMemory]
		if !ok {
			return 0, false
		}
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sum += q.Value()
		} else if q.Value() > initMax {
			initMax = q.Value()
		}
	}
	if initMax > sum {
		sum = initMax
	}
	if pod.Spec.Overhead != nil {
		if q, ok := pod.Spec.Overhead[corev1.ResourceMemory]; ok {
			sum += q.Value()
		}
	}
	return sum, len(pod.Spec.Containers) > 0
}
