package persistentvolume

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagehelpers "k8s.io/component-helpers/storage/volume"
)

// Event reasons and messages of volumes, as upstream words them.
const (
	reasonVolumeFailedRecycle        = "VolumeFailedRecycle"
	reasonVolumeFailedDelete         = "VolumeFailedDelete"
	reasonVolumeUnknownReclaimPolicy = "VolumeUnknownReclaimPolicy"

	msgNoRecycler           = "No recycler plugin found for the volume!"
	msgUnknownReclaimPolicy = "Volume has unrecognized PersistentVolumeReclaimPolicy"
)

// volumeStep is what syncing a volume does.
type volumeStep int

const (
	// volumeSetPhase sets decision.phase (nothing when it is already set).
	volumeSetPhase volumeStep = iota
	// volumeRelease marks a volume whose claim is gone Released (a Failed
	// one stays Failed) and carries out its reclaim policy.
	volumeRelease
	// volumeSyncClaim leaves the volume alone and syncs its claim, which
	// finishes a binding the volume already has.
	volumeSyncClaim
	// volumeUnbind rolls back a binding its claim does not share: the
	// controller's binding is removed, a user's pre-binding loses its UID.
	volumeUnbind
	// volumeMismatch only records decision's events.
	volumeMismatch
)

// volumeDecision is the outcome of decideVolume.
type volumeDecision struct {
	step                    volumeStep
	phase                   corev1.PersistentVolumePhase
	volumeEvent, claimEvent *event
}

// decideVolume decides what a sync of volume does, following upstream's
// syncVolume. claim is the claim the volume's claimRef names, nil when it
// does not exist or is another claim of the same name (a different UID).
func decideVolume(volume *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) volumeDecision {
	ref := volume.Spec.ClaimRef
	switch {
	case ref == nil:
		return volumeDecision{step: volumeSetPhase, phase: corev1.VolumeAvailable}
	case ref.UID == "":
		// Reserved for a claim that has not bound yet.
		return volumeDecision{step: volumeSetPhase, phase: corev1.VolumeAvailable}
	case claim == nil:
		return volumeDecision{step: volumeRelease}
	case claim.Spec.VolumeName == "":
		if storagehelpers.CheckVolumeModeMismatches(&claim.Spec, &volume.Spec) {
			return volumeDecision{step: volumeMismatch,
				volumeEvent: &event{corev1.EventTypeWarning, reasonVolumeMismatch,
					fmt.Sprintf("Cannot bind PersistentVolume to requested PersistentVolumeClaim %q due to incompatible volumeMode.", claim.Name)},
				claimEvent: &event{corev1.EventTypeWarning, reasonVolumeMismatch,
					fmt.Sprintf("Cannot bind PersistentVolume %q to requested PersistentVolumeClaim due to incompatible volumeMode.", volume.Name)},
			}
		}
		return volumeDecision{step: volumeSyncClaim}
	case claim.Spec.VolumeName == volume.Name:
		return volumeDecision{step: volumeSetPhase, phase: corev1.VolumeBound}
	case metav1.HasAnnotation(volume.ObjectMeta, storagehelpers.AnnDynamicallyProvisioned) &&
		volume.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete:
		// Provisioned for a claim that got another volume.
		return volumeDecision{step: volumeRelease}
	default:
		return volumeDecision{step: volumeUnbind}
	}
}

// unbound returns volume without the binding its claim does not share, as
// upstream's unbindVolume: a binding the controller made is removed with
// its annotation, a user's pre-binding only loses the claim's UID.
func unbound(volume *corev1.PersistentVolume) *corev1.PersistentVolume {
	out := volume.DeepCopy()
	if metav1.HasAnnotation(volume.ObjectMeta, storagehelpers.AnnBoundByController) {
		out.Spec.ClaimRef = nil
		delete(out.Annotations, storagehelpers.AnnBoundByController)
		if len(out.Annotations) == 0 {
			out.Annotations = nil
		}
	} else {
		out.Spec.ClaimRef.UID = ""
	}
	return out
}

// isReleased reports whether volume's claim is gone (or bound to another
// volume), so its reclaim policy applies. claim is the claim of the
// claimRef's namespace and name, or nil.
func isReleased(volume *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) bool {
	ref := volume.Spec.ClaimRef
	if ref == nil || ref.UID == "" {
		return false
	}
	if claim != nil && claim.UID == ref.UID {
		return claim.Spec.VolumeName != "" && claim.Spec.VolumeName != volume.Name
	}
	return true
}

