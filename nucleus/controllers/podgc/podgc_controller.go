// Package podgc deletes pods nobody else will, as upstream's pod garbage
// collector does: pods bound to nodes that no longer exist, terminating pods
// that were never scheduled, and the oldest finished pods once there are
// more than the threshold.
package podgc

import (
	"context"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
)

const (
	// checkPeriod is how often pods are looked at.
	checkPeriod = 5 * time.Second
	// quarantine is how long a node must be missing from the cache before
	// its pods are collected (a live lookup confirms it first).
	quarantine = 5 * time.Second
	// TerminatedPodThreshold is upstream's --terminated-pod-gc-threshold.
	TerminatedPodThreshold = 12500
)

func init() {
	controllers.Register(controllers.Descriptor{Name: "podgc", New: New})
}

// Controller collects pods.
type Controller struct {
	client    kubernetes.Interface
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	synced    []cache.InformerSynced
	threshold int
	now       func() time.Time

	mu      sync.Mutex
	missing map[string]time.Time
}

// New builds the controller.
func New(c controllers.Context) (controllers.Controller, error) {
	pods := c.Informers.Core().V1().Pods()
	nodes := c.Informers.Core().V1().Nodes()
	return &Controller{
		client:    c.Client,
		pods:      pods.Lister(),
		nodes:     nodes.Lister(),
		synced:    []cache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced},
		threshold: TerminatedPodThreshold,
		now:       time.Now,
		missing:   map[string]time.Time{},
	}, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	if !cache.WaitForNamedCacheSync("pod garbage collector", ctx.Done(), c.synced...) {
		return
	}
	wait.UntilWithContext(ctx, c.collect, checkPeriod)
}

func (c *Controller) collect(ctx context.Context) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return
	}
	for _, pod := range c.orphaned(ctx, pods) {
		c.forceDelete(ctx, pod, "node does not exist")
	}
	for _, pod := range unscheduledTerminating(pods) {
		c.forceDelete(ctx, pod, "terminating and not scheduled")
	}
	for _, pod := range excessTerminated(pods, c.threshold) {
		c.forceDelete(ctx, pod, "too many terminated pods")
	}
}

// orphaned returns the pods bound to nodes that have been missing for the
// quarantine period and are confirmed gone by a live lookup.
func (c *Controller) orphaned(ctx context.Context, pods []*corev1.Pod) []*corev1.Pod {
	now := c.now()
	byNode := map[string][]*corev1.Pod{}
	for _, pod := range pods {
		if pod.Spec.NodeName != "" {
			byNode[pod.Spec.NodeName] = append(byNode[pod.Spec.NodeName], pod)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*corev1.Pod
	for name, onNode := range byNode {
		if _, err := c.nodes.Get(name); err == nil {
			delete(c.missing, name)
			continue
		}
		since, ok := c.missing[name]
		if !ok {
			c.missing[name] = now
			continue
		}
		if now.Sub(since) < quarantine {
			continue
		}
		if _, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			continue
		}
		out = append(out, onNode...)
	}
	for name := range c.missing {
		if _, ok := byNode[name]; !ok {
			delete(c.missing, name)
		}
	}
	return out
}

// unscheduledTerminating are pods being deleted that no kubelet will ever
// finish deleting.
func unscheduledTerminating(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil && pod.Spec.NodeName == "" {
			out = append(out, pod)
		}
	}
	return out
}

// excessTerminated returns the oldest finished pods beyond threshold.
func excessTerminated(pods []*corev1.Pod, threshold int) []*corev1.Pod {
	var done []*corev1.Pod
	for _, pod := range pods {
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			done = append(done, pod)
		}
	}
	if len(done) <= threshold {
		return nil
	}
	sort.Slice(done, func(i, j int) bool {
		a, b := done[i].CreationTimestamp, done[j].CreationTimestamp
		if a.Equal(&b) {
			return done[i].Name < done[j].Name
		}
		return a.Before(&b)
	})
	return done[:len(done)-threshold]
}

func (c *Controller) forceDelete(ctx context.Context, pod *corev1.Pod, why string) {
	klog.FromContext(ctx).Info("Deleting pod", "pod", klog.KObj(pod), "reason", why)
	uid := pod.UID
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		utilruntime.HandleErrorWithContext(ctx, err, "Deleting pod failed", "pod", klog.KObj(pod))
	}
}
