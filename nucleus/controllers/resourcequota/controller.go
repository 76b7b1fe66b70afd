// Package resourcequota keeps the status of ResourceQuotas current:
// status.hard mirrors spec.hard and status.used is recomputed from the stored
// objects when a quota changes, when a tracked object is deleted or a pod
// finishes, and periodically. The ResourceQuota admission plugin reads both
// fields; without this controller no quota would be enforced.
package resourcequota

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
	nucleusquota "github.com/strata-dev/strata/nucleus/quota"
)

// ResyncPeriod is how often every quota is recomputed even without events.
const ResyncPeriod = 5 * time.Minute

// Controller recomputes ResourceQuota status.
type Controller struct {
	client    kubernetes.Interface
	quotas    corelisters.ResourceQuotaLister
	registry  quota.Registry
	queue     workqueue.TypedRateLimitingInterface[string]
	hasSynced []cache.InformerSynced
}

func init() {
	controllers.Register(controllers.Descriptor{Name: "resourcequota", New: func(c controllers.Context) (controllers.Controller, error) {
		return New(c.Client, c.Informers)
	}})
}

// Workers is how many quotas are synced at once.
const Workers = 2

// New wires the controller to informers of f; start f after New.
func New(client kubernetes.Interface, f informers.SharedInformerFactory) (*Controller, error) {
	quotaInformer := f.Core().V1().ResourceQuotas()
	c := &Controller{
		client:   client,
		quotas:   quotaInformer.Lister(),
		registry: generic.NewRegistry(nucleusquota.NewEvaluators(f)),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "resourcequota"}),
	}
	if _, err := quotaInformer.Informer().AddEventHandlerWithResyncPeriod(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		// Admission charges status.used itself; recomputing on those writes
		// would race with it. Only a changed spec, a status that does not
		// mirror it, or the periodic resync (old == cur) trigger a sync.
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(*corev1.ResourceQuota)
			n, ok2 := cur.(*corev1.ResourceQuota)
			if !ok1 || !ok2 || o.ResourceVersion == n.ResourceVersion || NeedsSync(o, n) {
				c.enqueue(cur)
			}
		},
	}, ResyncPeriod); err != nil {
		return nil, err
	}
	c.hasSynced = append(c.hasSynced, quotaInformer.Informer().HasSynced)
	for _, e := range c.registry.List() {
		gr := e.GroupResource()
		inf, err := f.ForResource(gr.WithVersion("v1"))
		if err != nil {
			return nil, fmt.Errorf("informer for %v: %w", gr, err)
		}
		handler := cache.ResourceEventHandlerFuncs{DeleteFunc: c.enqueueNamespaceOf}
		if gr.Group == "" && gr.Resource == "pods" {
			// A pod that finishes stops using its requests. Other phase
			// changes (Pending → Running) change no usage; recomputing then
			// would race with admission, which charges new pods before this
			// controller's informer has seen them.
			handler.UpdateFunc = func(old, cur any) {
				o, ok1 := old.(*corev1.Pod)
				n, ok2 := cur.(*corev1.Pod)
				if ok1 && ok2 && (terminal(o) != terminal(n) || (o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil)) {
					c.enqueueNamespaceOf(cur)
				}
			}
		}
		if _, err := inf.Informer().AddEventHandler(handler); err != nil {
			return nil, err
		}
		c.hasSynced = append(c.hasSynced, inf.Informer().HasSynced)
	}
	return c, nil
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// Run processes quotas until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	controllers.ProcessQueue(ctx, "resourcequota", c.queue, Workers, c.sync, c.hasSynced...)
}

func (c *Controller) enqueue(obj any) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.queue.Add(key)
}

// enqueueNamespaceOf queues every quota of the object's namespace.
func (c *Controller) enqueueNamespaceOf(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := metaNamespace(obj)
	if err != nil || m == "" {
		return
	}
	quotas, err := c.quotas.ResourceQuotas(m).List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range quotas {
		c.enqueue(q)
	}
}

func metaNamespace(obj any) (string, error) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		return "", err
	}
	ns, _, err := cache.SplitMetaNamespaceKey(key)
	return ns, err
}

// sync writes the quota's recomputed status if it changed.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	q, err := c.quotas.ResourceQuotas(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	status, calcErr := ComputeStatus(q, c.registry)
	if !apiequality.Semantic.DeepEqual(status, q.Status) {
		updated := q.DeepCopy()
		updated.Status = status
		klog.FromContext(ctx).V(2).Info("Updating quota status", "quota", klog.KObj(q))
		if _, err := c.client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating status of quota %s: %w", key, err)
		}
	}
	return calcErr
}

// NeedsSync reports whether a quota update calls for recomputing usage: its
// spec changed or its status does not cover its spec.
func NeedsSync(old, cur *corev1.ResourceQuota) bool {
	if !quota.Equals(old.Spec.Hard, cur.Spec.Hard) || !quota.Equals(cur.Spec.Hard, cur.Status.Hard) {
		return true
	}
	for name := range cur.Spec.Hard {
		if _, ok := cur.Status.Used[name]; !ok {
			return true
		}
	}
	return false
}

// ComputeStatus returns the status a quota should have: hard from the spec,
// used measured by the registry's evaluators for the resources the quota
// limits. Resources whose usage could not be measured keep their last value.
func ComputeStatus(q *corev1.ResourceQuota, registry quota.Registry) (corev1.ResourceQuotaStatus, error) {
	hard := q.Spec.Hard.DeepCopy()
	newUsage, err := quota.CalculateUsage(q.Namespace, q.Spec.Scopes, hard, registry, q.Spec.ScopeSelector)
	used := corev1.ResourceList{}
	// Keep the previous figure of a resource that failed to be measured.
	for name, v := range q.Status.Used {
		if _, limited := hard[name]; limited {
			used[name] = v.DeepCopy()
		}
	}
	for name, v := range newUsage {
		used[name] = v
	}
	return corev1.ResourceQuotaStatus{Hard: hard, Used: used}, err
}
