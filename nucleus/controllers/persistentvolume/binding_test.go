package persistentvolume

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestFindBestMatch(t *testing.T) {
	claim := makeClaim("data")
	tests := []struct {
		name    string
		claim   *corev1.PersistentVolumeClaim
		volumes []*corev1.PersistentVolume
		want    string // volume name, "" for none
	}{
		{name: "no volumes", claim: claim.Obj()},
		{name: "the smallest volume that is large enough",
			claim: makeClaim("data").Size("2Gi").Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("big").Size("10Gi").Obj(), makeVolume("small").Size("1Gi").Obj(),
				makeVolume("fits").Size("3Gi").Obj(), makeVolume("exact").Size("2Gi").Obj(),
			},
			want: "exact"},
		{name: "capacity below the request", claim: makeClaim("data").Size("2Gi").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("small").Size("1999Mi").Obj()}},
		{name: "equal sizes: first by name", claim: claim.Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("b").Obj(), makeVolume("a").Obj()},
			want:    "a"},
		{name: "only Available volumes",
			claim: claim.Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("pending").Phase(corev1.VolumePending).Obj(),
				makeVolume("released").Phase(corev1.VolumeReleased).Obj(),
				makeVolume("failed").Phase(corev1.VolumeFailed).Obj(),
			}},
		{name: "a claim without a class gets a volume without one",
			claim:   claim.Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("fast").Class("fast").Obj(), makeVolume("plain").Size("5Gi").Obj()},
			want:    "plain"},
		{name: "a claim with class \"\" gets a volume without one",
			claim:   makeClaim("data").Class("").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("fast").Class("fast").Obj(), makeVolume("plain").Size("5Gi").Obj()},
			want:    "plain"},
		{name: "a claim with a class gets a volume of that class only",
			claim: makeClaim("data").Class("fast").Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("plain").Obj(), makeVolume("slow").Class("slow").Obj(), makeVolume("fast").Class("fast").Size("5Gi").Obj(),
			},
			want: "fast"},
		{name: "the beta class annotation counts as the class",
			claim:   makeClaim("data").Annotate(corev1.BetaStorageClassAnnotation, "fast").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("plain").Obj(), makeVolume("fast").Class("fast").Obj()},
			want:    "fast"},
		{name: "access modes must be a superset",
			claim:   makeClaim("data").Modes(rwx).Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("rwo").Obj(), makeVolume("rox").Modes(rox).Obj()}},
		{name: "fewest extra modes before a smaller volume",
			claim: makeClaim("data").Modes(rwo).Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("many").Modes(rwo, rox, rwx).Size("1Gi").Obj(),
				makeVolume("two").Modes(rox, rwo).Size("5Gi").Obj(),
				makeVolume("exact").Modes(rwo).Size("10Gi").Obj(),
			},
			want: "exact"},
		{name: "a superset when no exact set fits",
			claim: makeClaim("data").Modes(rwo, rox).Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("rwo").Obj(), makeVolume("all").Modes(rwx, rox, rwo).Obj(),
			},
			want: "all"},
		{name: "volumeMode must be equal (unset means Filesystem)",
			claim:   makeClaim("data").Block().Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("fs").Obj(), makeVolume("block").Block().Size("9Gi").Obj()},
			want:    "block"},
		{name: "a filesystem claim skips block volumes",
			claim:   claim.Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("block").Block().Obj()}},
		{name: "the selector matches labels",
			claim: makeClaim("data").Selector("tier", "db").Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("web").Labels("tier", "web").Obj(), makeVolume("nolabels").Obj(),
				makeVolume("db").Labels("tier", "db", "zone", "a").Size("3Gi").Obj(),
			},
			want: "db"},
		{name: "volumes pre-bound to other claims are skipped",
			claim:   claim.Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("reserved").PreBound("ns", "other").Obj(), makeVolume("other-ns").PreBound("elsewhere", "data").Obj()}},
		{name: "a volume bound to another claim is skipped",
			claim:   claim.Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("taken").BoundTo(makeClaim("other").Obj()).Obj()}},
		{name: "a volume pre-bound to the claim wins over a smaller one and ignores class, selector and phase",
			claim: makeClaim("data").Selector("tier", "db").Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("free").Labels("tier", "db").Obj(),
				makeVolume("mine").PreBound("ns", "data").Class("other").Size("5Gi").Phase(corev1.VolumePending).Obj(),
			},
			want: "mine"},
		{name: "a pre-bound volume still needs the capacity",
			claim:   makeClaim("data").Size("2Gi").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("mine").PreBound("ns", "data").Obj()}},
		{name: "a volume pre-bound to an earlier claim of the same name (other UID) is skipped",
			claim: claim.Obj(),
			volumes: []*corev1.PersistentVolume{
				makeVolume("old").PreBound("ns", "data").ClaimUID("an-earlier-claim").Phase(corev1.VolumeReleased).Obj(),
			}},
		{name: "volumes being deleted are skipped",
			claim:   claim.Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("going").Deleting().Obj()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findBestMatch(tt.claim, tt.volumes)
			if err != nil {
				t.Fatal(err)
			}
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tt.want {
				t.Errorf("matched %q, want %q", name, tt.want)
			}
		})
	}
}

