// Package scheduler is Strata's default scheduler: it assigns pods that have
// no node to one, as kube-scheduler does. Informers keep an in-memory cache
// of nodes and the pods on them; one goroutine takes pods from a queue,
// filters and scores the nodes from that cache (package framework), assumes
// the pod on the chosen node and binds it through pods/binding
// asynchronously. Pods that fit nowhere get the PodScheduled=False
// condition and a FailedScheduling event, and are retried with backoff when
// a node is added or updated, a pod is deleted, or periodically.
package scheduler

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/scheduler/framework"
)

const (
	// SchedulerName is the spec.schedulerName of the pods this scheduler
	// places.
	SchedulerName = corev1.DefaultSchedulerName
	// initialBackoff and maxBackoff bound the delay before an unschedulable
	// pod is retried.
	initialBackoff = time.Second
	maxBackoff     = 10 * time.Second
	// flushInterval is how often every unschedulable pod is retried even
	// if nothing seems to have changed.
	flushInterval = 60 * time.Second
)

// Scheduler places pods on nodes.
type Scheduler struct {
	client      kubernetes.Interface
	pods        corelisters.PodLister
	synced      []toolscache.InformerSynced
	cache       *cache
	queue       workqueue.TypedRateLimitingInterface[string]
	broadcaster events.EventBroadcaster
	recorder    events.EventRecorder

	mu sync.Mutex
	// unschedulable holds the keys of the pods that fit nowhere, waiting
	// for a change in the cluster.
	unschedulable map[string]bool
	// moves counts the cluster changes that retried unschedulable pods,
	// so a pod that failed while one happened is retried at once.
	moves int64
}

// New builds a scheduler and registers its handlers with the informers of
// factory; the caller starts factory.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory) (*Scheduler, error) {
	podInformer := factory.Core().V1().Pods()
	nodeInformer := factory.Core().V1().Nodes()
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	s := &Scheduler{
		client:      client,
		pods:        podInformer.Lister(),
		cache:       newCache(),
		broadcaster: broadcaster,
		recorder:    broadcaster.NewRecorder(scheme.Scheme, SchedulerName),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](initialBackoff, maxBackoff),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "scheduler"}),
		unschedulable: map[string]bool{},
	}
	// The cache is filled by the handlers, which run after the informers'
	// stores: scheduling waits until the handlers have seen the initial
	// lists, or a pod could be scheduled against a cache with no node yet.
	podHandler, err := podInformer.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { s.onPod(nil, obj.(*corev1.Pod)) },
		UpdateFunc: func(old, obj interface{}) { s.onPod(old.(*corev1.Pod), obj.(*corev1.Pod)) },
		DeleteFunc: s.onPodDelete,
	})
	if err != nil {
		return nil, err
	}
	nodeHandler, err := nodeInformer.Informer().AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			s.cache.setNode(obj.(*corev1.Node))
			s.retryUnschedulable()
		},
		UpdateFunc: func(_, obj interface{}) {
			s.cache.setNode(obj.(*corev1.Node))
			s.retryUnschedulable()
		},
		DeleteFunc: func(obj interface{}) {
			if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				s.cache.removeNode(n.Name)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	s.synced = []toolscache.InformerSynced{podHandler.HasSynced, nodeHandler.HasSynced}
	return s, nil
}

