/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// The arithmetic of a rolling update, as pure functions of the Deployment
// and its ReplicaSets. Nothing here talks to the API server.

// scaleStep is one change of a ReplicaSet's spec.replicas the controller is
// to make, in order. rs is the ReplicaSet as observed (never modified);
// several steps may name the same ReplicaSet, and each applies to the result
// of the previous one. operation is "up" or "down" and only shapes the
// ScalingReplicaSet event; a step that does not change the size still
// updates the desired-replicas and max-replicas annotations when they are
// stale.
type scaleStep struct {
	rs        *stratav1.ReplicaSet
	replicas  int32
	operation string
}

// isRollingUpdate reports whether the Deployment uses the RollingUpdate
// strategy (the default when the type is empty).
func isRollingUpdate(d *stratav1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType || d.Spec.Strategy.Type == ""
}

// rollingParams returns maxSurge and maxUnavailable as written, with the
// API's defaults (25% each) for a missing rollingUpdate block.
func rollingParams(d *stratav1.Deployment) (surge, unavailable *intstr.IntOrString) {
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil {
		s, u := intstr.FromString("25%"), intstr.FromString("25%")
		return &s, &u
	}
	return ru.MaxSurge, ru.MaxUnavailable
}

// resolveFenceposts turns maxSurge and maxUnavailable into absolute numbers
// for desired replicas: percentages of surge round up, of unavailability
// round down. If both come out zero, maxUnavailable becomes 1: validation
// forbids both being zero as written, and rounding down must not stall a
// rollout (surge might be blocked by quota).
func resolveFenceposts(maxSurge, maxUnavailable *intstr.IntOrString, desired int32) (int32, int32, error) {
	zero := intstr.FromInt32(0)
	surge, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxSurge, zero), int(desired), true)
	if err != nil {
		return 0, 0, fmt.Errorf("invalid maxSurge: %w", err)
	}
	unavailable, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxUnavailable, zero), int(desired), false)
	if err != nil {
		return 0, 0, fmt.Errorf("invalid maxUnavailable: %w", err)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return int32(surge), int32(unavailable), nil
}

// maxSurge is the number of pods a rolling Deployment may run above its
// desired replicas; zero for Recreate. Invalid values (which validation
// rejects) count as zero.
func maxSurge(d *stratav1.Deployment) int32 {
	if !isRollingUpdate(d) {
		return 0
	}
	s, u := rollingParams(d)
	surge, _, _ := resolveFenceposts(s, u, desiredReplicas(d))
	return surge
}

// maxUnavailable is the number of desired pods a rolling Deployment may
// lack; zero for Recreate or zero replicas, and never above the replicas.
func maxUnavailable(d *stratav1.Deployment) int32 {
	desired := desiredReplicas(d)
	if !isRollingUpdate(d) || desired == 0 {
		return 0
	}
	s, u := rollingParams(d)
	_, unavailable, _ := resolveFenceposts(s, u, desired)
	return min(unavailable, desired)
}

// minAvailable is the number of pods that must stay available during a
// rolling update; zero for Recreate.
func minAvailable(d *stratav1.Deployment) int32 {
	if !isRollingUpdate(d) {
		return 0
	}
	return desiredReplicas(d) - maxUnavailable(d)
}

// newRSNewReplicas is the size the new ReplicaSet may grow to now: for a
// rolling update, as far as the surge allows without exceeding the desired
// replicas; for Recreate, the desired replicas.
func newRSNewReplicas(d *stratav1.Deployment, allRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet) (int32, error) {
	desired := desiredReplicas(d)
	switch {
	case isRollingUpdate(d):
		s, u := rollingParams(d)
		surge, _, err := resolveFenceposts(s, u, desired)
		if err != nil {
			return 0, err
		}
		current := replicaCount(allRSs)
		maxTotal := desired + surge
		if current >= maxTotal {
			return specReplicas(newRS), nil
		}
		scaleUp := min(maxTotal-current, desired-specReplicas(newRS))
		return specReplicas(newRS) + scaleUp, nil
	case d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType:
		return desired, nil
	default:
		return 0, fmt.Errorf("deployment type %v isn't supported", d.Spec.Strategy.Type)
	}
}

