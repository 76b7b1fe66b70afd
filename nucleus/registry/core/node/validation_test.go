package node

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		node corev1.Node
		want []string
	}{
		{name: "dual stack", node: corev1.Node{Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/24", "fd00:10:244::/64"}}}},
		{
			name: "bad CIDR",
			node: corev1.Node{Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/33"}}},
			want: []string{`spec.podCIDRs[0]: Invalid value: "10.244.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`},
		},
		{
			name: "two IPv4 CIDRs",
			node: corev1.Node{Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/24", "10.245.0.0/24"}}},
			want: []string{`spec.podCIDRs: Invalid value: ["10.244.0.0/24","10.245.0.0/24"]: may specify no more than one CIDR for each IP family`},
		},
		{
			name: "taints",
			node: corev1.Node{Spec: corev1.NodeSpec{Taints: []corev1.Taint{
				{Key: "a", Effect: corev1.TaintEffectNoSchedule},
				{Key: "a", Effect: "Sometimes"},
			}}},
			want: []string{`spec.taints[1].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`},
		},
		{
			name: "negative capacity",
			node: corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-1")}}},
			want: []string{`status.capacity[cpu]: Invalid value: "-1": must be greater than or equal to 0`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, errorStrings(Validate(&tt.node))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name     string
		old, new corev1.NodeSpec
		want     []string
	}{
		{name: "CIDR assigned", new: corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/24"}}},
		{name: "provider ID assigned", new: corev1.NodeSpec{ProviderID: "aws:///i-1"}},
		{
			name: "CIDR changed",
			old:  corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/24"}},
			new:  corev1.NodeSpec{PodCIDRs: []string{"10.244.1.0/24"}},
			want: []string{`spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`},
		},
		{
			name: "provider ID changed",
			old:  corev1.NodeSpec{ProviderID: "aws:///i-1"},
			new:  corev1.NodeSpec{ProviderID: "aws:///i-2"},
			want: []string{`spec.providerID: Forbidden: node updates may not change providerID except from "" to valid`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(ValidateUpdate(&corev1.Node{Spec: tt.new}, &corev1.Node{Spec: tt.old}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSyncPodCIDRs(t *testing.T) {
	tests := []struct{ in, want corev1.NodeSpec }{
		{corev1.NodeSpec{}, corev1.NodeSpec{}},
		{corev1.NodeSpec{PodCIDR: "10.0.0.0/24"}, corev1.NodeSpec{PodCIDR: "10.0.0.0/24", PodCIDRs: []string{"10.0.0.0/24"}}},
		{
			corev1.NodeSpec{PodCIDR: "10.9.0.0/24", PodCIDRs: []string{"10.0.0.0/24", "fd00::/64"}},
			corev1.NodeSpec{PodCIDR: "10.0.0.0/24", PodCIDRs: []string{"10.0.0.0/24", "fd00::/64"}},
		},
	}
	for _, tt := range tests {
		got := tt.in
		syncPodCIDRs(&got)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("syncPodCIDRs(%+v) (-want +got):\n%s", tt.in, diff)
		}
	}
}
