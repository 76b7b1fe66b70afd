package quota

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/utils/clock"
)

// podResources are the resource names the pod evaluator measures.
var podResources = []corev1.ResourceName{
	corev1.ResourcePods,
	generic.ObjectCountQuotaResourceNameFor(schema.GroupResource{Resource: "pods"}),
	corev1.ResourceCPU,
	corev1.ResourceMemory,
	corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU,
	corev1.ResourceRequestsMemory,
	corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU,
	corev1.ResourceLimitsMemory,
	corev1.ResourceLimitsEphemeralStorage,
}

// requiredPerContainer are the resources every container must state when a
// quota limits them (upstream's backward-compatibility rule).
var requiredPerContainer = sets.New(
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
)

// podScopes are the quota scopes pods can match.
var podScopes = []corev1.ResourceQuotaScope{
	corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
	corev1.ResourceQuotaScopePriorityClass,
}

// PodEvaluator measures pods: their count and their compute requests and
// limits. Pods that finished (Succeeded or Failed) or whose deletion grace
// period has passed use nothing.
type PodEvaluator struct {
	list  generic.ListFuncByNamespace
	clock clock.Clock
}

var _ quota.Evaluator = &PodEvaluator{}

// NewPodEvaluator returns the pod evaluator listing pods with list.
func NewPodEvaluator(list generic.ListFuncByNamespace, c clock.Clock) *PodEvaluator {
	return &PodEvaluator{list: list, clock: c}
}

// GroupResource is pods.
func (p *PodEvaluator) GroupResource() schema.GroupResource {
	return schema.GroupResource{Resource: "pods"}
}

// Handles creations, and resizes that change requests.
func (p *PodEvaluator) Handles(a admission.Attributes) bool {
	switch a.GetSubresource() {
	case "":
		return a.GetOperation() == admission.Create
	case "resize":
		return a.GetOperation() == admission.Update
	}
	return false
}

// Constraints requires every container to state the cpu and memory requests
// or limits a quota restricts.
func (p *PodEvaluator) Constraints(required []corev1.ResourceName, item runtime.Object) error {
	pod, ok := item.(*corev1.Pod)
	if !ok {
		return fmt.Errorf("unexpected input object %v", item)
	}
	req := sets.New(required...).Intersection(requiredPerContainer)
	missing := sets.New[string]()
	check := func(c *corev1.Container) {
		for name := range req {
			var list corev1.ResourceList
			base := name
			switch {
			case strings.HasPrefix(string(name), "limits."):
				list, base = c.Resources.Limits, corev1.ResourceName(strings.TrimPrefix(string(name), "limits."))
			case strings.HasPrefix(string(name), "requests."):
				list, base = c.Resources.Requests, corev1.ResourceName(strings.TrimPrefix(string(name), "requests."))
			default:
				list = c.Resources.Requests
			}
			if _, ok := list[base]; !ok {
				missing.Insert(fmt.Sprintf("%s for: %s", name, c.Name))
			}
		}
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.InitContainers {
		check(&pod.Spec.InitContainers[i])
	}
	if missing.Len() == 0 {
		return nil
	}
	return fmt.Errorf("must specify %s", strings.Join(sets.List(missing), ","))
}

// Matches reports whether the quota limits something of the pod and all its
// scopes match the pod.
func (p *PodEvaluator) Matches(q *corev1.ResourceQuota, item runtime.Object) (bool, error) {
	return generic.Matches(q, item, p.MatchingResources, podMatchesScope)
}

// MatchingResources keeps the names the evaluator measures.
func (p *PodEvaluator) MatchingResources(input []corev1.ResourceName) []corev1.ResourceName {
	var out []corev1.ResourceName
	for _, name := range input {
		if slices.Contains(podResources, name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
			out = append(out, name)
		}
	}
	return out
}

// MatchingScopes returns the scopes of the list the pod matches.
func (p *PodEvaluator) MatchingScopes(item runtime.Object, scopes []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range scopes {
		ok, err := podMatchesScope(s, item)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// UncoveredQuotaScopes returns the limited scopes no matched quota covers.
func (p *PodEvaluator) UncoveredQuotaScopes(limited, matched []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, l := range limited {
		covered := false
		for _, m := range matched {
			if m.ScopeName == l.ScopeName && m.Operator == l.Operator {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, l)
		}
	}
	return out, nil
}

// Usage is what the pod uses: nothing once it is terminal.
func (p *PodEvaluator) Usage(item runtime.Object) (corev1.ResourceList, error) {
	pod, ok := item.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("unexpected input object %v", item)
	}
	return PodUsage(pod, p.clock), nil
}

// UsageStats adds up the usage of the namespace's pods.
func (p *PodEvaluator) UsageStats(options quota.UsageStatsOptions) (quota.UsageStats, error) {
	return generic.CalculateUsageStats(options, p.list, podMatchesScope, p.Usage)
}

// PodUsage computes the quota usage of one pod.
func PodUsage(pod *corev1.Pod, c clock.Clock) corev1.ResourceList {
	one := resource.MustParse("1")
	result := corev1.ResourceList{
		generic.ObjectCountQuotaResourceNameFor(schema.GroupResource{Resource: "pods"}): one,
	}
	if !countsTowardsQuota(pod, c) {
		return result
	}
	result[corev1.ResourcePods] = one
	requests, limits := podRequests(pod), podLimits(pod)
	for name, q := range requests {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			result[name] = q
			result[corev1.ResourceName("requests."+string(name))] = q
		default:
			// Extended resources are only quota'd by their requests.
			if !strings.Contains(string(name), "kubernetes.io/") || strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
				result[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q
			}
		}
	}
	for name, q := range limits {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			result[corev1.ResourceName("limits."+string(name))] = q
		}
	}
	return result
}

