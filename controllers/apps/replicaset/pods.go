/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

const (
	// burstReplicas bounds the pods one sync creates or deletes (upstream's
	// BurstReplicas).
	burstReplicas = 500
	// slowStartInitialBatchSize is the size of the first batch of creations.
	slowStartInitialBatchSize = 1
	// podDeletionCostAnnotation ranks pods for scale-down (lower cost first).
	podDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"
)

// manageReplicas creates or deletes pods so that rs has its desired number
// of active pods, recording expectations before acting. active are the
// claimed active pods. Events are added to ev.
func (r *Reconciler) manageReplicas(ctx context.Context, rs *stratav1.ReplicaSet, active []*corev1.Pod, ev *eventBuffer) error {
	diff := len(active) - int(desiredReplicas(rs))
	switch {
	case diff < 0:
		return r.createPods(ctx, rs, min(-diff, burstReplicas), ev)
	case diff > 0:
		return r.deletePods(ctx, rs, active, min(diff, burstReplicas), ev)
	}
	return nil
}

// createPods creates n pods for rs in slow-start batches: one, then twice as
// many after each batch that fully succeeded, stopping at the first batch
// with a failure. Creations never attempted or failed are taken off the
// expectations again.
func (r *Reconciler) createPods(ctx context.Context, rs *stratav1.ReplicaSet, n int, ev *eventBuffer) error {
	logger := log.FromContext(ctx)
	key := client.ObjectKeyFromObject(rs).String()
	r.expectations.expectCreations(key, rs.UID, n)
	logger.V(2).Info("Too few replicas", "need", desiredReplicas(rs), "creating", n)

	created, err := slowStartBatch(n, slowStartInitialBatchSize, func() error {
		pod, err := podFromTemplate(rs)
		if err != nil {
			return err
		}
		if err := r.Create(ctx, pod); err != nil {
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				// Every creation fails until the namespace is gone, which
				// takes the ReplicaSet along: nothing to report.
				return errNamespaceTerminating
			}
			ev.warning(reasonFailedCreate, "Create", nil, "Error creating: %v", err)
			return err
		}
		ev.normal("SuccessfulCreate", "Create", pod, "Created pod: %v", pod.Name)
		return nil
	})
	if skipped := n - created; skipped > 0 {
		logger.V(2).Info("Slow-start failure, skipping creation of pods and lowering expectations", "podsSkipped", skipped)
		r.expectations.creationObserved(key, rs.UID, skipped)
	}
	if errors.Is(err, errNamespaceTerminating) {
		return nil
	}
	return err
}

var errNamespaceTerminating = errors.New("namespace is terminating")

