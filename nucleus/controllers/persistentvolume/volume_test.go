package persistentvolume

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagehelpers "k8s.io/component-helpers/storage/volume"
)

func TestDecideVolume(t *testing.T) {
	claim := makeClaim("data").Obj()
	tests := []struct {
		name   string
		volume *corev1.PersistentVolume
		claim  *corev1.PersistentVolumeClaim
		want   volumeDecision
	}{
		{name: "new and unclaimed: Available", volume: makeVolume("pv").Phase(corev1.VolumePending).Obj(),
			want: volumeDecision{step: volumeSetPhase, phase: corev1.VolumeAvailable}},
		{name: "pre-bound, claim not bound yet: Available", volume: makeVolume("pv").PreBound("ns", "data").Phase(corev1.VolumePending).Obj(),
			want: volumeDecision{step: volumeSetPhase, phase: corev1.VolumeAvailable}},
		{name: "bound both ways: Bound", volume: makeVolume("pv").BoundTo(claim).Phase(corev1.VolumeAvailable).Obj(),
			claim: makeClaim("data").Bound("pv").Obj(),
			want:  volumeDecision{step: volumeSetPhase, phase: corev1.VolumeBound}},
		{name: "claim gone: released", volume: makeVolume("pv").BoundTo(claim).Obj(),
			want: volumeDecision{step: volumeRelease}},
		{name: "claim not bound yet: the claim's sync finishes", volume: makeVolume("pv").BoundTo(claim).Obj(),
			claim: claim,
			want:  volumeDecision{step: volumeSyncClaim}},
		{name: "claim not bound yet and of another volumeMode: mismatch events", volume: makeVolume("pv").PreBound("ns", "data").ClaimUID(claim.UID).Obj(),
			claim: makeClaim("data").Block().Obj(),
			want: volumeDecision{step: volumeMismatch,
				volumeEvent: &event{"Warning", "VolumeMismatch", `Cannot bind PersistentVolume to requested PersistentVolumeClaim "data" due to incompatible volumeMode.`},
				claimEvent:  &event{"Warning", "VolumeMismatch", `Cannot bind PersistentVolume "pv" to requested PersistentVolumeClaim due to incompatible volumeMode.`}}},
		{name: "claim bound to another volume: unbind", volume: makeVolume("pv").BoundTo(claim).Obj(),
			claim: makeClaim("data").Bound("other").Obj(),
			want:  volumeDecision{step: volumeUnbind}},
		{name: "provisioned for a claim bound elsewhere, Delete: released",
			volume: makeVolume("pv").BoundTo(claim).Annotate(storagehelpers.AnnDynamicallyProvisioned, "x").Reclaim(corev1.PersistentVolumeReclaimDelete).Obj(),
			claim:  makeClaim("data").Bound("other").Obj(),
			want:   volumeDecision{step: volumeRelease}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, decideVolume(tt.volume, tt.claim), cmp.AllowUnexported(volumeDecision{})); diff != "" {
				t.Errorf("decision (-want +got)\n%s", diff)
			}
		})
	}
}

func TestUnbound(t *testing.T) {
	claim := makeClaim("data").Obj()
	byController := makeVolume("pv").BoundTo(claim).Obj()
	if got := unbound(byController); got.Spec.ClaimRef != nil || got.Annotations != nil {
		t.Errorf("a binding the controller made should go with its annotation: claimRef %v, annotations %v", got.Spec.ClaimRef, got.Annotations)
	}
	if byController.Spec.ClaimRef == nil {
		t.Error("unbound changed its argument")
	}
	byUser := makeVolume("pv").PreBound("ns", "data").ClaimUID(claim.UID).Obj()
	want := &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: "ns", Name: "data"}
	if diff := cmp.Diff(want, unbound(byUser).Spec.ClaimRef); diff != "" {
		t.Errorf("a user's pre-binding should only lose the UID (-want +got)\n%s", diff)
	}
}

