// Package pod serves core v1 Pods (with status, binding, eviction and
// ephemeralcontainers).
package pod

import (
	"context"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
	"github.com/strata-dev/strata/nucleus/validation"
)

// Definition describes the pods resource.
var Definition = &store.Definition[*corev1.Pod]{
	Resource:   corev1.Resource("pods"),
	Singular:   "pod",
	Namespaced: true,
	New:        func() *corev1.Pod { return &corev1.Pod{} },
	NewList:    func() runtime.Object { return &corev1.PodList{} },
	Validate: func(_ context.Context, pod *corev1.Pod) field.ErrorList {
		return validation.ValidatePodSpec(&pod.Spec, field.NewPath("spec"))
	},
	ValidateUpdate: func(_ context.Context, pod, old *corev1.Pod) field.ErrorList {
		return validation.ValidatePodUpdate(pod, old)
	},
	ValidateCreate: func(_ context.Context, pod *corev1.Pod) field.ErrorList {
		return validation.ValidatePodCreate(pod)
	},
	ValidateStatusUpdate: func(_ context.Context, pod, _ *corev1.Pod) field.ErrorList {
		return validation.ValidatePodStatusUpdate(pod)
	},
	PrepareForCreate:       prepareForCreate,
	PrepareForStatusUpdate: prepareForStatusUpdate,
	WarningsOnCreate: func(_ context.Context, pod *corev1.Pod) []string {
		return validation.PodSpecWarnings(&pod.Spec, field.NewPath("spec"))
	},
	GracefulDelete: func(_ context.Context, pod *corev1.Pod, options *metav1.DeleteOptions) bool {
		return GracePeriod(pod, options)
	},
	Fields:     selectableFields,
	Columns:    columns,
	Row:        row,
	ShortNames: []string{"po"},
	Categories: []string{"all"},
	Status:     true,
}

// prepareForCreate resets the status to what upstream starts a pod with:
// Pending, its QoS class and, for a pod with scheduling gates, a
// PodScheduled=False condition saying so.
func prepareForCreate(_ context.Context, pod *corev1.Pod) {
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: ComputeQOS(pod)}
	if len(pod.Spec.SchedulingGates) > 0 {
		pod.Status.Conditions = []corev1.PodCondition{{
			Type:    corev1.PodScheduled,
			Status:  corev1.ConditionFalse,
			Reason:  corev1.PodReasonSchedulingGated,
			Message: "Scheduling is blocked due to non-empty scheduling gates",
		}}
	}
}

// prepareForStatusUpdate keeps what the status endpoint may not change
// (owner references, the QoS class, computed if the stored pod lacks it)
// and keeps the single and the dual-stack IP fields in step, the first of
// the list winning.
func prepareForStatusUpdate(_ context.Context, pod, old *corev1.Pod) {
	pod.OwnerReferences = old.OwnerReferences
	pod.Status.QOSClass = old.Status.QOSClass
	if pod.Status.QOSClass == "" {
		pod.Status.QOSClass = ComputeQOS(pod)
	}
	s := &pod.Status
	switch {
	case len(s.PodIPs) > 0:
		s.PodIP = s.PodIPs[0].IP
	case s.PodIP != "":
		s.PodIPs = []corev1.PodIP{{IP: s.PodIP}}
	}
	switch {
	case len(s.HostIPs) > 0:
		s.HostIP = s.HostIPs[0].IP
	case s.HostIP != "":
		s.HostIPs = []corev1.HostIP{{IP: s.HostIP}}
	}
}

// GracePeriod decides how gracefully a pod is deleted and stores the
// decision in options.GracePeriodSeconds: the requested period, or the
// pod's terminationGracePeriodSeconds, but 0 (delete at once) for a pod no
// kubelet runs (unscheduled or already terminated); negative periods count
// as 1. It returns false only without options.
func GracePeriod(pod *corev1.Pod, options *metav1.DeleteOptions) bool {
	if options == nil {
		return false
	}
	var period int64
	switch {
	case options.GracePeriodSeconds != nil:
		period = *options.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	options.GracePeriodSeconds = &period
	return true
}

// selectableFields returns the pod fields upstream lets field selectors
// match.
func selectableFields(pod *corev1.Pod) fields.Set {
	ips := make([]string, 0, len(pod.Status.PodIPs))
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	podIP := pod.Status.PodIP
	if len(ips) > 0 {
		podIP = ips[0]
	}
	return fields.Set{
		"spec.nodeName":            pod.Spec.NodeName,
		"spec.restartPolicy":       string(pod.Spec.RestartPolicy),
		"spec.schedulerName":       pod.Spec.SchedulerName,
		"spec.serviceAccountName":  pod.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(pod.Spec.HostNetwork),
		"status.phase":             string(pod.Status.Phase),
		"status.podIP":             podIP,
		"status.podIPs":            strings.Join(ips, ","),
		"status.nominatedNodeName": pod.Status.NominatedNodeName,
	}
}

// setCondition adds or replaces the condition of c's type, observed at the
// pod's generation. The transition time is now unless the status of an
// existing condition stays the same.
func setCondition(pod *corev1.Pod, c corev1.PodCondition, now metav1.Time) {
	c.ObservedGeneration = pod.Generation
	c.LastTransitionTime = now
	for i, old := range pod.Status.Conditions {
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		pod.Status.Conditions[i] = c
		return
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