// reclaimStep is what a released volume's reclaim policy does.
type reclaimStep int

const (
	// reclaimNothing keeps the volume Released: Retain, or another
	// component deletes it.
	reclaimNothing reclaimStep = iota
	// reclaimFail marks the volume Failed with decision.event's message,
	// recording the event on the phase change.
	reclaimFail
	// reclaimEvent only records decision.event.
	reclaimEvent
	// reclaimDelete deletes the PersistentVolume object.
	reclaimDelete
)

// reclaimDecision is the outcome of decideReclaim.
type reclaimDecision struct {
	step  reclaimStep
	event *event
}

// hostPathDeletable is the pattern of the paths upstream's hostPath deleter
// accepts (a testing and development feature).
var hostPathDeletable = regexp.MustCompile("/tmp/.+")

// decideReclaim carries out a released volume's reclaim policy with the
// volume plugins kube-controller-manager has for hostPath and local
// volumes, as far as the nucleus can: usedBy are the pods (namespace/name)
// still using the claim.
//
//   - Retain keeps the volume Released.
//   - Recycle (deprecated) needs a recycler, which the nucleus does not run:
//     the volume becomes Failed ("No recycler plugin found for the
//     volume!") unless pods still use it. Upstream runs a scrubber pod for
//     hostPath volumes.
//   - Delete: upstream's hostPath deleter accepts only paths under /tmp/ and
//     fails others; the nucleus then deletes the PersistentVolume but not
//     the directory, which lives on a node (a kube-controller-manager in a
//     container does not reach the node's /tmp either). Local and every
//     other in-tree volume have no deleter: the volume becomes Failed.
//     Volumes provisioned by an external provisioner are left to it.
func decideReclaim(volume *corev1.PersistentVolume, usedBy []string) reclaimDecision {
	if volume.Annotations[storagehelpers.AnnMigratedTo] != "" {
		return reclaimDecision{step: reclaimNothing}
	}
	switch volume.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain:
		return reclaimDecision{step: reclaimNothing}
	case corev1.PersistentVolumeReclaimRecycle:
		if len(usedBy) > 0 {
			return reclaimDecision{step: reclaimEvent, event: &event{corev1.EventTypeNormal, reasonVolumeFailedRecycle,
				"Volume is used by pods: " + strings.Join(usedBy, ",")}}
		}
		return reclaimDecision{step: reclaimFail, event: &event{corev1.EventTypeWarning, reasonVolumeFailedRecycle, msgNoRecycler}}
	case corev1.PersistentVolumeReclaimDelete:
		if by := volume.Annotations[storagehelpers.AnnDynamicallyProvisioned]; by != "" && !strings.HasPrefix(by, "kubernetes.io/") {
			// An external provisioner deletes what it provisioned.
			return reclaimDecision{step: reclaimNothing}
		}
		if hp := volume.Spec.HostPath; hp != nil {
			if !hostPathDeletable.MatchString(hp.Path) {
				return reclaimDecision{step: reclaimFail, event: &event{corev1.EventTypeWarning, reasonVolumeFailedDelete,
					fmt.Sprintf("host_path deleter only supports /tmp/.+ but received provided %s", hp.Path)}}
			}
			return reclaimDecision{step: reclaimDelete}
		}
		return reclaimDecision{step: reclaimFail, event: &event{corev1.EventTypeWarning, reasonVolumeFailedDelete,
			fmt.Sprintf("error getting deleter volume plugin for volume %q: no deletable volume plugin matched", volume.Name)}}
	default:
		return reclaimDecision{step: reclaimFail, event: &event{corev1.EventTypeWarning, reasonVolumeUnknownReclaimPolicy, msgUnknownReclaimPolicy}}
	}
}

// podsUsing returns namespace/name of the pods that are not finished and
// mount claim namespace/name, as upstream's isVolumeUsed.
func podsUsing(pods []*corev1.Pod, namespace, name string) []string {
	var out []string
	for _, pod := range pods {
		if pod.Namespace != namespace || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == name {
				out = append(out, pod.Namespace+"/"+pod.Name)
				break
			}
		}
	}
	return out
}