// responsible reports whether pod waits for this scheduler.
func responsible(pod *corev1.Pod) bool {
	return pod.Spec.NodeName == "" &&
		(pod.Spec.SchedulerName == SchedulerName || pod.Spec.SchedulerName == "") &&
		len(pod.Spec.SchedulingGates) == 0 &&
		pod.DeletionTimestamp == nil &&
		pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

func key(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

func (s *Scheduler) onPod(old, pod *corev1.Pod) {
	if pod.Spec.NodeName != "" {
		s.cache.setPod(pod)
		return
	}
	if !responsible(pod) {
		return
	}
	k := key(pod)
	s.mu.Lock()
	waiting := s.unschedulable[k]
	if waiting && old != nil && (!apiequality.Semantic.DeepEqual(old.Spec, pod.Spec) || !apiequality.Semantic.DeepEqual(old.Labels, pod.Labels)) {
		// The pod itself changed: it may fit now.
		delete(s.unschedulable, k)
		waiting = false
	}
	s.mu.Unlock()
	if !waiting {
		s.queue.Add(k)
	}
}

func (s *Scheduler) onPodDelete(obj interface{}) {
	if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	s.cache.removePod(pod.UID)
	s.mu.Lock()
	delete(s.unschedulable, key(pod))
	s.mu.Unlock()
	if pod.Spec.NodeName != "" {
		s.retryUnschedulable()
	}
}

// retryUnschedulable moves every unschedulable pod back to the queue,
// after its backoff.
func (s *Scheduler) retryUnschedulable() {
	s.mu.Lock()
	keys := make([]string, 0, len(s.unschedulable))
	for k := range s.unschedulable {
		keys = append(keys, k)
	}
	clear(s.unschedulable)
	s.moves++
	s.mu.Unlock()
	for _, k := range keys {
		s.queue.AddRateLimited(k)
	}
}

// Run schedules pods until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	defer s.queue.ShutDown()
	logger := klog.FromContext(ctx)
	if err := s.broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		logger.Error(err, "Starting the event recorder")
	}
	defer s.broadcaster.Shutdown()
	if !toolscache.WaitForNamedCacheSync("scheduler", ctx.Done(), s.synced...) {
		return
	}
	go wait.UntilWithContext(ctx, func(context.Context) { s.retryUnschedulable() }, flushInterval)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for s.scheduleOne(ctx) {
		}
	}, time.Second)
	<-ctx.Done()
}

// scheduleOne runs one scheduling cycle; it reports false once the queue
// is shut down.
func (s *Scheduler) scheduleOne(ctx context.Context) bool {
	k, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(k)
	logger := klog.FromContext(ctx)
	ns, name, _ := toolscache.SplitMetaNamespaceKey(k)
	pod, err := s.pods.Pods(ns).Get(name)
	if err != nil || !responsible(pod) || s.cache.isAssumed(pod.UID) {
		s.queue.Forget(k)
		return true
	}
	pi := framework.NewPodInfo(pod)
	s.mu.Lock()
	moves := s.moves
	s.mu.Unlock()
	res := s.cache.schedule(pi)
	if res.node == "" {
		msg := framework.FitErrorMessage(res.numNodes, res.statuses)
		logger.V(2).Info("Unable to schedule pod; no fit; waiting", "pod", klog.KObj(pod), "err", msg)
		s.mu.Lock()
		changed := s.moves != moves
		if !changed {
			s.unschedulable[k] = true
		}
		s.mu.Unlock()
		if changed {
			s.queue.AddRateLimited(k)
		}
		s.recorder.Eventf(pod, nil, corev1.EventTypeWarning, "FailedScheduling", "Scheduling", msg)
		go s.setUnschedulable(ctx, pod, msg)
		return true
	}
	s.cache.assume(pi, res.node)
	go s.bind(ctx, k, pod, res.node)
	return true
}

// bind writes the pod's binding; on failure the pod is forgotten and
// retried.
func (s *Scheduler) bind(ctx context.Context, k string, pod *corev1.Pod, node string) {
	logger := klog.FromContext(ctx)
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	err := s.client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	if err != nil {
		s.cache.forget(pod.UID)
		if apierrors.IsNotFound(err) || ctx.Err() != nil {
			s.queue.Forget(k)
			return
		}
		logger.Error(err, "Binding failed", "pod", klog.KObj(pod), "node", node)
		s.recorder.Eventf(pod, nil, corev1.EventTypeWarning, "FailedScheduling", "Scheduling", "Binding rejected: %v", err)
		s.queue.AddRateLimited(k)
		return
	}
	s.queue.Forget(k)
	logger.V(2).Info("Successfully bound pod to node", "pod", klog.KObj(pod), "node", node)
	s.recorder.Eventf(pod, nil, corev1.EventTypeNormal, "Scheduled", "Binding", "Successfully assigned %v/%v to %v", pod.Namespace, pod.Name, node)
}

// setUnschedulable records the PodScheduled=False condition, unless the
// pod already carries the same one.
func (s *Scheduler) setUnschedulable(ctx context.Context, pod *corev1.Pod, msg string) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && c.Message == msg {
			return
		}
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": pod.UID},
		"status": map[string]any{"conditions": []map[string]any{{
			"type":               corev1.PodScheduled,
			"status":             corev1.ConditionFalse,
			"reason":             corev1.PodReasonUnschedulable,
			"message":            msg,
			"lastProbeTime":      nil,
			"lastTransitionTime": metav1.Now(),
		}}},
	})
	if err != nil {
		return
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
		klog.FromContext(ctx).Error(err, "Recording the PodScheduled condition", "pod", klog.KObj(pod))
	}
}
