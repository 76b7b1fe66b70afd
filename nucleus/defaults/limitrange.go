package defaults

import corev1 "k8s.io/api/core/v1"

// LimitRange applies upstream's defaults to every item.
func LimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		LimitRangeItem(&lr.Spec.Limits[i])
	}
}

// LimitRangeItem defaults a Container item as upstream: the default limit
// falls back to the max, the default request to the default limit, then to
// the min.
func LimitRangeItem(item *corev1.LimitRangeItem) {
	if item.Type != corev1.LimitTypeContainer {
		return
	}
	if item.Default == nil {
		item.Default = corev1.ResourceList{}
	}
	if item.DefaultRequest == nil {
		item.DefaultRequest = corev1.ResourceList{}
	}
	for k, v := range item.Max {
		if _, ok := item.Default[k]; !ok {
			item.Default[k] = v.DeepCopy()
		}
	}
	for k, v := range item.Default {
		if _, ok := item.DefaultRequest[k]; !ok {
			item.DefaultRequest[k] = v.DeepCopy()
		}
	}
	for k, v := range item.Min {
		if _, ok := item.DefaultRequest[k]; !ok {
			item.DefaultRequest[k] = v.DeepCopy()
		}
	}
}
