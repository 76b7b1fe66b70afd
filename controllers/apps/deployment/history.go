/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// Revisions and the annotations a Deployment's ReplicaSets carry.
const (
	// RevisionAnnotation is the rollout sequence number of a ReplicaSet; the
	// Deployment carries its new ReplicaSet's.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists the earlier revisions a ReplicaSet
	// served (set when a rollback makes an old ReplicaSet new again).
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the Deployment's spec.replicas the
	// ReplicaSet was last sized for.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is spec.replicas + maxSurge the ReplicaSet was
	// last sized for.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"

	// deprecatedRollbackTo is the annotation extensions/v1beta1 rollbacks
	// were carried in; it is never copied.
	deprecatedRollbackTo = "deprecated.deployment.rollback.to"

	// maxRevHistoryLengthInChars bounds the revision-history annotation.
	maxRevHistoryLengthInChars = 2000
)

// annotationsToSkip are the Deployment annotations not copied to its
// ReplicaSets.
var annotationsToSkip = map[string]bool{
	corev1.LastAppliedConfigAnnotation: true,
	RevisionAnnotation:                 true,
	RevisionHistoryAnnotation:          true,
	DesiredReplicasAnnotation:          true,
	MaxReplicasAnnotation:              true,
	deprecatedRollbackTo:               true,
}

// revision parses a ReplicaSet's revision annotation; a missing one is 0.
func revision(rs *stratav1.ReplicaSet) (int64, error) {
	v, ok := rs.Annotations[RevisionAnnotation]
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

// maxRevision is the highest parseable revision of the ReplicaSets.
func maxRevision(rss []*stratav1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		if v, err := revision(rs); err == nil && v > m {
			m = v
		}
	}
	return m
}

// copyDeploymentAnnotations copies the Deployment's annotations, except the
// skipped ones, to the ReplicaSet; it reports whether anything changed.
// Annotations are only added or overwritten, never removed.
func copyDeploymentAnnotations(d *stratav1.Deployment, rs *stratav1.ReplicaSet) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		if annotationsToSkip[k] {
			continue
		}
		if rs.Annotations[k] == v {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	return changed
}

// setReplicasAnnotations records the Deployment size a ReplicaSet is sized
// for; it reports whether anything changed.
func setReplicasAnnotations(rs *stratav1.ReplicaSet, desired, maxReplicas int32) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range map[string]string{
		DesiredReplicasAnnotation: strconv.Itoa(int(desired)),
		MaxReplicasAnnotation:     strconv.Itoa(int(maxReplicas)),
	} {
		if rs.Annotations[k] != v {
			rs.Annotations[k] = v
			changed = true
		}
	}
	return changed
}

// replicasAnnotationsNeedUpdate reports whether setReplicasAnnotations
// would change the ReplicaSet.
func replicasAnnotationsNeedUpdate(rs *stratav1.ReplicaSet, desired, maxReplicas int32) bool {
	return rs.Annotations[DesiredReplicasAnnotation] != strconv.Itoa(int(desired)) ||
		rs.Annotations[MaxReplicasAnnotation] != strconv.Itoa(int(maxReplicas))
}

// setNewReplicaSetAnnotations brings the new ReplicaSet's annotations up to
// date: the Deployment's annotations, the revision newRevision if it is
// higher than the ReplicaSet's (recording the replaced revision in the
// revision history, which is how a rollback shows), and, for a ReplicaSet
// about to be created, the replica annotations. It reports whether anything
// changed.
func setNewReplicaSetAnnotations(d *stratav1.Deployment, rs *stratav1.ReplicaSet, newRevision int64, exists bool) bool {
	changed := copyDeploymentAnnotations(d, rs)

	oldRevision, hadRevision := rs.Annotations[RevisionAnnotation]
	oldRevisionInt, err := strconv.ParseInt(oldRevision, 10, 64)
	if err != nil {
		if oldRevision != "" {
			// Not a number: leave the revision alone.
			return changed
		}
		oldRevisionInt = 0
	}
	if oldRevisionInt < newRevision {
		rs.Annotations[RevisionAnnotation] = strconv.FormatInt(newRevision, 10)
		changed = true
		if hadRevision {
			rs.Annotations[RevisionHistoryAnnotation] = appendRevisionHistory(rs.Annotations[RevisionHistoryAnnotation], oldRevision)
		}
	}
	if !exists && setReplicasAnnotations(rs, desiredReplicas(d), desiredReplicas(d)+maxSurge(d)) {
		changed = true
	}
	return changed
}

// appendRevisionHistory appends a revision to a comma-separated history,
// dropping the oldest entries to stay within maxRevHistoryLengthInChars.
func appendRevisionHistory(history, rev string) string {
	if history == "" {
		return rev
	}
	revs := strings.Split(history, ",")
	total := len(history) + len(rev) + 1
	start := 0
	for total > maxRevHistoryLengthInChars && start < len(revs) {
		total -= len(revs[start]) + 1
		start++
	}
	if total > maxRevHistoryLengthInChars {
		return history
	}
	return strings.Join(append(revs[start:], rev), ",")
}

// sortByRevision sorts by revision, oldest first; ReplicaSets with equal or
// unparseable revisions by creation time.
func sortByRevision(rss []*stratav1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		r1, err1 := revision(rss[i])
		r2, err2 := revision(rss[j])
		if err1 != nil || err2 != nil || r1 == r2 {
			return lessByCreation(rss[i], rss[j])
		}
		return r1 < r2
	})
}

// replicaSetsToCleanUp returns the old ReplicaSets beyond
// spec.revisionHistoryLimit that may be deleted, oldest revision first: of
// the oldest (count - limit) ReplicaSets not being deleted, those scaled to
// zero with no pods left and whose latest spec the ReplicaSet controller has
// observed. Without a limit, none.
func replicaSetsToCleanUp(d *stratav1.Deployment, oldRSs []*stratav1.ReplicaSet) []*stratav1.ReplicaSet {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*stratav1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := int32(len(alive)) - *d.Spec.RevisionHistoryLimit
	if diff <= 0 {
		return nil
	}
	sortByRevision(alive)
	var out []*stratav1.ReplicaSet
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || specReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		out = append(out, rs)
	}
	return out
}
