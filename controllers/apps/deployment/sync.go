/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// syncState is one reconcile of one Deployment: the working copy whose
// status collects the conditions set along the way (written once, at the
// end), the status as read, and the events to emit after the write.
type syncState struct {
	r      *Reconciler
	d      *stratav1.Deployment
	stored stratav1.DeploymentStatus
	now    time.Time
	events []pendingEvent
	// statusWritten is set once the status write was attempted.
	statusWritten bool
}

// pendingEvent is an event to record about the Deployment.
type pendingEvent struct {
	related   runtime.Object
	eventType string
	reason    string
	action    string
	note      string
}

func (s *syncState) event(related runtime.Object, eventType, reason, action, note string) {
	s.events = append(s.events, pendingEvent{related: related, eventType: eventType, reason: reason, action: action, note: note})
}

// rolloutStatus is the status to write after a rollout step.
func (s *syncState) rolloutStatus(allRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet) stratav1.DeploymentStatus {
	return rolloutStatus(nonNil(allRSs), newRS, s.d, s.now)
}

// plainStatus is the status to write after a scaling or status-only sync.
func (s *syncState) plainStatus(allRSs []*stratav1.ReplicaSet, newRS *stratav1.ReplicaSet) stratav1.DeploymentStatus {
	return calculateStatus(nonNil(allRSs), newRS, s.d, s.now)
}

// writeStatus writes the status through the status subresource unless it
// is what was read. The update carries the resourceVersion read, so a stale
// cache conflicts instead of overwriting a newer status.
func (s *syncState) writeStatus(ctx context.Context, status stratav1.DeploymentStatus) error {
	if apiequality.Semantic.DeepEqual(s.stored, status) {
		return nil
	}
	s.d.Status = status
	s.statusWritten = true
	if err := s.r.Status().Update(ctx, s.d); err != nil {
		return fmt.Errorf("updating status: %w", err)
	}
	return nil
}

// getAllReplicaSetsAndSyncRevision splits the Deployment's ReplicaSets into
// the new one and the old ones. It brings the new ReplicaSet's annotations
// and revision up to date and the Deployment's revision annotation with
// it, and creates the new ReplicaSet if it is missing and create is set.
func (s *syncState) getAllReplicaSetsAndSyncRevision(ctx context.Context, rsList []*stratav1.ReplicaSet, create bool) (*stratav1.ReplicaSet, []*stratav1.ReplicaSet, error) {
	oldRSs := findOldReplicaSets(s.d, rsList)
	newRS, err := s.getNewReplicaSet(ctx, rsList, oldRSs, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, oldRSs, nil
}

// getNewReplicaSet returns the new ReplicaSet, updated or created as needed.
func (s *syncState) getNewReplicaSet(ctx context.Context, rsList, oldRSs []*stratav1.ReplicaSet, create bool) (*stratav1.ReplicaSet, error) {
	d := s.d
	logger := log.FromContext(ctx)
	newRevision := maxRevision(oldRSs) + 1

	if existing := findNewReplicaSet(d, rsList); existing != nil {
		rsCopy := existing.DeepCopy()
		annotationsChanged := setNewReplicaSetAnnotations(d, rsCopy, newRevision, true)
		if annotationsChanged || rsCopy.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rsCopy.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			logger.V(1).Info("Updating the annotations of the new ReplicaSet", "replicaSet", klog.KObj(rsCopy), "revision", rsCopy.Annotations[RevisionAnnotation])
			if err := s.r.Update(ctx, rsCopy); err != nil {
				return nil, fmt.Errorf("updating ReplicaSet %s: %w", rsCopy.Name, err)
			}
			*existing = *rsCopy
			// The Deployment's revision follows on the sync this update
			// triggers.
			return existing, nil
		}
		if err := s.setDeploymentRevision(ctx, existing.Annotations[RevisionAnnotation]); err != nil {
			return nil, err
		}
		// A Deployment that had no Progressing condition (its deadline was
		// just set) starts counting from the first sight of its ReplicaSet.
		if hasProgressDeadline(d) && getCondition(d.Status.DeploymentStatus, appsv1.DeploymentProgressing) == nil {
			msg := fmt.Sprintf("Found new replica set %q", existing.Name)
			setCondition(&d.Status.DeploymentStatus, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, FoundNewRSReason, msg, s.now))
		}
		return existing, nil
	}

	if !create {
		return nil, nil
	}

	newRS := newReplicaSetFor(d)
	replicas, err := newRSNewReplicas(d, append(append([]*stratav1.ReplicaSet{}, oldRSs...), newRS), newRS)
	if err != nil {
		return nil, err
	}
	newRS.Spec.Replicas = &replicas
	setNewReplicaSetAnnotations(d, newRS, newRevision, false)

	logger.V(1).Info("Creating the new ReplicaSet", "replicaSet", klog.KObj(newRS), "replicas", replicas)
	alreadyExists := false
	err = s.r.Create(ctx, newRS)
	switch {
	case apierrors.IsAlreadyExists(err):
		// A slow cache, or a hash collision.
		alreadyExists = true
		rs := &stratav1.ReplicaSet{}
		if getErr := s.r.Get(ctx, client.ObjectKeyFromObject(newRS), rs); getErr != nil {
			return nil, fmt.Errorf("getting existing ReplicaSet %s: %w", newRS.Name, getErr)
		}
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && equalIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			newRS = rs
			break
		}
		// Another template has this hash: count the collision, which
		// changes the hash, and retry after the status is written.
		before := int32(0)
		if d.Status.CollisionCount != nil {
			before = *d.Status.CollisionCount
		}
		d.Status.CollisionCount = ptr.To[int32](before + 1)
		logger.V(2).Info("Found a hash collision for deployment - bumping collisionCount to resolve it", "oldCollisionCount", before, "newCollisionCount", before+1)
		return nil, fmt.Errorf("creating ReplicaSet %s: %w", newRS.Name, err)
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, fmt.Errorf("creating ReplicaSet %s: %w", newRS.Name, err)
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", newRS.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status.DeploymentStatus, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, FailedRSCreateReason, msg, s.now))
		}
		s.event(nil, corev1.EventTypeWarning, FailedRSCreateReason, "Create", msg)
		return nil, fmt.Errorf("creating ReplicaSet %s: %w", newRS.Name, err)
	}

	if !alreadyExists && replicas > 0 {
		s.event(newRS, corev1.EventTypeNormal, "ScalingReplicaSet", "Scale", fmt.Sprintf("Scaled up replica set %s from 0 to %d", newRS.Name, replicas))
	}
	if err := s.setDeploymentRevision(ctx, strconv.FormatInt(newRevision, 10)); err != nil {
		return nil, err
	}
	if !alreadyExists && hasProgressDeadline(d) {
		msg := fmt.Sprintf("Created new replica set %q", newRS.Name)
		setCondition(&d.Status.DeploymentStatus, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewReplicaSetReason, msg, s.now))
	}
	return newRS, nil
}

