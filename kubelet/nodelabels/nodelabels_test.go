package nodelabels

import (
	"strings"
	"testing"
)

func TestIsKubeletLabel(t *testing.T) {
	for _, tc := range []struct {
		key                 string
		kubernetes, kubelet bool
		restricted          bool
	}{
		{key: "kubernetes.io/hostname", kubernetes: true, kubelet: true},
		{key: "kubernetes.io/os", kubernetes: true, kubelet: true},
		{key: "beta.kubernetes.io/arch", kubernetes: true, kubelet: true},
		{key: "topology.kubernetes.io/zone", kubernetes: true, kubelet: true},
		{key: "node.kubernetes.io/instance-type", kubernetes: true, kubelet: true},
		{key: "node.kubernetes.io/anything", kubernetes: true, kubelet: true},
		{key: "example.node.kubernetes.io/x", kubernetes: true, kubelet: true},
		{key: "kubelet.kubernetes.io/x", kubernetes: true, kubelet: true},
		{key: "node-role.kubernetes.io/control-plane", kubernetes: true},
		{key: "kubernetes.io/role", kubernetes: true},
		{key: "foo.k8s.io/bar", kubernetes: true},
		{key: "node-restriction.kubernetes.io/pool", kubernetes: true, restricted: true},
		{key: "a.node-restriction.kubernetes.io/pool", kubernetes: true, restricted: true},
		{key: "example.com/pool", kubelet: false},
		{key: "type"},
		{key: "notkubernetes.io/x"},
	} {
		if got := IsKubernetesLabel(tc.key); got != tc.kubernetes {
			t.Errorf("IsKubernetesLabel(%q) = %v, want %v", tc.key, got, tc.kubernetes)
		}
		if got := IsKubeletLabel(tc.key); got != tc.kubelet {
			t.Errorf("IsKubeletLabel(%q) = %v, want %v", tc.key, got, tc.kubelet)
		}
		if got := IsRestricted(tc.key); got != tc.restricted {
			t.Errorf("IsRestricted(%q) = %v, want %v", tc.key, got, tc.restricted)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(map[string]string{"type": "gpu", "node.kubernetes.io/pool": "a", "example.com/x": "y"}); err != nil {
		t.Errorf("allowed labels refused: %v", err)
	}
	err := Validate(map[string]string{"node-role.kubernetes.io/worker": "", "k8s.io/x": "", "ok": ""})
	if err == nil || !strings.HasPrefix(err.Error(), "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [k8s.io/x node-role.kubernetes.io/worker]") {
		t.Errorf("error = %v", err)
	}
}
