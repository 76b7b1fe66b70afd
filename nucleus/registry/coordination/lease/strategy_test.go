package lease

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

func TestValidateSpec(t *testing.T) {
	tests := []struct {
		name string
		spec coordinationv1.LeaseSpec
		want []string
	}{
		{name: "empty"},
		{name: "valid", spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("a"), LeaseDurationSeconds: ptr.To[int32](15), LeaseTransitions: ptr.To[int32](0)}},
		{name: "zero duration", spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](0)}, want: []string{"spec.leaseDurationSeconds: Invalid value"}},
		{name: "negative transitions", spec: coordinationv1.LeaseSpec{LeaseTransitions: ptr.To[int32](-1)}, want: []string{"spec.leaseTransitions: Invalid value"}},
		{name: "known strategy", spec: coordinationv1.LeaseSpec{Strategy: ptr.To(coordinationv1.OldestEmulationVersion), PreferredHolder: ptr.To("b")}},
		{name: "custom strategy", spec: coordinationv1.LeaseSpec{Strategy: ptr.To(coordinationv1.CoordinatedLeaseStrategy("example.com/newest"))}},
		{name: "unknown strategy", spec: coordinationv1.LeaseSpec{Strategy: ptr.To(coordinationv1.CoordinatedLeaseStrategy("Newest"))}, want: []string{"spec.strategy: Unsupported value"}},
		{name: "preferred holder without strategy", spec: coordinationv1.LeaseSpec{PreferredHolder: ptr.To("b")}, want: []string{"spec.preferredHolder: Forbidden"}},
	}
	for _, tt := range tests {
		got := validationtest.Summary(ValidateSpec(&tt.spec, field.NewPath("spec")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestRow(t *testing.T) {
	held := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("node-1")}}
	if diff := cmp.Diff([]interface{}{"node-1", "node-1", "<unknown>"}, Definition.Row(held)); diff != "" {
		t.Errorf("held lease (-want +got)\n%s", diff)
	}
	free := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "lock"}}
	if diff := cmp.Diff([]interface{}{"lock", "", "<unknown>"}, Definition.Row(free)); diff != "" {
		t.Errorf("free lease (-want +got)\n%s", diff)
	}
}