// newReplicaSetFor builds the new ReplicaSet of a Deployment, with zero
// replicas: named after the Deployment and the hash of its template, the hash
// added as the pod-template-hash label to its selector, template and
// labels, and controlled by the Deployment.
func newReplicaSetFor(d *stratav1.Deployment) *stratav1.ReplicaSet {
	template := d.Spec.Template.DeepCopy()
	hash := computeHash(template, d.Status.CollisionCount)
	template.Labels = withLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)

	selector := d.Spec.Selector.DeepCopy()
	if selector == nil {
		selector = &metav1.LabelSelector{}
	}
	selector.MatchLabels = withLabel(selector.MatchLabels, appsv1.DefaultDeploymentUniqueLabelKey, hash)

	return &stratav1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)},
			Labels:          template.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To[int32](0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        *template,
		},
	}
}

// withLabel returns a copy of the labels with one more.
func withLabel(labels map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[key] = value
	return out
}

// setDeploymentRevision makes the Deployment's revision annotation the new
// ReplicaSet's. Annotations are not part of the status subresource, so
// this is a metadata patch, carrying the resourceVersion read: a stale
// Deployment conflicts. The working copy takes the new resourceVersion.
func (s *syncState) setDeploymentRevision(ctx context.Context, rev string) error {
	if s.d.Annotations[RevisionAnnotation] == rev {
		return nil
	}
	before := &stratav1.Deployment{ObjectMeta: *s.d.ObjectMeta.DeepCopy()}
	after := before.DeepCopy()
	if after.Annotations == nil {
		after.Annotations = map[string]string{}
	}
	after.Annotations[RevisionAnnotation] = rev
	if err := s.r.Patch(ctx, after, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("setting the revision annotation: %w", err)
	}
	if s.d.Annotations == nil {
		s.d.Annotations = map[string]string{}
	}
	s.d.Annotations[RevisionAnnotation] = rev
	s.d.ResourceVersion = after.ResourceVersion
	return nil
}

// applySteps carries out scaling steps in order and reports whether any
// ReplicaSet changed size. The ReplicaSets of the steps are updated in
// place, so the caller's lists see the new sizes.
func (s *syncState) applySteps(ctx context.Context, steps []scaleStep) (bool, error) {
	scaled := false
	for _, step := range steps {
		changed, err := s.scaleReplicaSet(ctx, step.rs, step.replicas, step.operation)
		if err != nil {
			return scaled, err
		}
		scaled = scaled || changed
	}
	return scaled, nil
}

