/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// Reasons of the ReplicaFailure condition, which are also the reasons of
// the Warning events of failed pod creations and deletions.
const (
	reasonFailedCreate = "FailedCreate"
	reasonFailedDelete = "FailedDelete"
)

// availabilityCheckSlack is added to the time a pod becomes available
// before the ReplicaSet is looked at again, against clock skew.
const availabilityCheckSlack = time.Second

// computeStatus is the status of rs given its active and terminating pods
// (both already claimed), the error of this reconcile's attempt to create or
// delete pods (nil if it succeeded or did not run) and the current time.
//
// observedGeneration advances only when manageErr is nil. The ReplicaFailure
// condition is present exactly when manageErr is not nil; an existing one
// with the same reason keeps its transition time and message, as upstream.
func computeStatus(rs *stratav1.ReplicaSet, active, terminating []*corev1.Pod, manageErr error, now time.Time) stratav1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	templateLabels := labels.SelectorFromValidatedSet(labels.Set(rs.Spec.Template.Labels))
	var fullyLabeled, ready, available int32
	for _, pod := range active {
		if templateLabels.Matches(labels.Set(pod.Labels)) {
			fullyLabeled++
		}
		if isPodReady(pod) {
			ready++
			if isPodAvailable(pod, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	st.Replicas = int32(len(active))
	st.FullyLabeledReplicas = fullyLabeled
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.TerminatingReplicas = ptr.To(int32(len(terminating)))
	st.Selector = metav1.FormatLabelSelector(rs.Spec.Selector)
	if manageErr == nil {
		st.ObservedGeneration = rs.Generation
	}
	st.Conditions = replicaFailureConditions(st.Conditions, rs, len(active), manageErr, now)
	return st
}

// replicaFailureConditions returns conds with the ReplicaFailure condition
// set from manageErr: FailedCreate when rs had too few pods, FailedDelete
// when it had too many; removed when manageErr is nil.
func replicaFailureConditions(conds []appsv1.ReplicaSetCondition, rs *stratav1.ReplicaSet, activeCount int, manageErr error, now time.Time) []appsv1.ReplicaSetCondition {
	if manageErr == nil {
		return withoutCondition(conds, appsv1.ReplicaSetReplicaFailure)
	}
	reason := ""
	switch diff := activeCount - int(desiredReplicas(rs)); {
	case diff < 0:
		reason = reasonFailedCreate
	case diff > 0:
		reason = reasonFailedDelete
	}
	for _, c := range conds {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue && c.Reason == reason {
			return conds
		}
	}
	return append(withoutCondition(conds, appsv1.ReplicaSetReplicaFailure), appsv1.ReplicaSetCondition{
		Type:               appsv1.ReplicaSetReplicaFailure,
		Status:             corev1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(now),
		Reason:             reason,
		Message:            manageErr.Error(),
	})
}

func withoutCondition(conds []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) []appsv1.ReplicaSetCondition {
	var out []appsv1.ReplicaSetCondition
	for _, c := range conds {
		if c.Type != t {
			out = append(out, c)
		}
	}
	return out
}

// nextAvailabilityCheck returns when rs should be looked at again for its
// ready pods to be counted available: the time until the first ready but not
// yet available pod has been ready for minReadySeconds (plus a little slack),
// or minReadySeconds when no such time is known. It returns 0 when there is
// nothing to wait for.
func nextAvailabilityCheck(rs *stratav1.ReplicaSet, active []*corev1.Pod, now time.Time) time.Duration {
	if rs.Spec.MinReadySeconds <= 0 {
		return 0
	}
	minReady := time.Duration(rs.Spec.MinReadySeconds) * time.Second
	var next time.Duration
	waiting := false
	for _, pod := range active {
		if !isPodReady(pod) || isPodAvailable(pod, rs.Spec.MinReadySeconds, now) {
			continue
		}
		waiting = true
		c := podReadyCondition(pod)
		if c.LastTransitionTime.IsZero() {
			continue
		}
		d := c.LastTransitionTime.Add(minReady).Sub(now) + availabilityCheckSlack
		if next == 0 || d < next {
			next = d
		}
	}
	if !waiting {
		return 0
	}
	if next == 0 {
		return minReady
	}
	return next
}

// desiredReplicas is spec.replicas, 1 when unset (the API default).
func desiredReplicas(rs *stratav1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

func podReadyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// isPodReady reports whether pod's Ready condition is True.
func isPodReady(pod *corev1.Pod) bool {
	c := podReadyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// isPodAvailable reports whether pod has been ready for more than
// minReadySeconds at now (upstream's podutil.IsPodAvailable).
func isPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !isPodReady(pod) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	c := podReadyCondition(pod)
	return !c.LastTransitionTime.IsZero() &&
		c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).Before(now)
}