func TestIsReleased(t *testing.T) {
	claim := makeClaim("data").Bound("pv").Obj()
	tests := []struct {
		name   string
		volume *corev1.PersistentVolume
		claim  *corev1.PersistentVolumeClaim
		want   bool
	}{
		{"unclaimed", makeVolume("pv").Obj(), nil, false},
		{"pre-bound, not bound yet", makeVolume("pv").PreBound("ns", "data").Obj(), nil, false},
		{"claim exists", makeVolume("pv").BoundTo(claim).Obj(), claim, false},
		{"claim exists, not bound yet", makeVolume("pv").BoundTo(claim).Obj(), makeClaim("data").Obj(), false},
		{"claim gone", makeVolume("pv").BoundTo(claim).Obj(), nil, true},
		{"a new claim of the same name", makeVolume("pv").BoundTo(claim).ClaimUID("old").Obj(), claim, true},
		{"claim bound to another volume", makeVolume("pv").BoundTo(claim).Obj(), makeClaim("data").Bound("other").Obj(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isReleased(tt.volume, tt.claim); got != tt.want {
				t.Errorf("isReleased = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecideReclaim(t *testing.T) {
	claim := makeClaim("data").Obj()
	released := func(p corev1.PersistentVolumeReclaimPolicy) volumeBuilder {
		return makeVolume("pv").BoundTo(claim).Phase(corev1.VolumeReleased).Reclaim(p)
	}
	local := corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/mnt/disks/a"}}
	tests := []struct {
		name   string
		volume *corev1.PersistentVolume
		usedBy []string
		want   reclaimDecision
	}{
		{name: "Retain keeps it", volume: released(corev1.PersistentVolumeReclaimRetain).Obj(),
			want: reclaimDecision{step: reclaimNothing}},
		{name: "Recycle without a recycler: Failed", volume: released(corev1.PersistentVolumeReclaimRecycle).Obj(),
			want: reclaimDecision{step: reclaimFail, event: &event{"Warning", "VolumeFailedRecycle", "No recycler plugin found for the volume!"}}},
		{name: "Recycle while pods use the claim: waits", volume: released(corev1.PersistentVolumeReclaimRecycle).Obj(),
			usedBy: []string{"ns/a", "ns/b"},
			want:   reclaimDecision{step: reclaimEvent, event: &event{"Normal", "VolumeFailedRecycle", "Volume is used by pods: ns/a,ns/b"}}},
		{name: "Delete, hostPath outside /tmp: Failed", volume: released(corev1.PersistentVolumeReclaimDelete).Obj(),
			want: reclaimDecision{step: reclaimFail, event: &event{"Warning", "VolumeFailedDelete", "host_path deleter only supports /tmp/.+ but received provided /srv/pv"}}},
		{name: "Delete, hostPath under /tmp: the object is deleted",
			volume: released(corev1.PersistentVolumeReclaimDelete).Source(corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/data"}}).Obj(),
			want:   reclaimDecision{step: reclaimDelete}},
		{name: "Delete, /tmp itself is not deletable",
			volume: released(corev1.PersistentVolumeReclaimDelete).Source(corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/"}}).Obj(),
			want:   reclaimDecision{step: reclaimFail, event: &event{"Warning", "VolumeFailedDelete", "host_path deleter only supports /tmp/.+ but received provided /tmp/"}}},
		{name: "Delete, local: no deleter", volume: released(corev1.PersistentVolumeReclaimDelete).Source(local).Obj(),
			want: reclaimDecision{step: reclaimFail, event: &event{"Warning", "VolumeFailedDelete", `error getting deleter volume plugin for volume "pv": no deletable volume plugin matched`}}},
		{name: "Delete of an externally provisioned volume is the provisioner's",
			volume: released(corev1.PersistentVolumeReclaimDelete).Source(local).Annotate(storagehelpers.AnnDynamicallyProvisioned, "rancher.io/local-path").Obj(),
			want:   reclaimDecision{step: reclaimNothing}},
		{name: "migrated volumes are left to the CSI driver",
			volume: released(corev1.PersistentVolumeReclaimDelete).Annotate(storagehelpers.AnnMigratedTo, "csi.example.com").Obj(),
			want:   reclaimDecision{step: reclaimNothing}},
		{name: "unknown policy: Failed", volume: released("Shred").Obj(),
			want: reclaimDecision{step: reclaimFail, event: &event{"Warning", "VolumeUnknownReclaimPolicy", "Volume has unrecognized PersistentVolumeReclaimPolicy"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, decideReclaim(tt.volume, tt.usedBy), cmp.AllowUnexported(reclaimDecision{})); diff != "" {
				t.Errorf("decision (-want +got)\n%s", diff)
			}
		})
	}
}

func TestPodsUsing(t *testing.T) {
	pod := func(ns, name string, phase corev1.PodPhase, claims ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: phase}}
		for _, c := range claims {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
		}
		return p
	}
	pods := []*corev1.Pod{
		pod("ns", "running", corev1.PodRunning, "logs", "data"),
		pod("ns", "pending", corev1.PodPending, "data"),
		pod("ns", "done", corev1.PodSucceeded, "data"),
		pod("ns", "other-claim", corev1.PodRunning, "logs"),
		pod("elsewhere", "same-name", corev1.PodRunning, "data"),
	}
	if diff := cmp.Diff([]string{"ns/running", "ns/pending"}, podsUsing(pods, "ns", "data")); diff != "" {
		t.Errorf("pods (-want +got)\n%s", diff)
	}
}

func TestClaimStatus(t *testing.T) {
	volume := makeVolume("pv").Size("5Gi").Modes(rwo, rox).Obj()
	bound := makeClaim("data").Bound("pv").Obj()
	bound.Status.AccessModes = volume.Spec.AccessModes
	bound.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("6Gi")} // resized
	tests := []struct {
		name   string
		claim  *corev1.PersistentVolumeClaim
		phase  corev1.PersistentVolumeClaimPhase
		volume *corev1.PersistentVolume
		want   *corev1.PersistentVolumeClaimStatus
	}{
		{name: "becoming Bound takes the volume's modes and capacity", claim: makeClaim("data").Obj(), phase: corev1.ClaimBound, volume: volume,
			want: &corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: volume.Spec.AccessModes, Capacity: volume.Spec.Capacity}},
		{name: "already Bound: capacity kept, nothing to write", claim: bound, phase: corev1.ClaimBound, volume: volume},
		{name: "Lost drops modes and capacity", claim: bound, phase: corev1.ClaimLost,
			want: &corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimLost}},
		{name: "Pending stays", claim: makeClaim("data").Obj(), phase: corev1.ClaimPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := claimStatus(tt.claim, tt.phase, tt.volume)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("status (-want +got)\n%s", diff)
			}
		})
	}
}
