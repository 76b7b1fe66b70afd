// Package limitranger is the LimitRanger admission plugin: pods being
// created get the default requests and limits of their namespace's
// LimitRanges, and are refused when a container or the whole pod falls
// outside a LimitRange's min, max or maxLimitRequestRatio, with upstream's
// messages.
package limitranger

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilcache "k8s.io/apimachinery/pkg/util/cache"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/nucleus/defaults"
	nucleusquota "github.com/strata-dev/strata/nucleus/quota"
)

const (
	// PluginName is the plugin's name in the chain.
	PluginName = "LimitRanger"
	// AnnotationKey records which defaults the plugin set on a pod.
	AnnotationKey = "kubernetes.io/limit-ranger"
	// liveLookupTTL is how long an uncached namespace's live list is reused.
	liveLookupTTL = 30 * time.Second
)

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		return New(), nil
	})
}

// Plugin is the LimitRanger admission plugin.
type Plugin struct {
	*admission.Handler
	client     kubernetes.Interface
	lister     corelisters.LimitRangeLister
	liveLookup *utilcache.LRUExpireCache
}

var (
	_ admission.MutationInterface                  = &Plugin{}
	_ admission.ValidationInterface                = &Plugin{}
	_ initializer.WantsExternalKubeClientSet       = &Plugin{}
	_ initializer.WantsExternalKubeInformerFactory = &Plugin{}
)

// New returns the plugin; client and lister come from initializers.
func New() *Plugin {
	return &Plugin{
		Handler:    admission.NewHandler(admission.Create, admission.Update),
		liveLookup: utilcache.NewLRUExpireCache(1000),
	}
}

// SetExternalKubeClientSet is for live lookups.
func (p *Plugin) SetExternalKubeClientSet(c kubernetes.Interface) { p.client = c }

// SetExternalKubeInformerFactory sets the LimitRange lister.
func (p *Plugin) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	lr := f.Core().V1().LimitRanges()
	p.lister = lr.Lister()
	p.SetReadyFunc(lr.Informer().HasSynced)
}

// ValidateInitialization checks the plugin got its dependencies.
func (p *Plugin) ValidateInitialization() error {
	if p.client == nil || p.lister == nil {
		return fmt.Errorf("missing client or limit range lister")
	}
	return nil
}

// podOf returns the pod of a creation or resize.
func podOf(a admission.Attributes) (*corev1.Pod, bool) {
	if a.GetResource().GroupResource() != (schema.GroupResource{Resource: "pods"}) {
		return nil, false
	}
	switch {
	case a.GetSubresource() == "" && a.GetOperation() == admission.Create:
	case a.GetSubresource() == "resize" && a.GetOperation() == admission.Update:
	default:
		return nil, false
	}
	pod, ok := a.GetObject().(*corev1.Pod)
	return pod, ok
}

// Admit applies the default requests and limits.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok || a.GetSubresource() != "" {
		return nil
	}
	items, err := p.limitRanges(ctx, a.GetNamespace())
	if err != nil {
		return admission.NewForbidden(a, err)
	}
	for _, lr := range items {
		ApplyDefaults(lr, pod)
	}
	return nil
}

// Validate enforces the limits.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok {
		return nil
	}
	items, err := p.limitRanges(ctx, a.GetNamespace())
	if err != nil {
		return admission.NewForbidden(a, err)
	}
	var errs []error
	for _, lr := range items {
		errs = append(errs, ValidatePod(lr, pod)...)
	}
	if len(errs) > 0 {
		return admission.NewForbidden(a, utilerrors.NewAggregate(errs))
	}
	return nil
}

