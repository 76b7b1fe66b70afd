// Package serviceaccount keeps the `default` ServiceAccount and the
// `kube-root-ca.crt` ConfigMap in every namespace, as upstream's
// serviceaccount and root-ca-cert-publisher controllers do: created when a
// namespace appears, recreated when deleted, the CA bundle kept current.
package serviceaccount

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
)

const (
	// DefaultServiceAccount is the ServiceAccount every namespace has.
	DefaultServiceAccount = "default"
	// RootCAConfigMap is the ConfigMap holding the API server's CA bundle.
	RootCAConfigMap = "kube-root-ca.crt"
	// rootCAKey is the key of the bundle in RootCAConfigMap.
	rootCAKey = "ca.crt"
	// descriptionAnnotation is upstream's.
	descriptionAnnotation = "kubernetes.io/description"
	description           = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."
)

func init() {
	controllers.Register(controllers.Descriptor{Name: "serviceaccount", New: New})
}

// Controller reconciles one namespace at a time.
type Controller struct {
	client     kubernetes.Interface
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	configMaps corelisters.ConfigMapLister
	rootCA     string
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
}

// New builds the controller and registers its informers.
func New(c controllers.Context) (controllers.Controller, error) {
	ns := c.Informers.Core().V1().Namespaces()
	sa := c.Informers.Core().V1().ServiceAccounts()
	cm := c.Informers.Core().V1().ConfigMaps()
	ctrl := &Controller{
		client:     c.Client,
		namespaces: ns.Lister(),
		accounts:   sa.Lister(),
		configMaps: cm.Lister(),
		rootCA:     string(c.RootCA),
		synced:     []cache.InformerSynced{ns.Informer().HasSynced, sa.Informer().HasSynced, cm.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "serviceaccount"}),
	}
	enqueueNamespace := func(obj interface{}) {
		if n, ok := obj.(*corev1.Namespace); ok {
			ctrl.queue.Add(n.Name)
		}
	}
	enqueueOwner := func(obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if o, ok := obj.(metav1.Object); ok && (o.GetName() == DefaultServiceAccount || o.GetName() == RootCAConfigMap) {
			ctrl.queue.Add(o.GetNamespace())
		}
	}
	if _, err := ns.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueNamespace,
		UpdateFunc: func(_, obj interface{}) { enqueueNamespace(obj) },
	}); err != nil {
		return nil, err
	}
	for _, inf := range []cache.SharedIndexInformer{sa.Informer(), cm.Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, obj interface{}) { enqueueOwner(obj) },
			DeleteFunc: enqueueOwner,
		}); err != nil {
			return nil, err
		}
	}
	return ctrl, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	controllers.ProcessQueue(ctx, "serviceaccount", c.queue, 2, c.sync, c.synced...)
}

// sync makes sure namespace holds the default ServiceAccount and a current
// root CA ConfigMap. Terminating namespaces are left alone: their content is
// being deleted.
func (c *Controller) sync(ctx context.Context, namespace string) error {
	ns, err := c.namespaces.Get(namespace)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		return nil
	}
	if err := c.ensureServiceAccount(ctx, namespace); err != nil {
		return err
	}
	return c.ensureRootCA(ctx, namespace)
}

func (c *Controller) ensureServiceAccount(ctx context.Context, namespace string) error {
	if _, err := c.accounts.ServiceAccounts(namespace).Get(DefaultServiceAccount); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	klog.FromContext(ctx).V(1).Info("Creating ServiceAccount", "serviceAccount", klog.KRef(namespace, DefaultServiceAccount))
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultServiceAccount, Namespace: namespace}}
	_, err := c.client.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		return fmt.Errorf("creating ServiceAccount %s/%s: %w", namespace, DefaultServiceAccount, err)
	}
	return nil
}

func (c *Controller) ensureRootCA(ctx context.Context, namespace string) error {
	want := RootCA(namespace, c.rootCA)
	have, err := c.configMaps.ConfigMaps(namespace).Get(RootCAConfigMap)
	switch {
	case apierrors.IsNotFound(err):
		klog.FromContext(ctx).V(1).Info("Creating ConfigMap", "configMap", klog.KRef(namespace, RootCAConfigMap))
		_, err = c.client.CoreV1().ConfigMaps(namespace).Create(ctx, want, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return fmt.Errorf("creating ConfigMap %s/%s: %w", namespace, RootCAConfigMap, err)
		}
		return nil
	case err != nil:
		return err
	}
	if have.Data[rootCAKey] == c.rootCA && len(have.Data) == 1 && have.Annotations[descriptionAnnotation] == description {
		return nil
	}
	updated := have.DeepCopy()
	updated.Data = want.Data
	if updated.Annotations == nil {
		updated.Annotations = map[string]string{}
	}
	updated.Annotations[descriptionAnnotation] = description
	if _, err := c.client.CoreV1().ConfigMaps(namespace).Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ConfigMap %s/%s: %w", namespace, RootCAConfigMap, err)
	}
	return nil
}

// RootCA is the ConfigMap publishing the CA bundle in namespace.
func RootCA(namespace, bundle string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:        RootCAConfigMap,
			Namespace:   namespace,
			Annotations: map[string]string{descriptionAnnotation: description},
		},
		Data: map[string]string{rootCAKey: bundle},
	}
}