// deletePods deletes the n pods of active that rank lowest, concurrently,
// and returns the first error other than NotFound.
func (r *Reconciler) deletePods(ctx context.Context, rs *stratav1.ReplicaSet, active []*corev1.Pod, n int, ev *eventBuffer) error {
	logger := log.FromContext(ctx)
	key := client.ObjectKeyFromObject(rs).String()
	logger.V(2).Info("Too many replicas", "need", desiredReplicas(rs), "deleting", n)

	related, err := r.relatedPods(ctx, rs, active)
	if err != nil {
		return fmt.Errorf("listing the pods of related ReplicaSets: %w", err)
	}
	victims := podsToDelete(active, related, n, r.clock().Now())
	keys := make([]string, 0, len(victims))
	for _, pod := range victims {
		keys = append(keys, podKey(pod))
	}
	r.expectations.expectDeletions(key, rs.UID, keys)

	errs := make([]error, len(victims))
	var wg sync.WaitGroup
	for i, pod := range victims {
		wg.Go(func() {
			if err := r.Delete(ctx, pod); err != nil {
				// The informer will not see this deletion.
				r.expectations.deletionObserved(key, rs.UID, podKey(pod))
				if apierrors.IsNotFound(err) {
					return
				}
				logger.V(2).Info("Failed to delete pod, lowered expectations", "pod", klog.KObj(pod))
				ev.warning(reasonFailedDelete, "Delete", pod, "Error deleting: %v", err)
				errs[i] = fmt.Errorf("unable to delete pods: %w", err)
				return
			}
			ev.normal("SuccessfulDelete", "Delete", pod, "Deleted pod: %v", pod.Name)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// They are likely all the same: report the first.
			return err
		}
	}
	return nil
}

// relatedPods returns the active pods of every ReplicaSet controlled by the
// same owner as rs (the ReplicaSets of one Deployment), or active when rs
// has no controller. Scale-down prefers pods on nodes crowded with them.
func (r *Reconciler) relatedPods(ctx context.Context, rs *stratav1.ReplicaSet, active []*corev1.Pod) ([]*corev1.Pod, error) {
	owner := metav1.GetControllerOf(rs)
	if owner == nil {
		return active, nil
	}
	var siblings stratav1.ReplicaSetList
	if err := r.List(ctx, &siblings, client.InNamespace(rs.Namespace)); err != nil {
		return nil, err
	}
	var related []*corev1.Pod
	for i := range siblings.Items {
		sibling := &siblings.Items[i]
		if ref := metav1.GetControllerOf(sibling); ref == nil || ref.UID != owner.UID {
			continue
		}
		if sibling.UID == rs.UID {
			related = append(related, active...)
			continue
		}
		pods, err := r.listPodsByController(ctx, rs.Namespace, string(sibling.UID))
		if err != nil {
			return nil, err
		}
		for _, pod := range pods {
			if isPodActive(pod) {
				related = append(related, pod)
			}
		}
	}
	return related, nil
}

// podFromTemplate is a new pod of rs: the template's labels, annotations,
// finalizers and spec, the name prefix "<rs-name>-" and rs as controller.
func podFromTemplate(rs *stratav1.ReplicaSet) (*corev1.Pod, error) {
	tmpl := &rs.Spec.Template
	if len(tmpl.Labels) == 0 {
		return nil, errors.New("unable to create pods, no labels")
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       rs.Namespace,
			GenerateName:    podNamePrefix(rs.Name),
			Labels:          maps.Clone(tmpl.Labels),
			Annotations:     maps.Clone(tmpl.Annotations),
			Finalizers:      append([]string(nil), tmpl.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{*controllerRef(rs)},
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	return pod, nil
}

// podNamePrefix is "<name>-", or name when that is not a valid prefix.
func podNamePrefix(name string) string {
	prefix := name + "-"
	if len(validation.IsDNS1123Subdomain(prefix+"x")) != 0 {
		return name
	}
	return prefix
}

// controllerRef is the owner reference rs's pods carry.
func controllerRef(rs *stratav1.ReplicaSet) *metav1.OwnerReference {
	return metav1.NewControllerRef(rs, stratav1.GroupVersion.WithKind("ReplicaSet"))
}

// slowStartBatch calls fn count times, in batches that start at
// initialBatchSize calls and double after each batch without error; the
// calls of one batch run concurrently. It stops after the first batch with a
// failure and returns the number of successful calls and the first error.
func slowStartBatch(count, initialBatchSize int, fn func() error) (int, error) {
	successes := 0
	for _, size := range batchSizes(count, initialBatchSize) {
		errs := make(chan error, size)
		var wg sync.WaitGroup
		for range size {
			wg.Go(func() {
				if err := fn(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		successes += size - len(errs)
		if err, failed := <-errs; failed {
			return successes, err
		}
	}
	return successes, nil
}

// batchSizes splits count into slow-start batches: initial, 2·initial, …,
// the last one holding the rest.
func batchSizes(count, initial int) []int {
	var sizes []int
	for size := min(count, initial); size > 0; size = min(2*size, count) {
		sizes = append(sizes, size)
		count -= size
	}
	return sizes
}

// isPodActive reports whether pod counts towards the replicas: not
// Succeeded, not Failed, not being deleted.
func isPodActive(pod *corev1.Pod) bool {
	return pod.Status.Phase != corev1.PodSucceeded &&
		pod.Status.Phase != corev1.PodFailed &&
		pod.DeletionTimestamp == nil
}

// isPodTerminating reports whether pod is being deleted and has not
// finished yet.
func isPodTerminating(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp != nil &&
		pod.Status.Phase != corev1.PodSucceeded &&
		pod.Status.Phase != corev1.PodFailed
}

func podKey(pod *corev1.Pod) string {
	return pod.Namespace + "/" + pod.Name
}

// podsToDelete picks the n pods of active to delete first. related are the
// pods whose placement ranks active by colocation (active itself, or the
// pods of all ReplicaSets of the same Deployment).
func podsToDelete(active, related []*corev1.Pod, n int, now time.Time) []*corev1.Pod {
	if n >= len(active) {
		return active
	}
	ranked := rankPods(active, related, now)
	sort.Sort(ranked)
	return ranked.pods[:n]
}

// rankPods ranks each pod of pods by the number of active related pods on
// its node.
func rankPods(pods, related []*corev1.Pod, now time.Time) podsByDeletionOrder {
	onNode := map[string]int{}
	for _, pod := range related {
		if isPodActive(pod) {
			onNode[pod.Spec.NodeName]++
		}
	}
	ranked := podsByDeletionOrder{pods: append([]*corev1.Pod(nil), pods...), rank: make([]int, len(pods)), now: now}
	for i, pod := range ranked.pods {
		ranked.rank[i] = onNode[pod.Spec.NodeName]
	}
	return ranked
}

// podsByDeletionOrder sorts pods so that the ones to delete first come
// first, with upstream's ActivePodsWithRanks order:
//
//  1. unassigned before assigned;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. lower pod-deletion-cost before higher;
//  5. higher rank (more related pods on the same node) before lower;
//  6. of two ready pods, ready for less time before longer (compared on a
//     logarithmic scale, then by UID);
//  7. more container restarts before fewer (regular containers, then
//     sidecars);
//  8. newer before older (logarithmic scale, then by UID); no creation
//     time first.
type podsByDeletionOrder struct {
	pods []*corev1.Pod
	rank []int
	now  time.Time
}

func (s podsByDeletionOrder) Len() int { return len(s.pods) }

func (s podsByDeletionOrder) Swap(i, j int) {
	s.pods[i], s.pods[j] = s.pods[j], s.pods[i]
	s.rank[i], s.rank[j] = s.rank[j], s.rank[i]
}

var podPhaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

func (s podsByDeletionOrder) Less(i, j int) bool {
	a, b := s.pods[i], s.pods[j]
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if pa, pb := podPhaseOrder[a.Status.Phase], podPhaseOrder[b.Status.Phase]; pa != pb {
		return pa < pb
	}
	readyA, readyB := isPodReady(a), isPodReady(b)
	if readyA != readyB {
		return !readyA
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if s.rank[i] != s.rank[j] {
		return s.rank[i] > s.rank[j]
	}
	if readyA && readyB {
		ta, tb := podReadyCondition(a).LastTransitionTime, podReadyCondition(b).LastTransitionTime
		if !ta.Equal(&tb) {
			return s.newerFirst(a, b, ta.Time, tb.Time)
		}
	}
	regularA, sidecarA := maxRestarts(a)
	regularB, sidecarB := maxRestarts(b)
	if regularA != regularB {
		return regularA > regularB
	}
	if sidecarA != sidecarB {
		return sidecarA > sidecarB
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return s.newerFirst(a, b, a.CreationTimestamp.Time, b.CreationTimestamp.Time)
	}
	return false
}

// newerFirst orders by the times ta and tb of pods a and b: a zero time
// first, then the later time first, on a base-2 logarithmic scale of the age
// so that pods of about the same age are picked at random (by UID), which
// spreads scale-downs across creation waves (upstream's LogarithmicScaleDown).
func (s podsByDeletionOrder) newerFirst(a, b *corev1.Pod, ta, tb time.Time) bool {
	if ta.IsZero() || tb.IsZero() || s.now.IsZero() {
		if ta.IsZero() || tb.IsZero() {
			return ta.IsZero()
		}
		return ta.After(tb)
	}
	ra, rb := logAge(ta, s.now), logAge(tb, s.now)
	if ra != rb {
		return ra < rb
	}
	return a.UID < b.UID
}

// logAge is the base-2 logarithm of the time from t to now in nanoseconds,
// -1 when t is not before now.
func logAge(t, now time.Time) int64 {
	if d := now.Sub(t); d > 0 {
		return int64(math.Log2(float64(d)))
	}
	return -1
}

// deletionCost is the pod-deletion-cost annotation's value, 0 when absent or
// invalid.
func deletionCost(pod *corev1.Pod) int32 {
	v, ok := pod.Annotations[podDeletionCostAnnotation]
	if !ok {
		return 0
	}
	cost, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(cost)
}

// maxRestarts returns the highest restart count of pod's regular containers
// and of its sidecars (init containers that restart always).
func maxRestarts(pod *corev1.Pod) (regular, sidecar int32) {
	for _, c := range pod.Status.ContainerStatuses {
		regular = max(regular, c.RestartCount)
	}
	sidecars := sets.New[string]()
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Insert(c.Name)
		}
	}
	for _, c := range pod.Status.InitContainerStatuses {
		if sidecars.Has(c.Name) {
			sidecar = max(sidecar, c.RestartCount)
		}
	}
	return regular, sidecar
}
