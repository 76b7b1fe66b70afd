package pods

import (
	"encoding/json"
	"hash/fnv"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Labels and annotations the kubelet puts on sandboxes and containers, with
// upstream's keys so that crictl and other tools show them as usual. They
// let a restarted kubelet adopt what the runtime runs.
const (
	PodNameLabel       = "io.kubernetes.pod.name"
	PodNamespaceLabel  = "io.kubernetes.pod.namespace"
	PodUIDLabel        = "io.kubernetes.pod.uid"
	ContainerNameLabel = "io.kubernetes.container.name"

	containerHashAnnotation                     = "io.kubernetes.container.hash"
	containerRestartCountAnnotation             = "io.kubernetes.container.restartCount"
	containerTerminationMessagePathAnnotation   = "io.kubernetes.container.terminationMessagePath"
	containerTerminationMessagePolicyAnnotation = "io.kubernetes.container.terminationMessagePolicy"
	containerTypeAnnotation                     = "io.kubernetes.container.type"
	containerPortsAnnotation                    = "io.kubernetes.container.ports"
	podTerminationGracePeriodAnnotation         = "io.kubernetes.pod.terminationGracePeriod"
	podDeletionGracePeriodAnnotation            = "io.kubernetes.pod.deletionGracePeriod"
)

// Container types in the io.kubernetes.container.type annotation.
const (
	containerTypeInit      = "init"
	containerTypeRegular   = "container"
	containerTypeEphemeral = "ephemeral"
)

// sandboxLabels are the pod's labels plus its identity.
func sandboxLabels(pod *corev1.Pod) map[string]string {
	labels := make(map[string]string, len(pod.Labels)+3)
	for k, v := range pod.Labels {
		labels[k] = v
	}
	labels[PodNameLabel] = pod.Name
	labels[PodNamespaceLabel] = pod.Namespace
	labels[PodUIDLabel] = string(pod.UID)
	return labels
}

// containerLabels identify a container's pod and name.
func containerLabels(pod *corev1.Pod, container *corev1.Container) map[string]string {
	return map[string]string{
		PodNameLabel:       pod.Name,
		PodNamespaceLabel:  pod.Namespace,
		PodUIDLabel:        string(pod.UID),
		ContainerNameLabel: container.Name,
	}
}

// containerAnnotations record what the kubelet needs to read back from a
// container: its spec hash, restart count and termination message
// settings.
func containerAnnotations(pod *corev1.Pod, container *corev1.Container, restartCount int, containerType string) map[string]string {
	annotations := map[string]string{
		containerHashAnnotation:                     HashContainer(container),
		containerRestartCountAnnotation:             strconv.Itoa(restartCount),
		containerTerminationMessagePathAnnotation:   container.TerminationMessagePath,
		containerTerminationMessagePolicyAnnotation: string(container.TerminationMessagePolicy),
		containerTypeAnnotation:                     containerType,
	}
	if pod.DeletionGracePeriodSeconds != nil {
		annotations[podDeletionGracePeriodAnnotation] = strconv.FormatInt(*pod.DeletionGracePeriodSeconds, 10)
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		annotations[podTerminationGracePeriodAnnotation] = strconv.FormatInt(*pod.Spec.TerminationGracePeriodSeconds, 10)
	}
	if len(container.Ports) > 0 {
		if ports, err := json.Marshal(container.Ports); err == nil {
			annotations[containerPortsAnnotation] = string(ports)
		}
	}
	return annotations
}

// HashContainer hashes the fields of a container spec whose change needs
// a new container. As upstream, only the name and the image: the other
// fields of a pod's containers cannot change.
func HashContainer(container *corev1.Container) string {
	h := fnv.New32a()
	fields, _ := json.Marshal(map[string]string{"name": container.Name, "image": container.Image})
	_, _ = h.Write(fields)
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}
