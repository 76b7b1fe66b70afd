package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestStatus(t *testing.T) {
	ready := func(s corev1.ConditionStatus) []corev1.NodeCondition {
		return []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: s}}
	}
	tests := []struct {
		name          string
		conditions    []corev1.NodeCondition
		unschedulable bool
		want          string
	}{
		{name: "ready", conditions: ready(corev1.ConditionTrue), want: "Ready"},
		{name: "not ready", conditions: ready(corev1.ConditionFalse), want: "NotReady"},
		{name: "ready unknown", conditions: ready(corev1.ConditionUnknown), want: "NotReady"},
		{name: "no ready condition", want: "Unknown"},
		{name: "cordoned", conditions: ready(corev1.ConditionTrue), unschedulable: true, want: "Ready,SchedulingDisabled"},
		{name: "cordoned without condition", unschedulable: true, want: "Unknown,SchedulingDisabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Unschedulable: tt.unschedulable}, Status: corev1.NodeStatus{Conditions: tt.conditions}}
			if got := status(n); got != tt.want {
				t.Errorf("status = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{nil, "<none>"},
		{map[string]string{"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "true"}, "control-plane,etcd"},
		{map[string]string{"kubernetes.io/role": "worker", "node-role.kubernetes.io/": ""}, "worker"},
		{map[string]string{"kubernetes.io/role": "", "topology.kubernetes.io/zone": "a"}, "<none>"},
	}
	for _, tt := range tests {
		if got := roles(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: tt.labels}}); got != tt.want {
			t.Errorf("roles(%v) = %q, want %q", tt.labels, got, tt.want)
		}
	}
}

func TestRow(t *testing.T) {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "node-1"}, {Type: corev1.NodeInternalIP, Address: "10.0.0.1"}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 13", ContainerRuntimeVersion: "containerd://2.1.0"},
		},
	}
	want := []interface{}{"node-1", "Ready", "control-plane", "<unknown>", "v1.37.2", "10.0.0.1", "<none>", "Debian GNU/Linux 13", "<unknown>", "containerd://2.1.0"}
	got := row(n)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if len(got) != len(columns) {
		t.Errorf("row has %d cells for %d columns", len(got), len(columns))
	}
}
