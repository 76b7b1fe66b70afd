// Package namespace deletes the content of terminating namespaces, as
// upstream's namespace controller does: every namespaced resource found
// through discovery — built-in types and custom resources alike — is deleted,
// progress is reported in the namespace's status conditions, and once
// nothing is left the `kubernetes` finalizer is removed so the namespace goes
// away.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
)

// requeueWhileContentRemains is how soon a namespace whose content is still
// going away (graceful pods, finalizers) is looked at again.
const requeueWhileContentRemains = 2 * time.Second

func init() {
	controllers.Register(controllers.Descriptor{Name: "namespace", New: New})
}

// Controller deletes terminating namespaces' content.
type Controller struct {
	client    kubernetes.Interface
	metadata  metadata.Interface
	discovery discovery.DiscoveryInterface
	synced    cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	now       func() metav1.Time
}

// New builds the controller.
func New(c controllers.Context) (controllers.Controller, error) {
	inf := c.Informers.Core().V1().Namespaces().Informer()
	ctrl := &Controller{
		client:    c.Client,
		metadata:  c.Metadata,
		discovery: c.Discovery,
		synced:    inf.HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, time.Minute),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "namespace"}),
		now: metav1.Now,
	}
	enqueue := func(obj interface{}) {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
			ctrl.queue.Add(ns.Name)
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
	})
	return ctrl, err
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	controllers.ProcessQueue(ctx, "namespace", c.queue, 2, c.syncAndRequeue, c.synced)
}

// syncAndRequeue syncs a namespace and looks at it again shortly while its
// content is still going away.
func (c *Controller) syncAndRequeue(ctx context.Context, name string) error {
	requeue, err := c.sync(ctx, name)
	if err == nil && requeue {
		c.queue.AddAfter(name, requeueWhileContentRemains)
	}
	return err
}

// sync deletes the content of a terminating namespace and reports whether
// it must be looked at again because content remains.
func (c *Controller) sync(ctx context.Context, name string) (bool, error) {
	logger := klog.FromContext(ctx).WithValues("namespace", name)
	ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return false, nil
	}
	logger.V(1).Info("Deleting namespace content")
	r := c.deleteContent(ctx, name)
	if err := c.updateConditions(ctx, ns, r); err != nil {
		return false, err
	}
	if !r.done() {
		return true, nil
	}
	logger.V(1).Info("Removing the kubernetes finalizer")
	return false, c.finalize(ctx, name)
}

// deleteContent deletes everything in the namespace once and counts what
// is left.
func (c *Controller) deleteContent(ctx context.Context, namespace string) result {
	r := result{remaining: map[schema.GroupVersionResource]int{}, finalizers: map[string]int{}}
	resources, err := c.discovery.ServerPreferredNamespacedResources()
	if err != nil {
		// Partial discovery still returns the groups that answered.
		r.discoveryErr = err
		if !discovery.IsGroupDiscoveryFailedError(err) {
			return r
		}
	}
	for _, gvr := range deletableResources(resources) {
		if err := c.deleteAll(ctx, gvr, namespace); err != nil {
			r.deleteErrs = append(r.deleteErrs, err)
			continue
		}
		list, err := c.metadata.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			continue
		}
		if err != nil {
			r.deleteErrs = append(r.deleteErrs, fmt.Errorf("listing %s: %w", gvr.GroupResource(), err))
			continue
		}
		if len(list.Items) == 0 {
			continue
		}
		r.remaining[gvr] = len(list.Items)
		for _, item := range list.Items {
			for _, f := range item.Finalizers {
				r.finalizers[f]++
			}
		}
	}
	return r
}

// deleteAll deletes every object of gvr in namespace: with one
// deletecollection when the resource supports it, else one by one.
func (c *Controller) deleteAll(ctx context.Context, gvr schema.GroupVersionResource, namespace string) error {
	client := c.metadata.Resource(gvr).Namespace(namespace)
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	err := client.DeleteCollection(ctx, opts, metav1.ListOptions{})
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	if !apierrors.IsMethodNotSupported(err) {
		return fmt.Errorf("deleting %s: %w", gvr.GroupResource(), err)
	}
	list, err := client.List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("listing %s: %w", gvr.GroupResource(), err)
	}
	var errs []error
	for _, item := range list.Items {
		if item.DeletionTimestamp != nil {
			continue
		}
		if err := client.Delete(ctx, item.Name, opts); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("deleting %s: %w", gvr.GroupResource(), err)
	}
	return nil
}

// deletableResources are the namespaced resources that can be listed and
// deleted, subresources excluded.
func deletableResources(lists []*metav1.APIResourceList) []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			if !res.Namespaced || strings.Contains(res.Name, "/") {
				continue
			}
			verbs := res.Verbs
			if !slices.Contains(verbs, "list") || !(slices.Contains(verbs, "delete") || slices.Contains(verbs, "deletecollection")) {
				continue
			}
			out = append(out, gv.WithResource(res.Name))
		}
	}
	return out
}

func (c *Controller) updateConditions(ctx context.Context, ns *corev1.Namespace, r result) error {
	conds := computeConditions(ns.Status.Conditions, r, c.now())
	if conditionsEqual(conds, ns.Status.Conditions) {
		return nil
	}
	updated := ns.DeepCopy()
	updated.Status.Conditions = conds
	_, err := c.client.CoreV1().Namespaces().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Gone, or changed under us: the next pass sees the new state.
		return nil
	}
	return err
}

// finalize removes the kubernetes finalizer through namespaces/finalize.
func (c *Controller) finalize(ctx context.Context, name string) error {
	ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	updated := ns.DeepCopy()
	updated.Spec.Finalizers = slices.DeleteFunc(updated.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
	_, err = c.client.CoreV1().Namespaces().Finalize(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
