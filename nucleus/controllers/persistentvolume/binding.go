package persistentvolume

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagehelpers "k8s.io/component-helpers/storage/volume"
	"k8s.io/utils/ptr"
)

// event is an Event the controller records on a claim or a volume.
type event struct {
	Type, Reason, Message string
}

// Event reasons and messages, as upstream's PV controller words them.
const (
	reasonFailedBinding      = "FailedBinding"
	reasonVolumeMismatch     = "VolumeMismatch"
	reasonProvisioningFailed = "ProvisioningFailed"
	reasonClaimLost          = "ClaimLost"
	reasonClaimMisbound      = "ClaimMisbound"

	msgNoVolumeNoClass = "no persistent volumes available for this claim and no storage class is set"
	msgLostReference   = "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"
	msgLostVolume      = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
	msgMisbound        = "Two claims are bound to the same volume, this one is bound incorrectly"
)

// claimStep is what syncing a claim does.
type claimStep int

const (
	// claimWait leaves the claim as it is: it waits for a volume of its
	// class (which no provisioner here will create).
	claimWait claimStep = iota
	// claimPending sets the claim Pending without a volume.
	claimPending
	// claimBind binds the claim and decision.volume to each other (or
	// finishes a binding half done).
	claimBind
	// claimLost sets the claim Lost, recording the event only when the
	// phase changes.
	claimLost
)

// claimDecision is the outcome of decideClaim.
type claimDecision struct {
	step   claimStep
	volume *corev1.PersistentVolume
	// event is recorded on the claim: every sync for claimPending and
	// claimWait, once (on the phase change) for claimLost.
	event *event
	// err fails the sync so the claim is retried.
	err error
}

// decideClaim decides what a sync of claim does, given every
// PersistentVolume the controller knows, following upstream's syncClaim:
// a claim without the bind-completed annotation is matched (or waits for
// the volume it names), a claim with it is kept bound or declared Lost.
func decideClaim(claim *corev1.PersistentVolumeClaim, volumes []*corev1.PersistentVolume) claimDecision {
	byName := func(name string) *corev1.PersistentVolume {
		for _, v := range volumes {
			if v.Name == name {
				return v
			}
		}
		return nil
	}
	if metav1.HasAnnotation(claim.ObjectMeta, storagehelpers.AnnBindCompleted) {
		return decideBoundClaim(claim, byName(claim.Spec.VolumeName))
	}
	if claim.Spec.VolumeName == "" {
		volume, err := findBestMatch(claim, volumes)
		switch {
		case err != nil:
			return claimDecision{err: fmt.Errorf("error finding PV for claim %q: %w", claimKey(claim), err)}
		case volume != nil:
			return claimDecision{step: claimBind, volume: volume}
		case storagehelpers.GetPersistentVolumeClaimClass(claim) != "":
			// Upstream would provision from the StorageClass; this
			// nucleus serves no StorageClasses, so the class is never
			// found — the message upstream gives for a missing class.
			return claimDecision{step: claimWait, event: &event{corev1.EventTypeWarning, reasonProvisioningFailed,
				fmt.Sprintf("storageclass.storage.k8s.io %q not found", storagehelpers.GetPersistentVolumeClaimClass(claim))}}
		default:
			return claimDecision{step: claimPending, event: &event{corev1.EventTypeNormal, reasonFailedBinding, msgNoVolumeNoClass}}
		}
	}
	// The user asked for a specific volume.
	volume := byName(claim.Spec.VolumeName)
	switch {
	case volume == nil:
		// It may be created later.
		return claimDecision{step: claimPending}
	case volume.Spec.ClaimRef == nil:
		if err := checkVolumeSatisfyClaim(volume, claim); err != nil {
			return claimDecision{step: claimPending, event: &event{corev1.EventTypeWarning, reasonVolumeMismatch,
				fmt.Sprintf("Cannot bind to requested volume %q: %s", volume.Name, err)}}
		}
		return claimDecision{step: claimBind, volume: volume}
	case storagehelpers.IsVolumeBoundToClaim(volume, claim):
		// Pre-bound both ways, or half bound: finish it.
		return claimDecision{step: claimBind, volume: volume}
	default:
		ev := &event{corev1.EventTypeWarning, reasonFailedBinding, fmt.Sprintf("volume %q already bound to a different claim.", volume.Name)}
		if !metav1.HasAnnotation(claim.ObjectMeta, storagehelpers.AnnBoundByController) {
			// The user asked for a volume another claim holds: wait.
			return claimDecision{step: claimPending, event: ev}
		}
		return claimDecision{event: ev, err: fmt.Errorf("invalid binding of claim %q to volume %q: volume already claimed by %q",
			claimKey(claim), claim.Spec.VolumeName, refKey(volume.Spec.ClaimRef))}
	}
}

