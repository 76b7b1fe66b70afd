/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// claim is what a ReplicaSet does with a pod it lists (upstream's
// ControllerRefManager).
type claim int

const (
	// ignore: owned by another controller, or not ours to take or give up.
	ignore claim = iota
	// keep: controlled by the ReplicaSet and still selected.
	keep
	// adopt: an orphan the selector matches; becomes the ReplicaSet's.
	adopt
	// release: controlled by the ReplicaSet but no longer selected; its
	// owner reference is removed.
	release
)

func (c claim) String() string {
	return [...]string{"ignore", "keep", "adopt", "release"}[c]
}

// claimFor decides what rs does with pod given rs's selector. A ReplicaSet
// being deleted neither adopts nor releases; a pod being deleted is not
// adopted.
func claimFor(rs *stratav1.ReplicaSet, selector labels.Selector, pod *corev1.Pod) claim {
	matches := selector.Matches(labels.Set(pod.Labels))
	if ref := metav1.GetControllerOf(pod); ref != nil {
		switch {
		case ref.UID != rs.UID:
			return ignore
		case matches:
			return keep
		case rs.DeletionTimestamp != nil:
			return ignore
		default:
			return release
		}
	}
	if rs.DeletionTimestamp != nil || !matches || pod.DeletionTimestamp != nil {
		return ignore
	}
	return adopt
}

// claimPods returns the pods of pods that rs controls after adopting the
// orphans its selector matches and releasing the pods it controls but no
// longer selects. Before the first adoption it checks, with an uncached read,
// that rs still exists and is not being deleted.
func (r *Reconciler) claimPods(ctx context.Context, rs *stratav1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	canAdopt := sync.OnceValue(func() error { return r.recheckDeletion(ctx, rs) })
	var claimed []*corev1.Pod
	var errs []error
	for _, pod := range pods {
		switch claimFor(rs, selector, pod) {
		case keep:
			claimed = append(claimed, pod)
		case adopt:
			if err := canAdopt(); err != nil {
				errs = append(errs, fmt.Errorf("can't adopt pod %s: %w", klog.KObj(pod), err))
				continue
			}
			adopted, err := r.adoptPod(ctx, rs, pod)
			if err != nil {
				if !apierrors.IsNotFound(err) {
					errs = append(errs, err)
				}
				continue
			}
			claimed = append(claimed, adopted)
		case release:
			if err := r.releasePod(ctx, rs, pod); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return claimed, utilerrors.NewAggregate(errs)
}

// recheckDeletion reads rs from the API server, not the cache, and fails if
// it was replaced or is being deleted: a ReplicaSet about to go away must
// not adopt pods the garbage collector would then delete with it.
func (r *Reconciler) recheckDeletion(ctx context.Context, rs *stratav1.ReplicaSet) error {
	fresh := &stratav1.ReplicaSet{}
	if err := r.apiReader().Get(ctx, client.ObjectKeyFromObject(rs), fresh); err != nil {
		return err
	}
	if fresh.UID != rs.UID {
		return fmt.Errorf("original ReplicaSet %s/%s is gone: got uid %v, wanted %v", rs.Namespace, rs.Name, fresh.UID, rs.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", rs.Namespace, rs.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// ownerPatch is a strategic merge patch of a pod's owner references. The
// pod's UID in it makes the patch fail on a pod recreated under the same
// name.
type ownerPatch struct {
	Metadata ownerPatchMeta `json:"metadata"`
}

type ownerPatchMeta struct {
	OwnerReferences []map[string]any `json:"ownerReferences"`
	UID             types.UID        `json:"uid"`
}

// adoptPod makes rs the controller of pod and returns the patched pod.
func (r *Reconciler) adoptPod(ctx context.Context, rs *stratav1.ReplicaSet, pod *corev1.Pod) (*corev1.Pod, error) {
	log.FromContext(ctx).V(2).Info("Adopting pod", "pod", klog.KObj(pod))
	ref := controllerRef(rs)
	data, err := json.Marshal(ownerPatch{Metadata: ownerPatchMeta{
		OwnerReferences: []map[string]any{{
			"apiVersion":         ref.APIVersion,
			"kind":               ref.Kind,
			"name":               ref.Name,
			"uid":                ref.UID,
			"controller":         true,
			"blockOwnerDeletion": true,
		}},
		UID: pod.UID,
	}})
	if err != nil {
		return nil, err
	}
	adopted := pod.DeepCopy()
	if err := r.Patch(ctx, adopted, client.RawPatch(types.StrategicMergePatchType, data)); err != nil {
		return nil, fmt.Errorf("adopting pod %s: %w", klog.KObj(pod), err)
	}
	return adopted, nil
}

// releasePod removes rs's owner reference from pod. A pod that is gone or
// was replaced needs no release.
func (r *Reconciler) releasePod(ctx context.Context, rs *stratav1.ReplicaSet, pod *corev1.Pod) error {
	log.FromContext(ctx).V(2).Info("Releasing pod", "pod", klog.KObj(pod))
	data, err := json.Marshal(ownerPatch{Metadata: ownerPatchMeta{
		OwnerReferences: []map[string]any{{"$patch": "delete", "uid": rs.UID}},
		UID:             pod.UID,
	}})
	if err != nil {
		return err
	}
	err = r.Patch(ctx, pod.DeepCopy(), client.RawPatch(types.StrategicMergePatchType, data))
	if apierrors.IsNotFound(err) || isUIDConflict(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("releasing pod %s: %w", klog.KObj(pod), err)
	}
	return nil
}

// isUIDConflict reports whether err is the Invalid error of a patch whose
// metadata.uid no longer matches the pod.
func isUIDConflict(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	if d := status.Status().Details; d != nil {
		for _, c := range d.Causes {
			if c.Field == "metadata.uid" {
				return true
			}
		}
	}
	return false
}

// splitPods separates the active pods from the terminating ones; pods that
// have finished (Succeeded, Failed) are in neither.
func splitPods(pods []*corev1.Pod) (active, terminating []*corev1.Pod) {
	for _, pod := range pods {
		switch {
		case isPodActive(pod):
			active = append(active, pod)
		case isPodTerminating(pod):
			terminating = append(terminating, pod)
		}
	}
	return active, terminating
}

// controlledAndSelected returns the pods of pods that rs controls and
// selects, without adopting or releasing any (for terminating pods).
func controlledAndSelected(rs *stratav1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pod := range pods {
		if ref := metav1.GetControllerOf(pod); ref != nil && ref.UID == rs.UID && selector.Matches(labels.Set(pod.Labels)) {
			out = append(out, pod)
		}
	}
	return out
}