func TestCheckVolumeSatisfyClaim(t *testing.T) {
	tests := []struct {
		name   string
		volume *corev1.PersistentVolume
		claim  *corev1.PersistentVolumeClaim
		want   string
	}{
		{"fits", makeVolume("pv").Obj(), makeClaim("c").Obj(), ""},
		{"a larger volume fits", makeVolume("pv").Size("5Gi").Modes(rwo, rox).Obj(), makeClaim("c").Obj(), ""},
		{"the selector does not count", makeVolume("pv").Obj(), makeClaim("c").Selector("a", "b").Obj(), ""},
		{"too small", makeVolume("pv").Size("1Gi").Obj(), makeClaim("c").Size("2Gi").Obj(), "requested PV is too small"},
		{"class", makeVolume("pv").Class("fast").Obj(), makeClaim("c").Obj(), "storageClassName does not match"},
		{"volumeMode", makeVolume("pv").Block().Obj(), makeClaim("c").Obj(), "incompatible volumeMode"},
		{"access modes", makeVolume("pv").Modes(rox).Obj(), makeClaim("c").Obj(), "incompatible accessMode"},
		{"being deleted", makeVolume("pv").Deleting().Obj(), makeClaim("c").Obj(), `the volume is marked for deletion "pv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := checkVolumeSatisfyClaim(tt.volume, tt.claim); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecideClaim(t *testing.T) {
	claim := makeClaim("data").Obj()
	type want struct {
		step   claimStep
		volume string
		event  *event
		err    string
	}
	tests := []struct {
		name    string
		claim   *corev1.PersistentVolumeClaim
		volumes []*corev1.PersistentVolume
		want    want
	}{
		{name: "binds to a matching volume", claim: claim,
			volumes: []*corev1.PersistentVolume{makeVolume("pv").Obj()},
			want:    want{step: claimBind, volume: "pv"}},
		{name: "no volume and no class: Pending with FailedBinding", claim: claim,
			want: want{step: claimPending, event: &event{"Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set"}}},
		{name: "no volume of the class: waits for a provisioner that is not there", claim: makeClaim("data").Class("fast").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").Obj()},
			want:    want{step: claimWait, event: &event{"Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "fast" not found`}}},
		{name: "names a volume that does not exist: Pending, quietly", claim: makeClaim("data").Wants("pv").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("other").Obj()},
			want:    want{step: claimPending}},
		{name: "names a free volume: binds", claim: makeClaim("data").Wants("pv").Selector("x", "y").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").Size("10Gi").Obj(), makeVolume("smaller").Obj()},
			want:    want{step: claimBind, volume: "pv"}},
		{name: "names a volume that does not fit: VolumeMismatch", claim: makeClaim("data").Wants("pv").Size("5Gi").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").Obj()},
			want:    want{step: claimPending, event: &event{"Warning", "VolumeMismatch", `Cannot bind to requested volume "pv": requested PV is too small`}}},
		{name: "names a volume pre-bound to it: binds", claim: makeClaim("data").Wants("pv").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").PreBound("ns", "data").Obj()},
			want:    want{step: claimBind, volume: "pv"}},
		{name: "names a volume another claim holds: waits", claim: makeClaim("data").Wants("pv").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").BoundTo(makeClaim("other").Obj()).Obj()},
			want:    want{step: claimPending, event: &event{"Warning", "FailedBinding", `volume "pv" already bound to a different claim.`}}},
		{name: "a volume pre-bound to the claim binds it", claim: claim,
			volumes: []*corev1.PersistentVolume{makeVolume("a-free-one").Obj(), makeVolume("reserved").PreBound("ns", "data").Size("5Gi").Obj()},
			want:    want{step: claimBind, volume: "reserved"}},
		{name: "bound: kept bound", claim: makeClaim("data").Bound("pv").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").BoundTo(claim).Obj()},
			want:    want{step: claimBind, volume: "pv"}},
		{name: "bound, volume lost its claimRef: bound again", claim: makeClaim("data").Bound("pv").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").Obj()},
			want:    want{step: claimBind, volume: "pv"}},
		{name: "bound, volume deleted: Lost", claim: makeClaim("data").Bound("pv").Obj(),
			want: want{step: claimLost, event: &event{"Warning", "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!"}}},
		{name: "bound, volumeName cleared: Lost", claim: makeClaim("data").Bound("pv").Wants("").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").BoundTo(claim).Obj()},
			want:    want{step: claimLost, event: &event{"Warning", "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"}}},
		{name: "bound, volume bound to another claim: Lost (misbound)", claim: makeClaim("data").Bound("pv").Obj(),
			volumes: []*corev1.PersistentVolume{makeVolume("pv").BoundTo(makeClaim("other").Obj()).Obj()},
			want:    want{step: claimLost, event: &event{"Warning", "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decideClaim(tt.claim, tt.volumes)
			got := want{step: d.step, event: d.event}
			if d.volume != nil {
				got.volume = d.volume.Name
			}
			if d.err != nil {
				got.err = d.err.Error()
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("decision (-want +got)\n%s", diff)
			}
		})
	}
}
