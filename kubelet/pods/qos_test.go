package pods

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestComputeQOSClass(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want corev1.PodQOSClass
	}{
		{"no resources", makePod("p").Containers("a").Obj(), corev1.PodQOSBestEffort},
		{"zero requests", makePod("p").Containers("a").Resources("a", "cpu=0", "").Obj(), corev1.PodQOSBestEffort},
		{"other resources only", makePod("p").Containers("a").Resources("a", "ephemeral-storage=1Gi", "ephemeral-storage=1Gi").Obj(), corev1.PodQOSBestEffort},
		{"limits equal requests", makePod("p").Containers("a").Resources("a", "cpu=1,memory=1Gi", "cpu=1,memory=1Gi").Obj(), corev1.PodQOSGuaranteed},
		{"limits only (requests default to them)", makePod("p").Containers("a").Resources("a", "", "cpu=1,memory=1Gi").Obj(), corev1.PodQOSBurstable},
		{"requests below limits", makePod("p").Containers("a").Resources("a", "cpu=500m,memory=1Gi", "cpu=1,memory=1Gi").Obj(), corev1.PodQOSBurstable},
		{"memory limit only", makePod("p").Containers("a").Resources("a", "memory=1Gi", "memory=1Gi").Obj(), corev1.PodQOSBurstable},
		{"one guaranteed, one best effort", makePod("p").Containers("a", "b").Resources("a", "cpu=1,memory=1Gi", "cpu=1,memory=1Gi").Obj(), corev1.PodQOSBurstable},
		{"all guaranteed, init too", makePod("p").Init("i").Containers("a").
			Resources("i", "cpu=1,memory=1Gi", "cpu=1,memory=1Gi").
			Resources("a", "cpu=2,memory=2Gi", "cpu=2,memory=2Gi").Obj(), corev1.PodQOSGuaranteed},
		{"init container without limits", makePod("p").Init("i").Containers("a").
			Resources("a", "cpu=2,memory=2Gi", "cpu=2,memory=2Gi").Obj(), corev1.PodQOSBurstable},
		{"pod-level resources win", func() *corev1.Pod {
			pod := makePod("p").Containers("a").Obj()
			pod.Spec.Resources = &corev1.ResourceRequirements{Requests: resourceList("cpu=1,memory=1Gi"), Limits: resourceList("cpu=1,memory=1Gi")}
			return pod
		}(), corev1.PodQOSGuaranteed},
		{"pod-level requests only", func() *corev1.Pod {
			pod := makePod("p").Containers("a").Obj()
			pod.Spec.Resources = &corev1.ResourceRequirements{Requests: resourceList("cpu=1")}
			return pod
		}(), corev1.PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ComputeQOSClass(tt.pod); got != tt.want {
				t.Errorf("ComputeQOSClass() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestQOSClassKeepsTheStatusOne(t *testing.T) {
	pod := makePod("p").Containers("a").Obj()
	pod.Status.QOSClass = corev1.PodQOSGuaranteed
	if got := QOSClass(pod); got != corev1.PodQOSGuaranteed {
		t.Errorf("QOSClass() = %s, want the status's Guaranteed", got)
	}
}
