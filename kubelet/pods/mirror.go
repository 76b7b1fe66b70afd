package pods

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// StaticPods tells the pods controller which static pods the node's
// manifests define (kubelet/static implements it). A static pod runs
// through its mirror pod in the API; with StaticPods, deleting the mirror
// pod does not stop the static pod while its manifest still defines it:
// the static pod source creates the mirror pod again and the containers
// keep running, as upstream.
type StaticPods interface {
	// HasStaticPod tells whether the static pod with hash (its UID, the
	// kubernetes.io/config.mirror annotation of its mirror pod) is still
	// defined.
	HasStaticPod(hash string) bool
}

// IsMirrorPod tells whether a pod is the mirror of a static pod.
func IsMirrorPod(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]
	return ok
}

// PodUID is the UID the kubelet runs a pod under: for a mirror pod the
// static pod's (its kubernetes.io/config.mirror annotation), for any other
// pod its own. As upstream, a static pod's sandbox and containers are
// labelled, and its directories named, with the static pod's UID, so that
// they outlive a mirror pod deleted and created again.
func PodUID(pod *corev1.Pod) types.UID {
	if hash := pod.Annotations[corev1.MirrorPodAnnotationKey]; hash != "" {
		return types.UID(hash)
	}
	return pod.UID
}

// runtimeView is the pod as its worker runs it: a mirror pod with the
// static pod's UID.
func runtimeView(pod *corev1.Pod) *corev1.Pod {
	uid := PodUID(pod)
	if uid == pod.UID {
		return pod
	}
	view := pod.DeepCopy()
	view.UID = uid
	return view
}
