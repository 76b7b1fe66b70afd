package garbagecollector

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestDecide(t *testing.T) {
	refs := func(uids ...types.UID) []metav1.OwnerReference {
		var out []metav1.OwnerReference
		for _, u := range uids {
			out = append(out, metav1.OwnerReference{UID: u})
		}
		return out
	}
	tests := []struct {
		name          string
		refs          []metav1.OwnerReference
		states        []ownerState
		finalizers    []string
		hasDependents bool
		want          verdict
	}{
		{name: "no owners", want: verdict{}},
		{name: "solid owner", refs: refs("a"), states: []ownerState{ownerSolid}, want: verdict{}},
		{name: "dangling owner", refs: refs("a"), states: []ownerState{ownerDangling},
			want: verdict{delete: true, policy: metav1.DeletePropagationBackground}},
		{name: "one solid one dangling: drop the dangling reference", refs: refs("a", "b"), states: []ownerState{ownerSolid, ownerDangling},
			want: verdict{removeOwners: []types.UID{"b"}}},
		{name: "solid and waiting: drop the waiting reference", refs: refs("a", "b"), states: []ownerState{ownerWaiting, ownerSolid},
			want: verdict{removeOwners: []types.UID{"a"}}},
		{name: "waiting owner, no dependents of its own", refs: refs("a"), states: []ownerState{ownerWaiting},
			want: verdict{delete: true, policy: metav1.DeletePropagationBackground}},
		{name: "waiting owner and dependents: foreground", refs: refs("a"), states: []ownerState{ownerWaiting}, hasDependents: true,
			want: verdict{delete: true, policy: metav1.DeletePropagationForeground}},
		{name: "own orphan finalizer", refs: refs("a"), states: []ownerState{ownerDangling}, finalizers: []string{metav1.FinalizerOrphanDependents},
			want: verdict{delete: true, policy: metav1.DeletePropagationOrphan}},
		{name: "own foreground finalizer", refs: refs("a"), states: []ownerState{ownerDangling}, finalizers: []string{metav1.FinalizerDeleteDependents},
			want: verdict{delete: true, policy: metav1.DeletePropagationForeground}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.refs, tt.states, tt.finalizers, tt.hasDependents)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(verdict{})); diff != "" {
				t.Errorf("verdict (-want +got)\n%s", diff)
			}
		})
	}
}

func TestWithoutOwnersAndBlocks(t *testing.T) {
	yes := true
	refs := []metav1.OwnerReference{{UID: "a", BlockOwnerDeletion: &yes}, {UID: "b"}}
	if diff := cmp.Diff([]metav1.OwnerReference{{UID: "b"}}, withoutOwners(refs, []types.UID{"a"})); diff != "" {
		t.Errorf("withoutOwners (-want +got)\n%s", diff)
	}
	if len(refs) != 2 {
		t.Errorf("withoutOwners changed its input")
	}
	dep := &metav1.ObjectMeta{OwnerReferences: refs}
	if !blocks(dep, "a") || blocks(dep, "b") || blocks(dep, "c") {
		t.Errorf("blocks: want only a to block")
	}
}

func TestMetadataPatch(t *testing.T) {
	got, err := metadataPatch("42", "finalizers", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"metadata":{"finalizers":[],"resourceVersion":"42"}}`; string(got) != want {
		t.Errorf("patch = %s, want %s", got, want)
	}
}
