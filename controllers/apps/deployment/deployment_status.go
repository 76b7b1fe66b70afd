/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"fmt"
	"math"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// Condition reasons, as upstream's deployment controller sets them.
const (
	// Progressing.
	ReplicaSetUpdatedReason = "ReplicaSetUpdated"
	FailedRSCreateReason    = "ReplicaSetCreateError"
	NewReplicaSetReason     = "NewReplicaSetCreated"
	FoundNewRSReason        = "FoundNewReplicaSet"
	NewRSAvailableReason    = "NewReplicaSetAvailable"
	TimedOutReason          = "ProgressDeadlineExceeded"
	PausedDeployReason      = "DeploymentPaused"
	ResumedDeployReason     = "DeploymentResumed"

	// Available.
	MinimumReplicasAvailable   = "MinimumReplicasAvailable"
	MinimumReplicasUnavailable = "MinimumReplicasUnavailable"
)

// newCondition returns a condition that changed now.
func newCondition(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, message string, now time.Time) appsv1.DeploymentCondition {
	ts := metav1.NewTime(now)
	return appsv1.DeploymentCondition{
		Type:               t,
		Status:             status,
		LastUpdateTime:     ts,
		LastTransitionTime: ts,
		Reason:             reason,
		Message:            message,
	}
}

// getCondition returns a copy of the condition of the given type, or nil.
func getCondition(status appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			c := status.Conditions[i]
			return &c
		}
	}
	return nil
}

// setCondition puts a condition into the status. A condition with the same
// status and reason as the present one is not touched at all (its
// lastUpdateTime stays); one with the same status keeps lastTransitionTime.
// The condition moves to the end of the list, as upstream's does.
func setCondition(status *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := getCondition(*status, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(status, c.Type)
	status.Conditions = append(status.Conditions, c)
}

// removeCondition drops the condition of the given type.
func removeCondition(status *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	var kept []appsv1.DeploymentCondition
	for _, c := range status.Conditions {
		if c.Type != t {
			kept = append(kept, c)
		}
	}
	status.Conditions = kept
}

// replicaSetToDeploymentCondition promotes a ReplicaSet condition.
func replicaSetToDeploymentCondition(c appsv1.ReplicaSetCondition) appsv1.DeploymentCondition {
	return appsv1.DeploymentCondition{
		Type:               appsv1.DeploymentConditionType(c.Type),
		Status:             c.Status,
		LastTransitionTime: c.LastTransitionTime,
		LastUpdateTime:     c.LastTransitionTime,
		Reason:             c.Reason,
		Message:            c.Message,
	}
}

// hasProgressDeadline reports whether progress is to be checked: a
// progressDeadlineSeconds below MaxInt32 is set.
func hasProgressDeadline(d *stratav1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

// calculateStatus computes the counts of the status from the ReplicaSets
// and the Available condition; the other conditions and collisionCount are
// carried over from d.Status.
func calculateStatus(allRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet, d *stratav1.Deployment, now time.Time) stratav1.DeploymentStatus {
	available := availableReplicaCount(allRSs)
	unavailable := max(replicaCount(allRSs)-available, 0)

	status := stratav1.DeploymentStatus{
		DeploymentStatus: appsv1.DeploymentStatus{
			ObservedGeneration:  d.Generation,
			Replicas:            actualReplicaCount(allRSs),
			UpdatedReplicas:     actualReplicaCount([]*stratav1.ReplicaSet{newRS}),
			ReadyReplicas:       readyReplicaCount(allRSs),
			AvailableReplicas:   available,
			UnavailableReplicas: unavailable,
			TerminatingReplicas: terminatingReplicaCount(allRSs),
			CollisionCount:      d.Status.CollisionCount,
		},
		Selector: metav1.FormatLabelSelector(d.Spec.Selector),
	}
	for _, c := range d.Status.Conditions {
		status.Conditions = append(status.Conditions, c)
	}

	if available >= desiredReplicas(d)-maxUnavailable(d) {
		setCondition(&status.DeploymentStatus, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, MinimumReplicasAvailable, "Deployment has minimum availability.", now))
	} else {
		setCondition(&status.DeploymentStatus, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, MinimumReplicasUnavailable, "Deployment does not have minimum availability.", now))
	}
	return status
}

// deploymentComplete reports whether the Deployment has all its replicas
// updated and available, with nothing old left, for its latest spec.
func deploymentComplete(d *stratav1.Deployment, status *stratav1.DeploymentStatus) bool {
	n := desiredReplicas(d)
	return status.UpdatedReplicas == n &&
		status.Replicas == n &&
		status.AvailableReplicas == n &&
		status.ObservedGeneration >= d.Generation
}

// deploymentProgressing reports whether the new status shows progress over
// the Deployment's current one: more updated, ready or available pods, or
// fewer old pods.
func deploymentProgressing(d *stratav1.Deployment, status *stratav1.DeploymentStatus) bool {
	old := d.Status
	oldOld := old.Replicas - old.UpdatedReplicas
	newOld := status.Replicas - status.UpdatedReplicas
	return status.UpdatedReplicas > old.UpdatedReplicas ||
		newOld < oldOld ||
		status.ReadyReplicas > old.ReadyReplicas ||
		status.AvailableReplicas > old.AvailableReplicas
}

