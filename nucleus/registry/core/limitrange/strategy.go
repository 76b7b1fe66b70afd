package limitrange

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the limitranges resource.
var Definition = &store.Definition[*corev1.LimitRange]{
	Resource:   corev1.Resource("limitranges"),
	Singular:   "limitrange",
	Namespaced: true,
	New:        func() *corev1.LimitRange { return &corev1.LimitRange{} },
	NewList:    func() runtime.Object { return &corev1.LimitRangeList{} },
	Validate:   func(_ context.Context, lr *corev1.LimitRange) field.ErrorList { return Validate(lr) },
	ShortNames: []string{"limits"},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Created At", Type: "date", Description: "CreationTimestamp is a timestamp representing the server time when this object was created."},
	},
	// Upstream prints the creation time itself, not an age.
	Row: func(lr *corev1.LimitRange) []interface{} { return []interface{}{lr.Name, lr.CreationTimestamp} },
}
