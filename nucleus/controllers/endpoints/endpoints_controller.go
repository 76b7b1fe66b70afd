// Package endpoints keeps the EndpointSlices and the Endpoints of every
// Service with a selector in step with the pods it selects, as upstream's
// endpointslice and endpoints controllers do. Services without a selector
// are left alone: their Endpoints and slices are hand-made.
package endpoints

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/controllers"
)

func init() {
	controllers.Register(controllers.Descriptor{Name: "endpoints", New: New})
}

// Controller reconciles one Service at a time.
type Controller struct {
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	slices    discoverylisters.EndpointSliceLister
	endpoints corelisters.EndpointsLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
}

// New builds the controller and registers its informers.
func New(c controllers.Context) (controllers.Controller, error) {
	svcs := c.Informers.Core().V1().Services()
	pods := c.Informers.Core().V1().Pods()
	sliceInformer := c.Informers.Discovery().V1().EndpointSlices()
	eps := c.Informers.Core().V1().Endpoints()
	ctrl := &Controller{
		client:    c.Client,
		services:  svcs.Lister(),
		pods:      pods.Lister(),
		slices:    sliceInformer.Lister(),
		endpoints: eps.Lister(),
		synced:    []cache.InformerSynced{svcs.Informer().HasSynced, pods.Informer().HasSynced, sliceInformer.Informer().HasSynced, eps.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "endpoints"}),
	}
	enqueue := func(obj interface{}) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			ctrl.queue.Add(key)
		}
	}
	if _, err := svcs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, obj interface{}) { enqueue(obj) }, DeleteFunc: enqueue,
	}); err != nil {
		return nil, err
	}
	podChanged := func(objs ...interface{}) {
		for _, obj := range objs {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				ctrl.enqueueServicesOf(pod)
			}
		}
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { podChanged(obj) },
		UpdateFunc: func(old, obj interface{}) { podChanged(old, obj) },
		DeleteFunc: func(obj interface{}) { podChanged(obj) },
	}); err != nil {
		return nil, err
	}
	// A slice or Endpoints changed by someone else is put back.
	owned := func(obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		switch o := obj.(type) {
		case *discoveryv1.EndpointSlice:
			if o.Labels[discoveryv1.LabelManagedBy] == ManagedBy {
				ctrl.queue.Add(o.Namespace + "/" + o.Labels[discoveryv1.LabelServiceName])
			}
		case *corev1.Endpoints:
			// Only Endpoints of existing Services: hand-made Endpoints
			// without a Service are not the controller's.
			if _, err := ctrl.services.Services(o.Namespace).Get(o.Name); err == nil {
				ctrl.queue.Add(o.Namespace + "/" + o.Name)
			}
		}
	}
	for _, inf := range []cache.SharedIndexInformer{sliceInformer.Informer(), eps.Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, obj interface{}) { owned(obj) }, DeleteFunc: owned,
		}); err != nil {
			return nil, err
		}
	}
	return ctrl, nil
}

func (c *Controller) enqueueServicesOf(pod *corev1.Pod) {
	svcs, err := c.services.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, svc := range svcs {
		if svc.Spec.Selector != nil && labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			c.queue.Add(svc.Namespace + "/" + svc.Name)
		}
	}
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	controllers.ProcessQueue(ctx, "endpoints", c.queue, 3, c.sync, c.synced...)
}

func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		// Slices go with their owner (garbage collector); the Endpoints
		// object has none and is deleted here, as upstream does.
		err := c.client.CoreV1().Endpoints(namespace).Delete(ctx, name, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if svc.Spec.Selector == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	pods, err := c.pods.Pods(namespace).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	return errors.Join(c.syncSlices(ctx, svc, pods), c.syncEndpoints(ctx, svc, pods))
}

