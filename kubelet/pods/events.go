package pods

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
)

// eventSink records the kubelet's events about a pod and its containers,
// with upstream's reasons and messages. A nil recorder drops them.
type eventSink struct {
	recorder events.EventRecorder
}

func (s *eventSink) pod(pod *corev1.Pod, eventType, reason, action, message string) {
	if s == nil || s.recorder == nil {
		return
	}
	s.recorder.Eventf(podReference(pod, ""), nil, eventType, reason, action, "%s", message)
}

func (s *eventSink) container(pod *corev1.Pod, c *corev1.Container, eventType, reason, action, message string) {
	if s == nil || s.recorder == nil {
		return
	}
	s.recorder.Eventf(podReference(pod, containerFieldPath(&pod.Spec, c.Name)), nil, eventType, reason, action, "%s", message)
}

// podReference points at the pod, or at one of its containers with
// fieldPath, as upstream's container references do.
func podReference(pod *corev1.Pod, fieldPath string) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		Kind:            "Pod",
		APIVersion:      "v1",
		Namespace:       pod.Namespace,
		Name:            pod.Name,
		UID:             pod.UID,
		ResourceVersion: pod.ResourceVersion,
		FieldPath:       fieldPath,
	}
}

// containerFieldPath is "spec.containers{name}" or
// "spec.initContainers{name}".
func containerFieldPath(spec *corev1.PodSpec, name string) string {
	for _, c := range spec.InitContainers {
		if c.Name == name {
			return fmt.Sprintf("spec.initContainers{%s}", name)
		}
	}
	for _, c := range spec.EphemeralContainers {
		if c.Name == name {
			return fmt.Sprintf("spec.ephemeralContainers{%s}", name)
		}
	}
	return fmt.Sprintf("spec.containers{%s}", name)
}

// podFullName is how upstream names a pod in messages: name_namespace(uid).
func podFullName(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}
