package pods

import (
	corev1 "k8s.io/api/core/v1"
)

// QOSClass is the pod's quality of service class, as upstream's GetPodQOS:
// the class in its status once set (it never changes), otherwise computed
// from its resources.
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	return ComputeQOSClass(pod)
}

// ComputeQOSClass computes the QoS class from the pod's cpu and memory
// requests and limits (pod-level ones when set, otherwise those of its
// containers and init containers): BestEffort without any, Guaranteed
// when every container limits both and requests equal limits, Burstable
// otherwise.
func ComputeQOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests := corev1.ResourceList{}
	limits := corev1.ResourceList{}
	guaranteed := true

	add := func(sum corev1.ResourceList, list corev1.ResourceList) (found map[corev1.ResourceName]bool) {
		found = map[corev1.ResourceName]bool{}
		for name, q := range list {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
				continue
			}
			if q.Sign() <= 0 {
				continue
			}
			found[name] = true
			total := q.DeepCopy()
			if prev, ok := sum[name]; ok {
				total.Add(prev)
			}
			sum[name] = total
		}
		return found
	}
	limitsBoth := func(found map[corev1.ResourceName]bool) bool {
		return found[corev1.ResourceCPU] && found[corev1.ResourceMemory]
	}

	if pod.Spec.Resources != nil {
		add(requests, pod.Spec.Resources.Requests)
		if len(pod.Spec.Resources.Limits) > 0 && !limitsBoth(add(limits, pod.Spec.Resources.Limits)) {
			guaranteed = false
		}
	} else {
		all := append(append([]corev1.Container{}, pod.Spec.Containers...), pod.Spec.InitContainers...)
		for _, c := range all {
			add(requests, c.Resources.Requests)
			if !limitsBoth(add(limits, c.Resources.Limits)) {
				guaranteed = false
			}
		}
	}

	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