// deploymentTimedOut reports whether the Progressing condition of the new
// status has not been updated for progressDeadlineSeconds.
func deploymentTimedOut(d *stratav1.Deployment, status *stratav1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := getCondition(status.DeploymentStatus, appsv1.DeploymentProgressing)
	if c == nil {
		return false
	}
	// A finished rollout does not time out: the condition catches up with a
	// new ReplicaSet on a later sync.
	if c.Reason == NewRSAvailableReason {
		return false
	}
	if c.Reason == TimedOutReason {
		return true
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	return c.LastUpdateTime.Add(deadline).Before(now)
}

// rolloutStatus is the status of a Deployment during a rollout: the counts
// and Available condition of calculateStatus, the Progressing condition
// (when a progress deadline is set) and the ReplicaFailure condition of the
// ReplicaSets.
func rolloutStatus(allRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet, d *stratav1.Deployment, now time.Time) stratav1.DeploymentStatus {
	status := calculateStatus(allRSs, newRS, d, now)

	if !hasProgressDeadline(d) {
		removeCondition(&status.DeploymentStatus, appsv1.DeploymentProgressing)
	}

	cur := getCondition(d.Status.DeploymentStatus, appsv1.DeploymentProgressing)
	complete := status.Replicas == status.UpdatedReplicas && cur != nil && cur.Reason == NewRSAvailableReason
	if hasProgressDeadline(d) && !complete {
		name := func(deploymentFormat, replicaSetFormat string) string {
			if newRS != nil {
				return fmt.Sprintf(replicaSetFormat, newRS.Name)
			}
			return fmt.Sprintf(deploymentFormat, d.Name)
		}
		switch {
		case deploymentComplete(d, &status):
			msg := name("Deployment %q has successfully progressed.", "ReplicaSet %q has successfully progressed.")
			setCondition(&status.DeploymentStatus, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewRSAvailableReason, msg, now))

		case deploymentProgressing(d, &status):
			// Progress refreshes lastUpdateTime even when the reason is
			// unchanged, which setCondition would not do.
			msg := name("Deployment %q is progressing.", "ReplicaSet %q is progressing.")
			c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, msg, now)
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					c.LastTransitionTime = cur.LastTransitionTime
				}
				removeCondition(&status.DeploymentStatus, appsv1.DeploymentProgressing)
			}
			setCondition(&status.DeploymentStatus, c)

		case deploymentTimedOut(d, &status, now):
			msg := name("Deployment %q has timed out progressing.", "ReplicaSet %q has timed out progressing.")
			setCondition(&status.DeploymentStatus, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, TimedOutReason, msg, now))
		}
	}

	if failures := replicaFailures(allRSs, newRS); len(failures) > 0 {
		setCondition(&status.DeploymentStatus, failures[0])
	} else {
		removeCondition(&status.DeploymentStatus, appsv1.DeploymentReplicaFailure)
	}
	return status
}

// replicaFailures returns the ReplicaFailure conditions of the new
// ReplicaSet or, if it has none, of all ReplicaSets.
func replicaFailures(allRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet) []appsv1.DeploymentCondition {
	collect := func(rss []*stratav1.ReplicaSet) []appsv1.DeploymentCondition {
		var out []appsv1.DeploymentCondition
		for _, rs := range rss {
			if rs == nil {
				continue
			}
			for _, c := range rs.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure {
					out = append(out, replicaSetToDeploymentCondition(c))
				}
			}
		}
		return out
	}
	if c := collect([]*stratav1.ReplicaSet{newRS}); len(c) > 0 {
		return c
	}
	return collect(allRSs)
}

// progressCheckAfter returns when the Deployment must be synced again to
// notice that its progress deadline passed, given the status just
// computed; false when no check is due (no deadline, no Progressing
// condition, the rollout is complete or already timed out). Upstream
// requeues a complete Deployment that lost pods with a backoff, to no
// effect: its Progressing condition is not re-estimated until a new
// rollout; here it is not requeued.
func progressCheckAfter(d *stratav1.Deployment, status *stratav1.DeploymentStatus, now time.Time) (time.Duration, bool) {
	c := getCondition(status.DeploymentStatus, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || c == nil {
		return 0, false
	}
	// A finished rollout (even one that lost pods since) cannot time out,
	// nor can one that already did.
	if deploymentComplete(d, status) || c.Reason == TimedOutReason || c.Reason == NewRSAvailableReason {
		return 0, false
	}
	after := c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	if after < time.Second {
		return time.Second, true
	}
	// A second more, so that the check falls after the deadline.
	return after + time.Second, true
}

// setPausedCondition records a pause or resume in the Progressing
// condition (status Unknown), so that the time spent paused does not count
// against the progress deadline. A timed-out condition is kept. It reports
// whether the status changed.
func setPausedCondition(d *stratav1.Deployment, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := getCondition(d.Status.DeploymentStatus, appsv1.DeploymentProgressing)
	if c != nil && c.Reason == TimedOutReason {
		return false
	}
	pausedExists := c != nil && c.Reason == PausedDeployReason
	switch {
	case d.Spec.Paused && !pausedExists:
		setCondition(&d.Status.DeploymentStatus, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedDeployReason, "Deployment is paused", now))
		return true
	case !d.Spec.Paused && pausedExists:
		setCondition(&d.Status.DeploymentStatus, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ResumedDeployReason, "Deployment is resumed", now))
		return true
	}
	return false
}
