/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"math"
	"strconv"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// Proportional scaling: when a Deployment is resized in the middle of a
// rollout (or while paused), the change is spread over all active
// ReplicaSets in proportion to their sizes, so resizing neither speeds up
// nor reverts the rollout. Each ReplicaSet records the Deployment's size it
// was sized for in the desired-replicas and max-replicas annotations; a
// desired-replicas different from spec.replicas is how a resize is noticed.

// findActiveOrLatest returns the only active ReplicaSet, or the newest one
// (the new ReplicaSet first) if none is active; nil when several are
// active and must be scaled proportionally.
func findActiveOrLatest(newRS *stratav1.ReplicaSet, oldRSs []*stratav1.ReplicaSet) *stratav1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	olds := append([]*stratav1.ReplicaSet{}, oldRSs...)
	sortByCreation(olds)
	active := filterActive(append(olds, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return olds[len(olds)-1]
	case 1:
		return active[0]
	default:
		return nil
	}
}

// annotationInt reads an int32 annotation of a ReplicaSet.
func annotationInt(rs *stratav1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.Annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// isSaturated reports whether the new ReplicaSet has all the Deployment's
// replicas, was sized for them, and has them all available.
func isSaturated(d *stratav1.Deployment, rs *stratav1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := annotationInt(rs, DesiredReplicasAnnotation)
	if !ok {
		return false
	}
	n := desiredReplicas(d)
	return specReplicas(rs) == n && desired == n && rs.Status.AvailableReplicas == n
}

// isScalingEvent reports whether an active ReplicaSet was sized for a
// different number of replicas than the Deployment now wants.
func isScalingEvent(d *stratav1.Deployment, allRSs []*stratav1.ReplicaSet) bool {
	for _, rs := range filterActive(allRSs) {
		desired, ok := annotationInt(rs, DesiredReplicasAnnotation)
		if ok && desired != desiredReplicas(d) {
			return true
		}
	}
	return false
}

// replicaSetFraction estimates how many replicas a ReplicaSet should gain
// (or lose, negative) when the Deployment's maximum size went from the
// ReplicaSet's max-replicas annotation to spec.replicas + maxSurge.
func replicaSetFraction(rs *stratav1.ReplicaSet, d *stratav1.Deployment) int32 {
	if desiredReplicas(d) == 0 {
		return -specReplicas(rs)
	}
	maxReplicas := desiredReplicas(d) + maxSurge(d)
	before, ok := annotationInt(rs, MaxReplicasAnnotation)
	if !ok || before == 0 {
		// Without the annotation, fall back to the current size of the
		// Deployment; getProportion's bounds keep the result in limits.
		before = d.Status.Replicas
	}
	if before == 0 {
		return 0
	}
	size := float64(specReplicas(rs)) * float64(maxReplicas) / float64(before)
	return int32(math.Round(size)) - specReplicas(rs)
}

// proportion is the number of replicas to add to (or remove from) one
// ReplicaSet, bounded by what is left to distribute.
func proportion(rs *stratav1.ReplicaSet, d *stratav1.Deployment, toAdd, added int32) int32 {
	if rs == nil || specReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	fraction := replicaSetFraction(rs, d)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

// scaleSteps plans the resizing of a Deployment that is paused or was
// resized during a rollout:
//
//   - a single active ReplicaSet (or, with none active, the newest) takes
//     the whole size;
//   - a saturated new ReplicaSet means the old ones go to zero;
//   - otherwise, for a rolling update, the difference between the allowed
//     size (replicas + maxSurge) and the current total is distributed in
//     proportion to the ReplicaSets' sizes, largest first (newer first when
//     growing, older first when shrinking), and what rounding leaves over
//     goes to the first (largest) one. Every active ReplicaSet gets a step,
//     so that its replica annotations are brought up to date.
func scaleSteps(d *stratav1.Deployment, newRS *stratav1.ReplicaSet, oldRSs []*stratav1.ReplicaSet) []scaleStep {
	desired := desiredReplicas(d)
	if rs := findActiveOrLatest(newRS, oldRSs); rs != nil {
		if specReplicas(rs) == desired {
			return nil
		}
		return []scaleStep{{rs: rs, replicas: desired, operation: direction(specReplicas(rs), desired)}}
	}

	if isSaturated(d, newRS) {
		var steps []scaleStep
		for _, rs := range filterActive(oldRSs) {
			steps = append(steps, scaleStep{rs: rs, replicas: 0, operation: "down"})
		}
		return steps
	}

	if !isRollingUpdate(d) {
		return nil
	}
	active := filterActive(append(append([]*stratav1.ReplicaSet{}, oldRSs...), newRS))
	allowed := int32(0)
	if desired > 0 {
		allowed = desired + maxSurge(d)
	}
	toAdd := allowed - replicaCount(active)

	var operation string
	switch {
	case toAdd > 0:
		sortBySizeNewer(active)
		operation = "up"
	case toAdd < 0:
		sortBySizeOlder(active)
		operation = "down"
	}

	sizes := make([]int32, len(active))
	added := int32(0)
	for i, rs := range active {
		sizes[i] = specReplicas(rs)
		if toAdd != 0 {
			p := proportion(rs, d, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	steps := make([]scaleStep, 0, len(active))
	for i, rs := range active {
		if i == 0 && toAdd != 0 {
			sizes[i] = max(sizes[i]+toAdd-added, 0)
		}
		steps = append(steps, scaleStep{rs: rs, replicas: sizes[i], operation: operation})
	}
	return steps
}

// direction names a scaling from one size to another.
func direction(from, to int32) string {
	if from < to {
		return "up"
	}
	return "down"
}
