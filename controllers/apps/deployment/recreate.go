/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// The Recreate strategy: scale every old ReplicaSet to zero, wait until
// none of their pods is left running, then create (or scale up) the new
// ReplicaSet to the full size. Old and new pods never run side by side.

// oldPodsRunning reports whether old pods may still run: old ReplicaSets
// report pods, or a pod controlled by a ReplicaSet other than the new one
// is not in a terminal phase (Unknown counts as running).
func oldPodsRunning(newRS *stratav1.ReplicaSet, oldRSs []*stratav1.ReplicaSet, podsByRS map[types.UID][]*corev1.Pod) bool {
	if actualReplicaCount(oldRSs) > 0 {
		return true
	}
	for uid, pods := range podsByRS {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, pod := range pods {
			if pod.Status.Phase != corev1.PodFailed && pod.Status.Phase != corev1.PodSucceeded {
				return true
			}
		}
	}
	return false
}

// recreateScaleDownSteps scales every active old ReplicaSet to zero.
func recreateScaleDownSteps(oldRSs []*stratav1.ReplicaSet) []scaleStep {
	var steps []scaleStep
	for _, rs := range filterActive(oldRSs) {
		steps = append(steps, scaleStep{rs: rs, replicas: 0, operation: "down"})
	}
	return steps
}

// rolloutRecreate runs one step of a Recreate rollout and returns the
// status to write.
func (s *syncState) rolloutRecreate(ctx context.Context, rsList []*stratav1.ReplicaSet) (stratav1.DeploymentStatus, error) {
	// Do not create the new ReplicaSet yet: nothing may scale up before the
	// old pods are gone.
	newRS, oldRSs, err := s.getAllReplicaSetsAndSyncRevision(ctx, rsList, false)
	if err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	allRSs := append(append([]*stratav1.ReplicaSet{}, oldRSs...), newRS)

	if steps := recreateScaleDownSteps(oldRSs); len(steps) > 0 {
		if _, err := s.applySteps(ctx, steps); err != nil {
			return stratav1.DeploymentStatus{}, err
		}
		return s.rolloutStatus(allRSs, newRS), nil
	}

	podsByRS, err := s.r.podsByReplicaSet(ctx, s.d, rsList)
	if err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	if oldPodsRunning(newRS, oldRSs, podsByRS) {
		return s.rolloutStatus(allRSs, newRS), nil
	}

	if newRS == nil {
		newRS, oldRSs, err = s.getAllReplicaSetsAndSyncRevision(ctx, rsList, true)
		if err != nil {
			return stratav1.DeploymentStatus{}, err
		}
		allRSs = append(append([]*stratav1.ReplicaSet{}, oldRSs...), newRS)
	}

	if desired := desiredReplicas(s.d); specReplicas(newRS) != desired {
		step := scaleStep{rs: newRS, replicas: desired, operation: direction(specReplicas(newRS), desired)}
		if _, err := s.applySteps(ctx, []scaleStep{step}); err != nil {
			return stratav1.DeploymentStatus{}, err
		}
	}

	if deploymentComplete(s.d, &s.d.Status) {
		if err := s.cleanupDeployment(ctx, oldRSs); err != nil {
			return stratav1.DeploymentStatus{}, err
		}
	}
	return s.rolloutStatus(allRSs, newRS), nil
}

// podsByReplicaSet lists the pods of the Deployment's selector, grouped by
// the UID of the ReplicaSet of rsList that controls them.
func (r *Reconciler) podsByReplicaSet(ctx context.Context, d *stratav1.Deployment, rsList []*stratav1.ReplicaSet) (map[types.UID][]*corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("invalid selector: %w", err)
	}
	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	byRS := make(map[types.UID][]*corev1.Pod, len(rsList))
	for _, rs := range rsList {
		byRS[rs.UID] = nil
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			continue
		}
		if _, ok := byRS[ref.UID]; ok {
			byRS[ref.UID] = append(byRS[ref.UID], pod)
		}
	}
	return byRS, nil
}