// scaleReplicaSet sets a ReplicaSet's size and its replica annotations,
// recording a ScalingReplicaSet event when the size changes.
func (s *syncState) scaleReplicaSet(ctx context.Context, rs *stratav1.ReplicaSet, replicas int32, operation string) (bool, error) {
	desired := desiredReplicas(s.d)
	maxReplicas := desired + maxSurge(s.d)
	sizeChanges := specReplicas(rs) != replicas
	if !sizeChanges && !replicasAnnotationsNeedUpdate(rs, desired, maxReplicas) {
		return false, nil
	}
	from := specReplicas(rs)
	rsCopy := rs.DeepCopy()
	rsCopy.Spec.Replicas = &replicas
	setReplicasAnnotations(rsCopy, desired, maxReplicas)
	log.FromContext(ctx).V(1).Info("Scaling ReplicaSet", "replicaSet", klog.KObj(rs), "from", from, "to", replicas)
	if err := s.r.Update(ctx, rsCopy); err != nil {
		return false, fmt.Errorf("scaling ReplicaSet %s to %d: %w", rs.Name, replicas, err)
	}
	*rs = *rsCopy
	if !sizeChanges {
		return false, nil
	}
	s.event(rs, corev1.EventTypeNormal, "ScalingReplicaSet", "Scale", fmt.Sprintf("Scaled %s replica set %s from %d to %d", operation, rs.Name, from, replicas))
	return true, nil
}

// cleanupDeployment deletes the old ReplicaSets beyond the revision
// history limit that have no pods left.
func (s *syncState) cleanupDeployment(ctx context.Context, oldRSs []*stratav1.ReplicaSet) error {
	for _, rs := range replicaSetsToCleanUp(s.d, oldRSs) {
		log.FromContext(ctx).V(1).Info("Deleting old ReplicaSet beyond the revision history limit", "replicaSet", klog.KObj(rs))
		if err := s.r.Delete(ctx, rs, client.Preconditions{UID: &rs.UID}); err != nil && !apierrors.IsNotFound(err) {
			// Stop at the first failure rather than pile up deletes.
			return fmt.Errorf("deleting old ReplicaSet %s: %w", rs.Name, err)
		}
	}
	return nil
}

// sync handles a paused Deployment or a resize: proportional scaling
// without rolling out, and, when paused, the history cleanup.
func (s *syncState) sync(ctx context.Context, rsList []*stratav1.ReplicaSet) (stratav1.DeploymentStatus, error) {
	newRS, oldRSs, err := s.getAllReplicaSetsAndSyncRevision(ctx, rsList, false)
	if err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	if _, err := s.applySteps(ctx, scaleSteps(s.d, newRS, oldRSs)); err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	if s.d.Spec.Paused {
		if err := s.cleanupDeployment(ctx, oldRSs); err != nil {
			return stratav1.DeploymentStatus{}, err
		}
	}
	return s.plainStatus(append(oldRSs, newRS), newRS), nil
}

// syncStatusOnly recomputes the status of a Deployment being deleted.
func (s *syncState) syncStatusOnly(ctx context.Context, rsList []*stratav1.ReplicaSet) (stratav1.DeploymentStatus, error) {
	newRS, oldRSs, err := s.getAllReplicaSetsAndSyncRevision(ctx, rsList, false)
	if err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	return s.plainStatus(append(oldRSs, newRS), newRS), nil
}

// rolloutRolling runs one step of a rolling update: scale the new
// ReplicaSet up within the surge, or else scale old ones down within the
// unavailability budget; once complete, clean up history.
func (s *syncState) rolloutRolling(ctx context.Context, rsList []*stratav1.ReplicaSet) (stratav1.DeploymentStatus, error) {
	newRS, oldRSs, err := s.getAllReplicaSetsAndSyncRevision(ctx, rsList, true)
	if err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	allRSs := append(append([]*stratav1.ReplicaSet{}, oldRSs...), newRS)

	step, err := newReplicaSetStep(s.d, allRSs, newRS)
	if err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	if step != nil {
		scaled, err := s.applySteps(ctx, []scaleStep{*step})
		if err != nil {
			return stratav1.DeploymentStatus{}, err
		}
		if scaled {
			return s.rolloutStatus(allRSs, newRS), nil
		}
	}

	scaledDown, err := s.applySteps(ctx, oldReplicaSetsSteps(s.d, allRSs, filterActive(oldRSs), newRS))
	if err != nil {
		return stratav1.DeploymentStatus{}, err
	}
	if scaledDown {
		return s.rolloutStatus(allRSs, newRS), nil
	}

	if deploymentComplete(s.d, &s.d.Status) {
		if err := s.cleanupDeployment(ctx, oldRSs); err != nil {
			return stratav1.DeploymentStatus{}, err
		}
	}
	return s.rolloutStatus(allRSs, newRS), nil
}

// nonNil drops nil entries (a missing new ReplicaSet).
func nonNil(rss []*stratav1.ReplicaSet) []*stratav1.ReplicaSet {
	out := make([]*stratav1.ReplicaSet, 0, len(rss))
	for _, rs := range rss {
		if rs != nil {
			out = append(out, rs)
		}
	}
	return out
}
