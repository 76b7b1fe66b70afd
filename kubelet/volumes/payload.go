package volumes

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// defaultMode is the mode of projected files when the volume names none
// (the API's default for configMap, secret, downwardAPI and projected
// volumes).
const defaultMode int32 = 0o644

// modeOr is *mode, or def when unset.
func modeOr(mode *int32, def int32) int32 {
	if mode != nil {
		return *mode
	}
	return def
}

// configMapPayload is what a configMap volume (or projection) shows: every
// key as a file when items is empty, else the items at their paths with
// their modes. A key items name that the ConfigMap lacks is an error unless
// the volume is optional, as upstream's MakePayload.
func configMapPayload(items []corev1.KeyToPath, cm *corev1.ConfigMap, mode int32, optional bool) (map[string]FileProjection, error) {
	payload := make(map[string]FileProjection, len(cm.Data)+len(cm.BinaryData))
	if len(items) == 0 {
		for k, v := range cm.Data {
			payload[k] = FileProjection{Data: []byte(v), Mode: mode}
		}
		for k, v := range cm.BinaryData {
			payload[k] = FileProjection{Data: v, Mode: mode}
		}
		return payload, nil
	}
	for _, item := range items {
		var data []byte
		if s, ok := cm.Data[item.Key]; ok {
			data = []byte(s)
		} else if b, ok := cm.BinaryData[item.Key]; ok {
			data = b
		} else {
			if optional {
				continue
			}
			return nil, fmt.Errorf("configmap references non-existent config key: %s", item.Key)
		}
		payload[item.Path] = FileProjection{Data: data, Mode: modeOr(item.Mode, mode)}
	}
	return payload, nil
}

// secretPayload is configMapPayload for a Secret.
func secretPayload(items []corev1.KeyToPath, s *corev1.Secret, mode int32, optional bool) (map[string]FileProjection, error) {
	payload := make(map[string]FileProjection, len(s.Data))
	if len(items) == 0 {
		for k, v := range s.Data {
			payload[k] = FileProjection{Data: v, Mode: mode}
		}
		return payload, nil
	}
	for _, item := range items {
		data, ok := s.Data[item.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("references non-existent secret key: %s", item.Key)
		}
		payload[item.Path] = FileProjection{Data: data, Mode: modeOr(item.Mode, mode)}
	}
	return payload, nil
}

// downwardAPIPayload is what a downwardAPI volume (or projection) shows:
// each item's fieldRef or resourceFieldRef, as upstream's CollectData.
// allocatable answers limits a container does not set.
func downwardAPIPayload(items []corev1.DownwardAPIVolumeFile, pod *corev1.Pod, mode int32, allocatable corev1.ResourceList) (map[string]FileProjection, error) {
	payload := make(map[string]FileProjection, len(items))
	var errs []error
	for _, item := range items {
		f := FileProjection{Mode: modeOr(item.Mode, mode)}
		switch {
		case item.FieldRef != nil:
			v, err := fieldPathValue(pod, item.FieldRef.FieldPath)
			if err != nil {
				errs = append(errs, err)
			}
			f.Data = []byte(v)
		case item.ResourceFieldRef != nil:
			v, err := containerResourceValue(pod, item.ResourceFieldRef, allocatable)
			if err != nil {
				errs = append(errs, err)
			}
			f.Data = []byte(v)
		}
		payload[filepath.Clean(item.Path)] = f
	}
	return payload, utilerrors.NewAggregate(errs)
}

// fieldPathValue is a pod's metadata field as the downward API shows it
// (upstream's ExtractFieldPathAsString): labels and annotations as sorted
// key="value" lines, or one of them by subscript.
func fieldPathValue(pod *corev1.Pod, path string) (string, error) {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %v", path)
}

// subscript parses `prefix['key']`.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

// formatMap is key="value" lines, sorted by key, without a final newline.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

// containerResourceValue is a container's request or limit in units of the
// divisor, rounded up; limits of cpu, memory and ephemeral-storage the
// container does not set are the node's allocatable.
func containerResourceValue(pod *corev1.Pod, ref *corev1.ResourceFieldSelector, allocatable corev1.ResourceList) (string, error) {
	var c *corev1.Container
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == ref.ContainerName {
				c = &list[i]
			}
		}
	}
	if c == nil {
		return "", fmt.Errorf("container %s not found", ref.ContainerName)
	}
	kind, name, _ := strings.Cut(ref.Resource, ".")
	resourceName := corev1.ResourceName(name)
	var list corev1.ResourceList
	switch kind {
	case "limits":
		list = c.Resources.Limits
	case "requests":
		list = c.Resources.Requests
	}
	supported := resourceName == corev1.ResourceCPU || resourceName == corev1.ResourceMemory ||
		resourceName == corev1.ResourceEphemeralStorage || strings.HasPrefix(name, corev1.ResourceHugePagesPrefix)
	if (kind != "limits" && kind != "requests") || !supported {
		return "", fmt.Errorf("unsupported container resource : %v", ref.Resource)
	}
	q, set := list[resourceName]
	if !set && kind == "limits" && !strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
		q, set = allocatable[resourceName]
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if !set {
		return "0", nil
	}
	if resourceName == corev1.ResourceCPU {
		return fmt.Sprint(int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))), nil
	}
	return fmt.Sprint(int64(math.Ceil(float64(q.Value()) / float64(divisor.Value())))), nil
}
