// Package endpointslice serves discovery.k8s.io/v1 EndpointSlices.
package endpointslice

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the endpointslices resource.
var Definition = &store.Definition[*discoveryv1.EndpointSlice]{
	Resource:       discoveryv1.Resource("endpointslices"),
	Singular:       "endpointslice",
	Namespaced:     true,
	New:            func() *discoveryv1.EndpointSlice { return &discoveryv1.EndpointSlice{} },
	NewList:        func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
	Validate:       validate,
	ValidateUpdate: validateUpdate,
	Columns: []metav1.TableColumnDefinition{
		store.NameColumn,
		{Name: "AddressType", Type: "string", Description: "addressType specifies the type of address carried by this EndpointSlice."},
		{Name: "Ports", Type: "string", Description: "ports specifies the list of network ports exposed by each endpoint in this slice."},
		{Name: "Endpoints", Type: "string", Description: "endpoints is a list of unique endpoints in this slice."},
		store.AgeColumn,
	},
	Row: func(s *discoveryv1.EndpointSlice) []interface{} {
		return []interface{}{s.Name, string(s.AddressType), formatPorts(s.Ports), formatEndpoints(s.Endpoints), store.Age(s.CreationTimestamp)}
	},
}