// countsTowardsQuota is false for finished pods and pods past their
// deletion grace period.
func countsTowardsQuota(pod *corev1.Pod, c clock.Clock) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		grace := pod.DeletionTimestamp.Add(secondsDuration(*pod.DeletionGracePeriodSeconds))
		if c.Now().After(grace) {
			return false
		}
	}
	return true
}

// podRequests is the larger of the containers' sum (with sidecars) and the
// largest regular init container, plus the pod overhead; pod-level
// resources win when set.
func podRequests(pod *corev1.Pod) corev1.ResourceList {
	return podAggregate(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })
}

func podLimits(pod *corev1.Pod) corev1.ResourceList {
	return podAggregate(pod, func(r corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
}

func podAggregate(pod *corev1.Pod, pick func(corev1.ResourceRequirements) corev1.ResourceList) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for _, c := range pod.Spec.Containers {
		sum = quota.Add(sum, pick(c.Resources))
	}
	sidecars := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars = quota.Add(sidecars, pick(c.Resources))
			continue
		}
		initMax = quota.Max(initMax, quota.Add(sidecars, pick(c.Resources)))
	}
	result := quota.Max(quota.Add(sum, sidecars), initMax)
	if pod.Spec.Resources != nil {
		for name, q := range pick(*pod.Spec.Resources) {
			result[name] = q
		}
	}
	if pod.Spec.Overhead != nil {
		result = quota.Add(result, pod.Spec.Overhead)
	}
	return result
}

// podMatchesScope reports whether a pod falls into a quota scope.
func podMatchesScope(s corev1.ScopedResourceSelectorRequirement, item runtime.Object) (bool, error) {
	pod, ok := item.(*corev1.Pod)
	if !ok {
		return false, fmt.Errorf("unexpected input object %v", item)
	}
	switch s.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0, nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return pod.Spec.ActiveDeadlineSeconds == nil || *pod.Spec.ActiveDeadlineSeconds < 0, nil
	case corev1.ResourceQuotaScopeBestEffort:
		return isBestEffort(pod), nil
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !isBestEffort(pod), nil
	case corev1.ResourceQuotaScopePriorityClass:
		switch s.Operator {
		case corev1.ScopeSelectorOpExists:
			return pod.Spec.PriorityClassName != "", nil
		case corev1.ScopeSelectorOpDoesNotExist:
			return pod.Spec.PriorityClassName == "", nil
		case corev1.ScopeSelectorOpIn:
			return slices.Contains(s.Values, pod.Spec.PriorityClassName), nil
		case corev1.ScopeSelectorOpNotIn:
			return !slices.Contains(s.Values, pod.Spec.PriorityClassName), nil
		}
	}
	return false, nil
}

// isBestEffort is true when no container requests or limits cpu or memory.
func isBestEffort(pod *corev1.Pod) bool {
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		for _, l := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := l[name]; ok && !q.IsZero() {
					return false
				}
			}
		}
	}
	return true
}
