// Package nodelifecycle watches nodes' heartbeats, as upstream's node
// lifecycle controller does: a node whose kubelet has not renewed its Lease
// (or posted status) for the grace period gets its Ready condition set to
// Unknown and the node.kubernetes.io/unreachable taints (not-ready when the
// kubelet reports NotReady), its pods are marked not ready, and pods that do
// not tolerate the NoExecute taint are evicted once their toleration
// seconds have passed.
package nodelifecycle

import (
	"context"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
	"github.com/strata-dev/strata/nucleus/scheme"
)

const (
	// monitorPeriod is upstream's --node-monitor-period.
	monitorPeriod = 5 * time.Second
	// evictionPeriod is how often tainted nodes' pods are checked.
	evictionPeriod = time.Second
	// podNodeIndex indexes pods by spec.nodeName.
	podNodeIndex = "spec.nodeName"
)

func init() {
	controllers.Register(controllers.Descriptor{Name: "nodelifecycle", New: New})
}

// Controller monitors nodes and evicts pods from unhealthy ones.
type Controller struct {
	client      kubernetes.Interface
	nodes       corelisters.NodeLister
	leases      coordinationlisters.LeaseLister
	pods        cache.Indexer
	synced      []cache.InformerSynced
	gracePeriod time.Duration
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster
	now         func() time.Time

	mu        sync.Mutex
	firstSeen map[string]time.Time
}

// New builds the controller.
func New(c controllers.Context) (controllers.Controller, error) {
	nodes := c.Informers.Core().V1().Nodes()
	leases := c.Informers.Coordination().V1().Leases()
	pods := c.Informers.Core().V1().Pods().Informer()
	if err := pods.AddIndexers(cache.Indexers{podNodeIndex: func(obj interface{}) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			return []string{p.Spec.NodeName}, nil
		}
		return nil, nil
	}}); err != nil {
		return nil, err
	}
	broadcaster := record.NewBroadcaster()
	grace := c.NodeMonitorGracePeriod
	if grace <= 0 {
		grace = 40 * time.Second
	}
	return &Controller{
		client:      c.Client,
		nodes:       nodes.Lister(),
		leases:      leases.Lister(),
		pods:        pods.GetIndexer(),
		synced:      []cache.InformerSynced{nodes.Informer().HasSynced, leases.Informer().HasSynced, pods.HasSynced},
		gracePeriod: grace,
		broadcaster: broadcaster,
		recorder:    broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "node-controller"}),
		now:         time.Now,
		firstSeen:   map[string]time.Time{},
	}, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	if !cache.WaitForNamedCacheSync("node lifecycle", ctx.Done(), c.synced...) {
		return
	}
	c.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.client.CoreV1().Events("")})
	defer c.broadcaster.Shutdown()
	go wait.UntilWithContext(ctx, c.evictPods, evictionPeriod)
	wait.UntilWithContext(ctx, c.monitorNodes, min(monitorPeriod, c.gracePeriod/2))
}

// monitorNodes marks silent nodes Unknown and keeps every node's lifecycle
// taints in step with its Ready condition.
func (c *Controller) monitorNodes(ctx context.Context) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, node := range nodes {
		seen[node.Name] = true
		if err := c.monitorNode(ctx, node); err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Monitoring node failed", "node", klog.KObj(node))
		}
	}
	c.mu.Lock()
	for name := range c.firstSeen {
		if !seen[name] {
			delete(c.firstSeen, name)
		}
	}
	c.mu.Unlock()
}

func (c *Controller) monitorNode(ctx context.Context, node *corev1.Node) error {
	now := c.now()
	c.mu.Lock()
	first, ok := c.firstSeen[node.Name]
	if !ok {
		first = now
		c.firstSeen[node.Name] = now
	}
	c.mu.Unlock()

	var renewed *metav1.MicroTime
	if lease, err := c.leases.Leases(corev1.NamespaceNodeLease).Get(node.Name); err == nil {
		renewed = leaseRenewTime(lease)
	}
	if now.Sub(lastHeartbeat(node, renewed, first)) > c.gracePeriod {
		if conds, changed := unknownConditions(node, metav1.NewTime(now)); changed {
			klog.FromContext(ctx).Info("Node stopped posting status", "node", klog.KObj(node), "gracePeriod", c.gracePeriod)
			updated := node.DeepCopy()
			updated.Status.Conditions = conds
			var err error
			if node, err = c.client.CoreV1().Nodes().UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("marking node status unknown: %w", err)
			}
			c.recorder.Eventf(&corev1.ObjectReference{Kind: "Node", Name: node.Name, UID: node.UID}, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", node.Name)
			if err := c.markPodsNotReady(ctx, node.Name); err != nil {
				return err
			}
		}
	}
	taints, changed := reconcileTaints(node.Spec.Taints, wantedTaints(node), metav1.NewTime(now))
	if !changed {
		return nil
	}
	updated := node.DeepCopy()
	updated.Spec.Taints = taints
	_, err := c.client.CoreV1().Nodes().Update(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func leaseRenewTime(l *coordinationv1.Lease) *metav1.MicroTime {
	return l.Spec.RenewTime
}

// markPodsNotReady sets the Ready condition of the node's pods to False, as
// upstream does when a node stops responding.
func (c *Controller) markPodsNotReady(ctx context.Context, nodeName string) error {
	objs, err := c.pods.ByIndex(podNodeIndex, nodeName)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		pod := obj.(*corev1.Pod)
		for i, cond := range pod.Status.Conditions {
			if cond.Type != corev1.PodReady || cond.Status == corev1.ConditionFalse {
				continue
			}
			updated := pod.DeepCopy()
			updated.Status.Conditions[i].Status = corev1.ConditionFalse
			updated.Status.Conditions[i].LastTransitionTime = metav1.NewTime(c.now())
			if _, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return fmt.Errorf("marking pod %s/%s not ready: %w", pod.Namespace, pod.Name, err)
			}
		}
	}
	return nil
}

// evictPods deletes the pods whose tolerations of their node's NoExecute
// taints have run out.
func (c *Controller) evictPods(ctx context.Context) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return
	}
	now := c.now()
	for _, node := range nodes {
		if !hasNoExecute(node.Spec.Taints) {
			continue
		}
		objs, err := c.pods.ByIndex(podNodeIndex, node.Name)
		if err != nil {
			continue
		}
		for _, obj := range objs {
			pod := obj.(*corev1.Pod)
			if pod.DeletionTimestamp != nil {
				continue
			}
			if at, ok := evictionTime(pod, node.Spec.Taints, now); !ok || at.After(now) {
				continue
			}
			klog.FromContext(ctx).Info("Evicting pod from tainted node", "pod", klog.KObj(pod), "node", node.Name)
			c.recorder.Eventf(pod, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", pod.Namespace, pod.Name)
			uid := pod.UID
			err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				utilruntime.HandleErrorWithContext(ctx, err, "Evicting pod failed", "pod", klog.KObj(pod))
			}
		}
	}
}

func hasNoExecute(taints []corev1.Taint) bool {
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}
