package node

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

const (
	// roleLabelPrefix marks a node role: node-role.kubernetes.io/<role>.
	roleLabelPrefix = "node-role.kubernetes.io/"
	// roleLabel is the legacy role label: kubernetes.io/role=<role>.
	roleLabel = "kubernetes.io/role"
)

var columns = []metav1.TableColumnDefinition{
	store.NameColumn,
	{Name: "Status", Type: "string", Description: "The status of the node"},
	{Name: "Roles", Type: "string", Description: "The roles of the node"},
	store.AgeColumn,
	{Name: "Version", Type: "string", Description: corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]},
	{Name: "Internal-IP", Type: "string", Priority: 1, Description: corev1.NodeStatus{}.SwaggerDoc()["addresses"]},
	{Name: "External-IP", Type: "string", Priority: 1, Description: corev1.NodeStatus{}.SwaggerDoc()["addresses"]},
	{Name: "OS-Image", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]},
	{Name: "Kernel-Version", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]},
	{Name: "Container-Runtime", Type: "string", Priority: 1, Description: corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]},
}

// row prints a node like kubectl get nodes -o wide.
func row(n *corev1.Node) []interface{} {
	info := n.Status.NodeInfo
	return []interface{}{
		n.Name,
		status(n),
		roles(n),
		store.Age(n.CreationTimestamp),
		info.KubeletVersion,
		address(n, corev1.NodeInternalIP),
		address(n, corev1.NodeExternalIP),
		orUnknown(info.OSImage),
		orUnknown(info.KernelVersion),
		orUnknown(info.ContainerRuntimeVersion),
	}
}

// status prints the Ready condition ("Ready", "NotReady", or "Unknown"
// without one) and ",SchedulingDisabled" for a cordoned node.
func status(n *corev1.Node) string {
	s := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		s = "NotReady"
		if c.Status == corev1.ConditionTrue {
			s = "Ready"
		}
	}
	if n.Spec.Unschedulable {
		s += ",SchedulingDisabled"
	}
	return s
}

// roles lists the node's roles, sorted, from its role labels, or "<none>".
func roles(n *corev1.Node) string {
	set := map[string]bool{}
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, roleLabelPrefix) && k != roleLabelPrefix:
			set[strings.TrimPrefix(k, roleLabelPrefix)] = true
		case k == roleLabel && v != "":
			set[v] = true
		}
	}
	if len(set) == 0 {
		return "<none>"
	}
	list := make([]string, 0, len(set))
	for r := range set {
		list = append(list, r)
	}
	sort.Strings(list)
	return strings.Join(list, ",")
}

// address returns the node's first address of type t, or "<none>".
func address(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
