package resourcequota

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the resourcequotas resource.
var Definition = &store.Definition[*corev1.ResourceQuota]{
	Resource:   corev1.Resource("resourcequotas"),
	Singular:   "resourcequota",
	Namespaced: true,
	New:        func() *corev1.ResourceQuota { return &corev1.ResourceQuota{} },
	NewList:    func() runtime.Object { return &corev1.ResourceQuotaList{} },
	// A new quota's usage is computed by the quota controller.
	PrepareForCreate: func(_ context.Context, q *corev1.ResourceQuota) { q.Status = corev1.ResourceQuotaStatus{} },
	Validate: func(_ context.Context, q *corev1.ResourceQuota) field.ErrorList {
		return append(ValidateSpec(&q.Spec, field.NewPath("spec")), ValidateStatus(&q.Status, field.NewPath("status"))...)
	},
	ValidateUpdate: func(_ context.Context, q, old *corev1.ResourceQuota) field.ErrorList { return ValidateUpdate(q, old) },
	ValidateStatusUpdate: func(_ context.Context, q, _ *corev1.ResourceQuota) field.ErrorList {
		return ValidateStatus(&q.Status, field.NewPath("status"))
	},
	ShortNames: []string{"quota"},
	Status:     true,
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		store.AgeColumn,
		{Name: "Request", Type: "string", Description: "Request represents a minimum amount of cpu/memory that a container may consume."},
		{Name: "Limit", Type: "string", Description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."},
	},
	Row: Row,
}

// Row prints a quota as upstream does: "resource: used/hard" for every hard
// limit in the status, limits.* resources in the LIMIT column and the rest
// in the REQUEST column, sorted by name.
func Row(q *corev1.ResourceQuota) []interface{} {
	names := make([]string, 0, len(q.Status.Hard))
	for name := range q.Status.Hard {
		names = append(names, string(name))
	}
	sort.Strings(names)
	var requests, limits []string
	for _, name := range names {
		used := q.Status.Used[corev1.ResourceName(name)]
		hard := q.Status.Hard[corev1.ResourceName(name)]
		cell := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if prefix, _, found := strings.Cut(name, "."); found && prefix == "limits" {
			limits = append(limits, cell)
		} else {
			requests = append(requests, cell)
		}
	}
	return []interface{}{q.Name, store.Age(q.CreationTimestamp), strings.Join(requests, ", "), strings.Join(limits, ", ")}
}
