package server

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRuntimeUID(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "api-uid"}}
	if got := runtimeUID(pod); got != "api-uid" {
		t.Errorf("runtimeUID of a pod = %s, want its UID", got)
	}
	pod.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "static-hash"}
	if got := runtimeUID(pod); got != "static-hash" {
		t.Errorf("runtimeUID of a mirror pod = %s, want its static pod's UID", got)
	}
}
