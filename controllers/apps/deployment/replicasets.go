/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// Helpers over lists of ReplicaSets, as upstream's controller and
// deployment util packages define them.

// specReplicas is a ReplicaSet's spec.replicas; the API defaults it to 1.
func specReplicas(rs *stratav1.ReplicaSet) int32 {
	return ptr.Deref(rs.Spec.Replicas, 1)
}

// desiredReplicas is a Deployment's spec.replicas; the API defaults it to 1.
func desiredReplicas(d *stratav1.Deployment) int32 {
	return ptr.Deref(d.Spec.Replicas, 1)
}

// replicaCount sums spec.replicas of the ReplicaSets (nil entries skipped).
func replicaCount(rss []*stratav1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += specReplicas(rs)
		}
	}
	return n
}

// actualReplicaCount sums status.replicas.
func actualReplicaCount(rss []*stratav1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.Replicas
		}
	}
	return n
}

// readyReplicaCount sums status.readyReplicas.
func readyReplicaCount(rss []*stratav1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.ReadyReplicas
		}
	}
	return n
}

// availableReplicaCount sums status.availableReplicas.
func availableReplicaCount(rss []*stratav1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += rs.Status.AvailableReplicas
		}
	}
	return n
}

// terminatingReplicaCount sums status.terminatingReplicas. A ReplicaSet its
// controller has not observed yet counts as zero; one that was observed but
// does not report the field makes the sum unknown (nil).
func terminatingReplicaCount(rss []*stratav1.ReplicaSet) *int32 {
	var n int32
	for _, rs := range rss {
		switch {
		case rs == nil:
		case rs.Status.TerminatingReplicas != nil:
			n += *rs.Status.TerminatingReplicas
		case rs.Status.ObservedGeneration == 0:
			// Not synced by the ReplicaSet controller yet.
		default:
			return nil
		}
	}
	return &n
}

// filterActive returns the ReplicaSets with spec.replicas > 0.
func filterActive(rss []*stratav1.ReplicaSet) []*stratav1.ReplicaSet {
	var active []*stratav1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && specReplicas(rs) > 0 {
			active = append(active, rs)
		}
	}
	return active
}

// lessByCreation orders by creation time, then name.
func lessByCreation(a, b *stratav1.ReplicaSet) bool {
	if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.Name < b.Name
	}
	return a.CreationTimestamp.Before(&b.CreationTimestamp)
}

// sortByCreation sorts oldest first.
func sortByCreation(rss []*stratav1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool { return lessByCreation(rss[i], rss[j]) })
}

// sortBySizeNewer sorts largest first; among equal sizes, newest first
// (scaling up favours newer ReplicaSets).
func sortBySizeNewer(rss []*stratav1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		if specReplicas(rss[i]) == specReplicas(rss[j]) {
			return lessByCreation(rss[j], rss[i])
		}
		return specReplicas(rss[i]) > specReplicas(rss[j])
	})
}

// sortBySizeOlder sorts largest first; among equal sizes, oldest first
// (scaling down takes from older ReplicaSets).
func sortBySizeOlder(rss []*stratav1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		if specReplicas(rss[i]) == specReplicas(rss[j]) {
			return lessByCreation(rss[i], rss[j])
		}
		return specReplicas(rss[i]) > specReplicas(rss[j])
	})
}

// equalIgnoreHash reports whether two pod templates are semantically equal
// once the pod-template-hash label is removed from both.
func equalIgnoreHash(t1, t2 *corev1.PodTemplateSpec) bool {
	c1, c2 := t1.DeepCopy(), t2.DeepCopy()
	delete(c1.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(c2.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return apiequality.Semantic.DeepEqual(c1, c2)
}

// findNewReplicaSet returns the ReplicaSet whose template equals the
// Deployment's (ignoring the hash label); if several do, the oldest. It sorts
// rsList in place.
func findNewReplicaSet(d *stratav1.Deployment, rsList []*stratav1.ReplicaSet) *stratav1.ReplicaSet {
	sortByCreation(rsList)
	for _, rs := range rsList {
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// findOldReplicaSets returns every ReplicaSet of the list but the new one.
func findOldReplicaSets(d *stratav1.Deployment, rsList []*stratav1.ReplicaSet) []*stratav1.ReplicaSet {
	newRS := findNewReplicaSet(d, rsList)
	var old []*stratav1.ReplicaSet
	for _, rs := range rsList {
		if rs == newRS {
			continue
		}
		old = append(old, rs)
	}
	return old
}
