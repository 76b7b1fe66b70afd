// Package service serves core v1 Services (with status), allocating their
// cluster IPs and node ports.
package service

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Definition describes the services resource.
var Definition = &store.Definition[*corev1.Service]{
	Resource:             corev1.Resource("services"),
	Singular:             "service",
	Namespaced:           true,
	New:                  func() *corev1.Service { return &corev1.Service{} },
	NewList:              func() runtime.Object { return &corev1.ServiceList{} },
	NameValidation:       genericvalidation.NameIsDNS1035Label,
	Validate:             validateService,
	ValidateUpdate:       validateServiceUpdate,
	ValidateStatusUpdate: validateStatus,
	PrepareForCreate:     prepareForCreate,
	PrepareForUpdate:     prepareForUpdate,
	Fields:               selectableFields,
	Columns:              columns,
	Row:                  row,
	ShortNames:           []string{"svc"},
	Categories:           []string{"all"},
	Status:               true,
}

// prepareForCreate drops a status sent with the object: it is written
// through the status subresource.
func prepareForCreate(_ context.Context, svc *corev1.Service) {
	svc.Status = corev1.ServiceStatus{}
}

// prepareForUpdate drops the load balancer status of a Service that is no
// longer a LoadBalancer.
func prepareForUpdate(_ context.Context, svc, _ *corev1.Service) {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		svc.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
}

// selectableFields are the field selectors upstream accepts for Services.
func selectableFields(svc *corev1.Service) fields.Set {
	return fields.Set{"spec.clusterIP": svc.Spec.ClusterIP, "spec.type": string(svc.Spec.Type)}
}
