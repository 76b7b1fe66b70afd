package quota

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// countedResources are counted as `count/<resource>`; the ones with an alias
// are counted under their legacy name too (`configmaps`, `secrets` …), as
// upstream.
var countedResources = []struct {
	resource schema.GroupResource
	alias    corev1.ResourceName
}{
	{schema.GroupResource{Resource: "configmaps"}, corev1.ResourceConfigMaps},
	{schema.GroupResource{Resource: "secrets"}, corev1.ResourceSecrets},
	{schema.GroupResource{Resource: "resourcequotas"}, corev1.ResourceQuotas},
	{schema.GroupResource{Resource: "serviceaccounts"}, ""},
	{schema.GroupResource{Resource: "endpoints"}, ""},
	{schema.GroupResource{Resource: "limitranges"}, ""},
	{schema.GroupResource{Resource: "podtemplates"}, ""},
	{schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, ""},
	{schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}, ""},
}

// ignoredResources are never charged, as upstream.
var ignoredResources = map[schema.GroupResource]struct{}{
	{Resource: "events"}: {},
	{Group: "authentication.k8s.io", Resource: "tokenreviews"}:             {},
	{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}:      {},
	{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}:  {},
	{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}: {},
	{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}:   {},
}

// NewConfiguration returns the evaluators of the nucleus' resources.
// Listing stored objects (UsageStats) goes through f; admission only
// computes the usage of the object at hand and passes nil.
func NewConfiguration(f informers.SharedInformerFactory) quota.Configuration {
	return generic.NewConfiguration(NewEvaluators(f), ignoredResources)
}

// NewEvaluators returns one evaluator per quota-tracked resource.
func NewEvaluators(f informers.SharedInformerFactory) []quota.Evaluator {
	listers := func(gvr schema.GroupVersionResource) (cache.GenericLister, error) {
		return nil, fmt.Errorf("no lister for %v", gvr)
	}
	if f != nil {
		listers = generic.ListerFuncForResourceFunc(f.ForResource)
	}
	evaluators := []quota.Evaluator{
		NewPodEvaluator(generic.ListResourceUsingListerFunc(listers, corev1.SchemeGroupVersion.WithResource("pods")), clock.RealClock{}),
		NewServiceEvaluator(generic.ListResourceUsingListerFunc(listers, corev1.SchemeGroupVersion.WithResource("services"))),
		NewPVCEvaluator(generic.ListResourceUsingListerFunc(listers, corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"))),
	}
	for _, r := range countedResources {
		gvr := r.resource.WithVersion("v1")
		evaluators = append(evaluators, generic.NewObjectCountEvaluator(r.resource, generic.ListResourceUsingListerFunc(listers, gvr), r.alias))
	}
	return evaluators
}