func decideBoundClaim(claim *corev1.PersistentVolumeClaim, volume *corev1.PersistentVolume) claimDecision {
	switch {
	case claim.Spec.VolumeName == "":
		return claimDecision{step: claimLost, event: &event{corev1.EventTypeWarning, reasonClaimLost, msgLostReference}}
	case volume == nil:
		return claimDecision{step: claimLost, event: &event{corev1.EventTypeWarning, reasonClaimLost, msgLostVolume}}
	case volume.Spec.ClaimRef == nil, volume.Spec.ClaimRef.UID == claim.UID:
		// Bound (binding again sets whatever is missing), or the volume
		// came unbound and gets bound again.
		return claimDecision{step: claimBind, volume: volume}
	default:
		return claimDecision{step: claimLost, event: &event{corev1.EventTypeWarning, reasonClaimMisbound, msgMisbound}}
	}
}

// checkVolumeSatisfyClaim tells why volume, which claim names in
// spec.volumeName, cannot serve it (upstream's wording), or nil. The claim's
// selector is not consulted: naming a volume overrides it.
func checkVolumeSatisfyClaim(volume *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	requested := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	capacity := volume.Spec.Capacity[corev1.ResourceStorage]
	switch {
	case volume.DeletionTimestamp != nil:
		return fmt.Errorf("the volume is marked for deletion %q", volume.Name)
	case capacity.Value() < requested.Value():
		return fmt.Errorf("requested PV is too small")
	case storagehelpers.GetPersistentVolumeClass(volume) != storagehelpers.GetPersistentVolumeClaimClass(claim):
		return fmt.Errorf("storageClassName does not match")
	case storagehelpers.CheckVolumeModeMismatches(&claim.Spec, &volume.Spec):
		return fmt.Errorf("incompatible volumeMode")
	case !storagehelpers.CheckAccessModes(claim, volume):
		return fmt.Errorf("incompatible accessMode")
	case ptr.Deref(claim.Spec.VolumeAttributesClassName, "") != ptr.Deref(volume.Spec.VolumeAttributesClassName, ""):
		return fmt.Errorf("volumeAttributesClassName does not match")
	}
	return nil
}

// findBestMatch returns the volume claim should bind to, or nil: a volume
// pre-bound to the claim (spec.claimRef naming it) if there is one, else
// the smallest Available volume of the claim's class whose labels match
// its selector, with enough capacity and the same volumeMode. Volumes are
// searched by sets of access modes that contain all the claim asks for,
// fewest modes first, as upstream's index does — a claim for
// ReadWriteOnce gets a ReadWriteOnce volume before a larger-choice one.
// Volumes pre-bound to other claims are never chosen.
func findBestMatch(claim *corev1.PersistentVolumeClaim, volumes []*corev1.PersistentVolume) (*corev1.PersistentVolume, error) {
	groups := map[string][]*corev1.PersistentVolume{}
	for _, v := range volumes {
		key := modesKey(v.Spec.AccessModes)
		groups[key] = append(groups[key], v)
	}
	var keys []string
	for key, group := range groups {
		if containsAllModes(group[0].Spec.AccessModes, claim.Spec.AccessModes) {
			keys = append(keys, key)
		}
	}
	// Fewest modes first; ties in a stable order.
	sort.Slice(keys, func(i, j int) bool {
		if ni, nj := numModes(keys[i]), numModes(keys[j]); ni != nj {
			return ni < nj
		}
		return keys[i] < keys[j]
	})
	for _, key := range keys {
		group := slices.Clone(groups[key])
		// Among equally small volumes the first by name wins.
		sort.Slice(group, func(i, j int) bool { return group[i].Name < group[j].Name })
		// The helper upstream's controller and scheduler share: no node
		// (no topology), no exclusions, Immediate binding, the
		// VolumeAttributesClass feature on (GA).
		v, err := storagehelpers.FindMatchingVolume(claim, group, nil, nil, false, true)
		if err != nil {
			return nil, err
		}
		if v != nil {
			return v, nil
		}
	}
	return nil, nil
}

// modesKey is a set of access modes as a canonical string.
func modesKey(modes []corev1.PersistentVolumeAccessMode) string {
	var names []string
	for _, m := range modes {
		if !slices.Contains(names, string(m)) {
			names = append(names, string(m))
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func numModes(key string) int {
	if key == "" {
		return 0
	}
	return strings.Count(key, ",") + 1
}

func containsAllModes(have, want []corev1.PersistentVolumeAccessMode) bool {
	for _, m := range want {
		if !slices.Contains(have, m) {
			return false
		}
	}
	return true
}

func claimKey(claim *corev1.PersistentVolumeClaim) string {
	return claim.Namespace + "/" + claim.Name
}

func refKey(ref *corev1.ObjectReference) string {
	return ref.Namespace + "/" + ref.Name
}