// syncSlices makes the Service's managed slices hold desiredSlices: existing
// slices are reused in name order, extra ones deleted, missing ones created.
func (c *Controller) syncSlices(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod) error {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: ManagedBy})
	existing, err := c.slices.EndpointSlices(svc.Namespace).List(sel)
	if err != nil {
		return err
	}
	sortSlices(existing)
	want := desiredSlices(svc, pods)
	// A service always has at least one slice, even with no endpoints, as
	// upstream keeps a placeholder.
	if len(want) == 0 {
		want = []sliceContent{{ports: placeholderPorts(svc)}}
	}
	var errs []error
	for i, content := range want {
		desired := c.sliceFor(svc, content)
		if i < len(existing) {
			have := existing[i]
			if sliceEqual(have, desired) {
				continue
			}
			updated := have.DeepCopy()
			updated.Labels, updated.Endpoints, updated.Ports, updated.AddressType = desired.Labels, desired.Endpoints, desired.Ports, desired.AddressType
			updated.OwnerReferences = desired.OwnerReferences
			if updated.AddressType != have.AddressType {
				// The address type is immutable: replace the slice.
				errs = append(errs, c.replaceSlice(ctx, have, desired))
				continue
			}
			_, err := c.client.DiscoveryV1().EndpointSlices(svc.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
			errs = append(errs, ignoreGone(err))
			continue
		}
		_, err := c.client.DiscoveryV1().EndpointSlices(svc.Namespace).Create(ctx, desired, metav1.CreateOptions{})
		errs = append(errs, ignoreGone(err))
	}
	for _, extra := range existing[min(len(want), len(existing)):] {
		err := c.client.DiscoveryV1().EndpointSlices(svc.Namespace).Delete(ctx, extra.Name, metav1.DeleteOptions{})
		errs = append(errs, ignoreGone(err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("syncing EndpointSlices of %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

func (c *Controller) replaceSlice(ctx context.Context, old, desired *discoveryv1.EndpointSlice) error {
	if err := c.client.DiscoveryV1().EndpointSlices(old.Namespace).Delete(ctx, old.Name, metav1.DeleteOptions{}); ignoreGone(err) != nil {
		return err
	}
	_, err := c.client.DiscoveryV1().EndpointSlices(old.Namespace).Create(ctx, desired, metav1.CreateOptions{})
	return err
}

func (c *Controller) sliceFor(svc *corev1.Service, content sliceContent) *discoveryv1.EndpointSlice {
	lbls := serviceLabels(svc)
	lbls[discoveryv1.LabelServiceName] = svc.Name
	lbls[discoveryv1.LabelManagedBy] = ManagedBy
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: svc.Name + "-",
			Namespace:    svc.Namespace,
			Labels:       lbls,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		AddressType: addressType(svc),
		Endpoints:   content.endpoints,
		Ports:       content.ports,
	}
}

// placeholderPorts are the ports of a slice with no endpoints: the Service's
// numeric target ports.
func placeholderPorts(svc *corev1.Service) []discoveryv1.EndpointPort {
	return resolvePorts(svc, &corev1.Pod{})
}

func sliceEqual(have, want *discoveryv1.EndpointSlice) bool {
	return have.AddressType == want.AddressType &&
		reflect.DeepEqual(have.Labels, want.Labels) &&
		reflect.DeepEqual(have.OwnerReferences, want.OwnerReferences) &&
		equalEndpoints(have.Endpoints, want.Endpoints) &&
		equalPorts(have.Ports, want.Ports)
}

func equalEndpoints(a, b []discoveryv1.Endpoint) bool {
	return (len(a) == 0 && len(b) == 0) || reflect.DeepEqual(a, b)
}

func equalPorts(a, b []discoveryv1.EndpointPort) bool {
	return (len(a) == 0 && len(b) == 0) || reflect.DeepEqual(a, b)
}

// syncEndpoints writes the legacy Endpoints object.
func (c *Controller) syncEndpoints(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod) error {
	desired := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: serviceLabels(svc)},
		Subsets:    desiredSubsets(svc, pods),
	}
	have, err := c.endpoints.Endpoints(svc.Namespace).Get(svc.Name)
	if apierrors.IsNotFound(err) {
		_, err = c.client.CoreV1().Endpoints(svc.Namespace).Create(ctx, desired, metav1.CreateOptions{})
		return ignoreGone(err)
	}
	if err != nil {
		return err
	}
	if reflect.DeepEqual(have.Labels, desired.Labels) && (len(have.Subsets) == 0 && len(desired.Subsets) == 0 || reflect.DeepEqual(have.Subsets, desired.Subsets)) {
		return nil
	}
	updated := have.DeepCopy()
	updated.Labels, updated.Subsets = desired.Labels, desired.Subsets
	_, err = c.client.CoreV1().Endpoints(svc.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
	return ignoreGone(err)
}

// ignoreGone drops errors that a later sync resolves by itself: the
// namespace is going away, or a stale cache caused a conflict (the write
// of the change re-queues the Service).
func ignoreGone(err error) error {
	if err == nil || apierrors.IsNotFound(err) || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		return nil
	}
	return err
}

func sortSlices(s []*discoveryv1.EndpointSlice) {
	slices.SortFunc(s, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
}
