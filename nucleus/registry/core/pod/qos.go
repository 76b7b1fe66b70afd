package pod

import corev1 "k8s.io/api/core/v1"

// qosResources are the resources the QoS class is computed from.
var qosResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// ComputeQOS returns the quality of service class of a pod as upstream
// computes it: BestEffort without any CPU or memory request or limit,
// Guaranteed when every container (or the pod-level resources, when set)
// limits both CPU and memory and the totals of requests equal the limits,
// Burstable otherwise. Ephemeral containers do not count.
func ComputeQOS(pod *corev1.Pod) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	if r := pod.Spec.Resources; r != nil {
		add(requests, r.Requests)
		if len(r.Limits) > 0 && !add(limits, r.Limits) {
			guaranteed = false
		}
	} else {
		containers := append(append([]corev1.Container{}, pod.Spec.Containers...), pod.Spec.InitContainers...)
		for _, c := range containers {
			add(requests, c.Resources.Requests)
			if !add(limits, c.Resources.Limits) {
				guaranteed = false
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	for name, req := range requests {
		if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
			guaranteed = false
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// add sums the positive CPU and memory quantities of list into total and
// reports whether list has both.
func add(total, list corev1.ResourceList) bool {
	found := 0
	for _, name := range qosResources {
		q, ok := list[name]
		if !ok || q.Sign() <= 0 {
			continue
		}
		found++
		sum := q.DeepCopy()
		if prev, ok := total[name]; ok {
			sum.Add(prev)
		}
		total[name] = sum
	}
	return found == len(qosResources)
}