// limitRanges lists the namespace's LimitRanges from the cache, or from the
// server when the cache has none (a LimitRange created a moment ago).
func (p *Plugin) limitRanges(ctx context.Context, namespace string) ([]*corev1.LimitRange, error) {
	items, err := p.lister.LimitRanges(namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing limit ranges of namespace %s: %w", namespace, err)
	}
	if len(items) > 0 {
		return items, nil
	}
	if cached, ok := p.liveLookup.Get(namespace); ok {
		return cached.([]*corev1.LimitRange), nil
	}
	list, err := p.client.CoreV1().LimitRanges(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing limit ranges of namespace %s: %w", namespace, err)
	}
	items = make([]*corev1.LimitRange, 0, len(list.Items))
	for i := range list.Items {
		items = append(items, &list.Items[i])
	}
	p.liveLookup.Add(namespace, items, liveLookupTTL)
	return items, nil
}

// ApplyDefaults sets the Container defaults of lr on every container and
// init container that lacks them and records what it set in the pod's
// kubernetes.io/limit-ranger annotation.
func ApplyDefaults(lr *corev1.LimitRange, pod *corev1.Pod) {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	for _, item := range lr.Spec.Limits {
		item := *item.DeepCopy()
		defaults.LimitRangeItem(&item)
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		for k, v := range item.DefaultRequest {
			requests[k] = v
		}
		for k, v := range item.Default {
			limits[k] = v
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return
	}
	var notes []string
	for i := range pod.Spec.Containers {
		notes = merge(&pod.Spec.Containers[i], requests, limits, "container", notes)
	}
	for i := range pod.Spec.InitContainers {
		notes = merge(&pod.Spec.InitContainers[i], requests, limits, "init container", notes)
	}
	if len(notes) == 0 {
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[AnnotationKey] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
}

func merge(c *corev1.Container, requests, limits corev1.ResourceList, kind string, notes []string) []string {
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	var setRequests, setLimits []string
	for k, v := range limits {
		if _, ok := c.Resources.Limits[k]; !ok {
			c.Resources.Limits[k] = v.DeepCopy()
			setLimits = append(setLimits, string(k))
		}
	}
	for k, v := range requests {
		if _, ok := c.Resources.Requests[k]; !ok {
			c.Resources.Requests[k] = v.DeepCopy()
			setRequests = append(setRequests, string(k))
		}
	}
	if len(setRequests) > 0 {
		sort.Strings(setRequests)
		notes = append(notes, strings.Join(setRequests, ", ")+fmt.Sprintf(" request for %s %s", kind, c.Name))
	}
	if len(setLimits) > 0 {
		sort.Strings(setLimits)
		notes = append(notes, strings.Join(setLimits, ", ")+fmt.Sprintf(" limit for %s %s", kind, c.Name))
	}
	if len(c.Resources.Limits) == 0 {
		c.Resources.Limits = nil
	}
	if len(c.Resources.Requests) == 0 {
		c.Resources.Requests = nil
	}
	return notes
}

// ValidatePod checks the pod's containers against lr's Container items and
// the pod's totals against its Pod items.
func ValidatePod(lr *corev1.LimitRange, pod *corev1.Pod) []error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		switch item.Type {
		case corev1.LimitTypeContainer:
			all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
			for _, c := range all {
				errs = append(errs, checkItem(item, string(corev1.LimitTypeContainer), c.Resources.Requests, c.Resources.Limits)...)
			}
		case corev1.LimitTypePod:
			usage := nucleusquota.PodUsage(pod, clock.RealClock{})
			requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
				if q, ok := usage["requests."+r]; ok {
					requests[r] = q
				}
				if q, ok := usage["limits."+r]; ok {
					limits[r] = q
				}
			}
			errs = append(errs, checkItem(item, string(corev1.LimitTypePod), requests, limits)...)
		}
	}
	return errs
}

func checkItem(item corev1.LimitRangeItem, limitType string, requests, limits corev1.ResourceList) []error {
	var errs []error
	for _, name := range sortedNames(item.Min) {
		if err := minConstraint(limitType, name, item.Min[name], requests, limits); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range sortedNames(item.Max) {
		if err := maxConstraint(limitType, name, item.Max[name], requests, limits); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range sortedNames(item.MaxLimitRequestRatio) {
		if err := ratioConstraint(limitType, name, item.MaxLimitRequestRatio[name], requests, limits); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}
