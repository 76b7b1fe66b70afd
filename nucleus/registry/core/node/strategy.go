// Package node serves core v1 Nodes (with status).
package node

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the nodes resource. Nodes register themselves with
// their status, so a create keeps the status it is sent.
var Definition = &store.Definition[*corev1.Node]{
	Resource: corev1.Resource("nodes"),
	Singular: "node",
	New:      func() *corev1.Node { return &corev1.Node{} },
	NewList:  func() runtime.Object { return &corev1.NodeList{} },
	Validate: func(_ context.Context, n *corev1.Node) field.ErrorList { return Validate(n) },
	ValidateUpdate: func(_ context.Context, n, old *corev1.Node) field.ErrorList {
		return ValidateUpdate(n, old)
	},
	ValidateStatusUpdate: func(_ context.Context, n, old *corev1.Node) field.ErrorList {
		return append(Validate(n), ValidateUpdate(n, old)...)
	},
	PrepareForCreate: func(_ context.Context, n *corev1.Node) { syncPodCIDRs(&n.Spec) },
	PrepareForUpdate: func(_ context.Context, n, _ *corev1.Node) { syncPodCIDRs(&n.Spec) },
	Fields: func(n *corev1.Node) fields.Set {
		return fields.Set{"spec.unschedulable": strconv.FormatBool(n.Spec.Unschedulable)}
	},
	Columns:    columns,
	Row:        row,
	ShortNames: []string{"no"},
	Status:     true,
}

// syncPodCIDRs keeps the single and the dual-stack pod CIDR fields in
// step, the first of the list winning (upstream stores only the list).
func syncPodCIDRs(spec *corev1.NodeSpec) {
	switch {
	case len(spec.PodCIDRs) > 0:
		spec.PodCIDR = spec.PodCIDRs[0]
	case spec.PodCIDR != "":
		spec.PodCIDRs = []string{spec.PodCIDR}
	}
}