// newReplicaSetStep is the scaling of the new ReplicaSet in a rolling
// update: down to the desired replicas if it is above them, otherwise up as
// far as newRSNewReplicas allows. It returns nil when no change is needed.
func newReplicaSetStep(d *stratav1.Deployment, allRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet) (*scaleStep, error) {
	current, desired := specReplicas(newRS), desiredReplicas(d)
	if current == desired {
		return nil, nil
	}
	if current > desired {
		return &scaleStep{rs: newRS, replicas: desired, operation: "down"}, nil
	}
	n, err := newRSNewReplicas(d, allRSs, newRS)
	if err != nil {
		return nil, err
	}
	if n == current {
		return nil, nil
	}
	op := "up"
	if n < current {
		op = "down"
	}
	return &scaleStep{rs: newRS, replicas: n, operation: op}, nil
}

// oldReplicaSetsSteps plans the scale-down of the old, active ReplicaSets
// in a rolling update. It never takes availability below minAvailable:
//
//  1. the budget is every pod above minAvailable, less the new ReplicaSet's
//     pods that are not available yet (they may never become available);
//  2. old ReplicaSets lose their unavailable pods first, oldest first, up to
//     the budget: removing them does not reduce availability, and they would
//     otherwise block the rollout until the progress deadline;
//  3. then old ReplicaSets lose available pods, oldest first, while the
//     available pods of all ReplicaSets exceed minAvailable.
//
// If an old ReplicaSet reports more available pods than its size, nothing
// is planned until its status catches up.
func oldReplicaSetsSteps(d *stratav1.Deployment, allRSs, oldRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet) []scaleStep {
	if replicaCount(oldRSs) == 0 {
		return nil
	}
	minAvail := desiredReplicas(d) - maxUnavailable(d)
	newRSUnavailable := int32(0)
	if newRS != nil {
		newRSUnavailable = specReplicas(newRS) - newRS.Status.AvailableReplicas
	}
	maxScaledDown := replicaCount(allRSs) - minAvail - newRSUnavailable
	if maxScaledDown <= 0 {
		return nil
	}

	olds := append([]*stratav1.ReplicaSet{}, oldRSs...)
	sortByCreation(olds)
	size := make(map[*stratav1.ReplicaSet]int32, len(olds))
	for _, rs := range olds {
		size[rs] = specReplicas(rs)
	}

	var steps []scaleStep
	cleaned := int32(0)
	for _, rs := range olds {
		if cleaned >= maxScaledDown {
			break
		}
		if size[rs] == 0 || size[rs] == rs.Status.AvailableReplicas {
			continue
		}
		unhealthy := size[rs] - rs.Status.AvailableReplicas
		if unhealthy < 0 {
			// More available pods than its size: the ReplicaSet is still
			// shrinking and its status lags. Availability cannot be
			// judged; wait for its controller to catch up, as upstream.
			return nil
		}
		n := min(maxScaledDown-cleaned, unhealthy)
		size[rs] -= n
		steps = append(steps, scaleStep{rs: rs, replicas: size[rs], operation: "down"})
		cleaned += n
	}

	available := availableReplicaCount(append(append([]*stratav1.ReplicaSet{}, olds...), newRS))
	if available <= minAvail {
		return steps
	}
	budget := available - minAvail
	scaled := int32(0)
	for _, rs := range olds {
		if scaled >= budget {
			break
		}
		if size[rs] == 0 {
			continue
		}
		n := min(size[rs], budget-scaled)
		size[rs] -= n
		steps = append(steps, scaleStep{rs: rs, replicas: size[rs], operation: "down"})
		scaled += n
	}
	return steps
}
