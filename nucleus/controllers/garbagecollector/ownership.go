package garbagecollector

import (
	"encoding/json"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ownerState is what the collector found when it looked an owner up.
type ownerState int

const (
	// ownerSolid exists and is not waiting for its dependents.
	ownerSolid ownerState = iota
	// ownerDangling does not exist (or exists with another UID).
	ownerDangling
	// ownerWaiting is being deleted in the foreground: it waits for its
	// blocking dependents to go.
	ownerWaiting
)

// verdict is what to do with a dependent, given its owners.
type verdict struct {
	// removeOwners are owner UIDs to drop from the dependent's references.
	removeOwners []types.UID
	// delete means the dependent is garbage; policy says how to delete it.
	delete bool
	policy metav1.DeletionPropagation
}

// decide applies upstream's rules to a dependent whose owners are in
// states (one per owner reference, same order):
//   - with at least one solid owner it lives on; references to dangling owners
//     and to owners waiting for it are removed, so they stop blocking;
//   - with no solid owner but an owner waiting for it, and dependents of its
//     own, it is deleted in the foreground, so the wait covers the whole tree;
//   - otherwise it is garbage, deleted with the policy its own finalizers
//     ask for (orphan, foreground) or in the background.
func decide(refs []metav1.OwnerReference, states []ownerState, finalizers []string, hasDependents bool) verdict {
	var solid, dangling, waiting []types.UID
	for i, ref := range refs {
		switch states[i] {
		case ownerSolid:
			solid = append(solid, ref.UID)
		case ownerDangling:
			dangling = append(dangling, ref.UID)
		case ownerWaiting:
			waiting = append(waiting, ref.UID)
		}
	}
	switch {
	case len(refs) == 0:
		return verdict{}
	case len(solid) > 0:
		return verdict{removeOwners: append(dangling, waiting...)}
	case len(waiting) > 0 && hasDependents:
		return verdict{delete: true, policy: metav1.DeletePropagationForeground}
	case slices.Contains(finalizers, metav1.FinalizerOrphanDependents):
		return verdict{delete: true, policy: metav1.DeletePropagationOrphan}
	case slices.Contains(finalizers, metav1.FinalizerDeleteDependents):
		return verdict{delete: true, policy: metav1.DeletePropagationForeground}
	default:
		return verdict{delete: true, policy: metav1.DeletePropagationBackground}
	}
}

// isDeletingDependents reports whether o is being deleted in the foreground.
func isDeletingDependents(o metav1.Object) bool {
	return o.GetDeletionTimestamp() != nil && slices.Contains(o.GetFinalizers(), metav1.FinalizerDeleteDependents)
}

// isOrphaning reports whether o is being deleted with its dependents orphaned.
func isOrphaning(o metav1.Object) bool {
	return o.GetDeletionTimestamp() != nil && slices.Contains(o.GetFinalizers(), metav1.FinalizerOrphanDependents)
}

// blocks reports whether dependent's reference to owner blocks the owner's
// foreground deletion.
func blocks(dependent metav1.Object, owner types.UID) bool {
	for _, ref := range dependent.GetOwnerReferences() {
		if ref.UID == owner && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
			return true
		}
	}
	return false
}

// withoutOwners returns refs minus those to the given owners.
func withoutOwners(refs []metav1.OwnerReference, owners []types.UID) []metav1.OwnerReference {
	return slices.DeleteFunc(slices.Clone(refs), func(r metav1.OwnerReference) bool { return slices.Contains(owners, r.UID) })
}

// metadataPatch is a JSON merge patch replacing ownerReferences or
// finalizers, pinned to resourceVersion so that a concurrent change makes it
// fail with a conflict instead of being overwritten.
func metadataPatch(resourceVersion string, field string, value interface{}) ([]byte, error) {
	return json.Marshal(map[string]interface{}{
		"metadata": map[string]interface{}{
			"resourceVersion": resourceVersion,
			field:             value,
		},
	})
}
