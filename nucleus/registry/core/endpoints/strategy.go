// Package endpoints serves core v1 Endpoints.
package endpoints

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the endpoints resource.
var Definition = &store.Definition[*corev1.Endpoints]{
	Resource:   corev1.Resource("endpoints"),
	Singular:   "endpoints",
	Namespaced: true,
	New:        func() *corev1.Endpoints { return &corev1.Endpoints{} },
	NewList:    func() runtime.Object { return &corev1.EndpointsList{} },
	Validate:   validate,
	ShortNames: []string{"ep"},
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "Endpoints", Type: "string", Description: "Endpoints is the list of endpoints in the service."},
		store.AgeColumn,
	},
	Row: func(e *corev1.Endpoints) []interface{} {
		return []interface{}{e.Name, formatEndpoints(e), store.Age(e.CreationTimestamp)}
	},
}
