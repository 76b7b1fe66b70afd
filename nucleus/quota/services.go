package quota

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
)

// simpleEvaluator is an evaluator without scopes whose usage is a function
// of the object.
type simpleEvaluator struct {
	groupResource schema.GroupResource
	names         []corev1.ResourceName
	list          generic.ListFuncByNamespace
	usage         func(runtime.Object) (corev1.ResourceList, error)
	handles       func(admission.Attributes) bool
}

func (e *simpleEvaluator) Constraints([]corev1.ResourceName, runtime.Object) error { return nil }
func (e *simpleEvaluator) GroupResource() schema.GroupResource                     { return e.groupResource }
func (e *simpleEvaluator) Handles(a admission.Attributes) bool                     { return e.handles(a) }
func (e *simpleEvaluator) Matches(q *corev1.ResourceQuota, item runtime.Object) (bool, error) {
	return generic.Matches(q, item, e.MatchingResources, generic.MatchesNoScopeFunc)
}
func (e *simpleEvaluator) MatchingScopes(runtime.Object, []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	return nil, nil
}
func (e *simpleEvaluator) UncoveredQuotaScopes([]corev1.ScopedResourceSelectorRequirement, []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	return nil, nil
}
func (e *simpleEvaluator) MatchingResources(input []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, n := range input {
		if slices.Contains(e.names, n) {
			out = append(out, n)
		}
	}
	return out
}
func (e *simpleEvaluator) Usage(item runtime.Object) (corev1.ResourceList, error) {
	return e.usage(item)
}
func (e *simpleEvaluator) UsageStats(o quota.UsageStatsOptions) (quota.UsageStats, error) {
	return generic.CalculateUsageStats(o, e.list, generic.MatchesNoScopeFunc, e.usage)
}

// NewServiceEvaluator counts services, and among them node ports and load
// balancers (`services.nodeports`, `services.loadbalancers`).
func NewServiceEvaluator(list generic.ListFuncByNamespace) quota.Evaluator {
	gr := schema.GroupResource{Resource: "services"}
	return &simpleEvaluator{
		groupResource: gr,
		names: []corev1.ResourceName{corev1.ResourceServices, generic.ObjectCountQuotaResourceNameFor(gr),
			corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers},
		list: list,
		handles: func(a admission.Attributes) bool {
			return a.GetSubresource() == "" && (a.GetOperation() == admission.Create || a.GetOperation() == admission.Update)
		},
		usage: func(item runtime.Object) (corev1.ResourceList, error) {
			svc, ok := item.(*corev1.Service)
			if !ok {
				return nil, fmt.Errorf("unexpected input object %v", item)
			}
			return ServiceUsage(svc), nil
		},
	}
}

// ServiceUsage counts one service and its node ports.
func ServiceUsage(svc *corev1.Service) corev1.ResourceList {
	one := resource.MustParse("1")
	result := corev1.ResourceList{
		corev1.ResourceServices: one,
		generic.ObjectCountQuotaResourceNameFor(schema.GroupResource{Resource: "services"}): one,
		corev1.ResourceServicesNodePorts:     resource.MustParse("0"),
		corev1.ResourceServicesLoadBalancers: resource.MustParse("0"),
	}
	ports := int64(0)
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		ports = int64(len(svc.Spec.Ports))
	case corev1.ServiceTypeLoadBalancer:
		result[corev1.ResourceServicesLoadBalancers] = one
		if svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts {
			ports = int64(len(svc.Spec.Ports))
		}
	}
	result[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
	return result
}

// NewPVCEvaluator counts claims and the storage they request.
func NewPVCEvaluator(list generic.ListFuncByNamespace) quota.Evaluator {
	gr := schema.GroupResource{Resource: "persistentvolumeclaims"}
	return &simpleEvaluator{
		groupResource: gr,
		names: []corev1.ResourceName{corev1.ResourcePersistentVolumeClaims, generic.ObjectCountQuotaResourceNameFor(gr),
			corev1.ResourceRequestsStorage},
		list: list,
		handles: func(a admission.Attributes) bool {
			return a.GetSubresource() == "" && (a.GetOperation() == admission.Create || a.GetOperation() == admission.Update)
		},
		usage: func(item runtime.Object) (corev1.ResourceList, error) {
			pvc, ok := item.(*corev1.PersistentVolumeClaim)
			if !ok {
				return nil, fmt.Errorf("unexpected input object %v", item)
			}
			one := resource.MustParse("1")
			result := corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: one, generic.ObjectCountQuotaResourceNameFor(gr): one}
			if q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
				result[corev1.ResourceRequestsStorage] = q
			}
			return result, nil
		},
	}
}
