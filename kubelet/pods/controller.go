package pods

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/podstatus"
)

// Defaults of ControllerConfig.
const (
	DefaultResyncInterval = 10 * time.Second
	DefaultRelistInterval = time.Second
	// errorBackoff is how long a pod waits after a failed sync, as
	// upstream's pod workers.
	errorBackoff = 10 * time.Second
)

// ControllerConfig configures the pods controller of a node.
type ControllerConfig struct {
	// Client reads the node's pods and writes their statuses.
	Client kubernetes.Interface
	// NodeName is the node whose pods run here.
	NodeName string
	// Worker is what the pod workers share; its NodeName defaults to
	// NodeName.
	Worker Config
	// ResyncInterval is how often each pod is synced without any change
	// (DefaultResyncInterval when zero).
	ResyncInterval time.Duration
	// RelistInterval is how often the runtime is listed to notice
	// containers that exited (DefaultRelistInterval when zero).
	RelistInterval time.Duration
	// Probes runs the containers' probes (none when nil): it is told what
	// runs after each sync and when a pod is gone, and its results are the
	// workers' (Worker.Probes) unless those are set. Its changes should
	// wake the pod up through Notify. It knows pods by their PodUID.
	Probes ProbeManager
	// StaticPods, when set, keeps static pods running while their mirror
	// pods are deleted and created again (see StaticPods). Without it a
	// mirror pod is run and stopped like any other pod.
	StaticPods StaticPods
}

// ProbeManager runs the probes of the node's containers (package
// kubelet/probes).
type ProbeManager interface {
	ProbeResults
	// UpdatePod starts and stops the probe workers of the pod's containers
	// by its status.
	UpdatePod(pod *corev1.Pod, status corev1.PodStatus)
	// RemovePod stops the probes of a pod that is gone.
	RemovePod(uid types.UID)
}

// Controller runs the pods bound to a node: it watches them (and only
// them), gives each a worker goroutine that syncs it through the runtime
// on every change of the pod, of its containers (noticed by relisting the
// runtime) and periodically, and writes the status each sync reports.
// Once a deleted pod's containers stopped, the pod is deleted for good and
// what is left of it in the runtime is removed.
type Controller struct {
	cfg     ControllerConfig
	clock   clock.Clock
	writer  *podstatus.Writer
	factory informers.SharedInformerFactory
	pods    corelisters.PodLister
	synced  cache.InformerSynced

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	// orphans are pods found in the runtime but not in the API, being
	// removed.
	orphans  map[types.UID]bool
	wg       sync.WaitGroup
	ctx      context.Context
	stopping bool
}

// podWorker is one pod's goroutine.
type podWorker struct {
	// uid is the pod's UID in the runtime (PodUID).
	uid       types.UID
	namespace string
	name      string
	worker    *Worker
	signal    chan struct{}

	// last is the last version of the pod seen (the deleted object once
	// it is gone from the API), to terminate it; guarded by the
	// controller's mutex.
	last *corev1.Pod
	// written is the pod as the last status write returned it, and
	// writtenFrom the resource version it was written over: until the
	// informer catches up, written is the newer pod.
	written     *corev1.Pod
	writtenFrom string
	// probing says the probe manager was told about the pod; owned by the
	// pod's goroutine.
	probing bool
}

// NewController builds the controller; Run runs it.
func NewController(cfg ControllerConfig) (*Controller, error) {
	if cfg.Client == nil {
		return nil, errors.New("pods controller: no client")
	}
	if cfg.NodeName == "" {
		return nil, errors.New("pods controller: no node name")
	}
	if cfg.Worker.Runtime == nil {
		return nil, errors.New("pods controller: no container runtime")
	}
	if cfg.Worker.NodeName == "" {
		cfg.Worker.NodeName = cfg.NodeName
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = DefaultResyncInterval
	}
	if cfg.RelistInterval <= 0 {
		cfg.RelistInterval = DefaultRelistInterval
	}
	if cfg.Probes != nil && cfg.Worker.Probes == nil {
		cfg.Worker.Probes = cfg.Probes
	}
	cfg.Worker.complete()
	c := &Controller{
		cfg:     cfg,
		clock:   cfg.Worker.Clock,
		writer:  &podstatus.Writer{Client: cfg.Client},
		workers: map[types.UID]*podWorker{},
		orphans: map[types.UID]bool{},
	}
	c.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", cfg.NodeName).String()
		}))
	informer := c.factory.Core().V1().Pods()
	c.pods = informer.Lister()
	c.synced = informer.Informer().HasSynced
	if _, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onPod,
		UpdateFunc: func(_, obj any) { c.onPod(obj) },
		DeleteFunc: c.onPod,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run runs the pods until ctx ends, then waits for their workers to stop
// (the containers keep running: a restarted kubelet adopts them).
func (c *Controller) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	log := klog.FromContext(ctx).WithValues("node", c.cfg.NodeName)
	ctx = klog.NewContext(ctx, log)
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()

	log.Info("Starting pods controller")
	c.factory.Start(ctx.Done())
	defer func() {
		c.factory.Shutdown()
		c.mu.Lock()
		c.stopping = true
		c.mu.Unlock()
		c.wg.Wait()
	}()
	if !cache.WaitForNamedCacheSync("pods", ctx.Done(), c.synced) {
		return nil // ctx ended
	}
	// Pods that arrived before the cache synced.
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return err
	}
	for _, pod := range pods {
		c.onPod(pod)
	}
	relister := newRelister(c.cfg.Worker.Runtime)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		changed, err := relister.relist(ctx)
		if err != nil {
			klog.FromContext(ctx).Error(err, "Listing the container runtime failed")
			return
		}
		for _, uid := range changed {
			c.signal(uid)
		}
		c.removeOrphans(ctx, relister.pods())
	}, c.cfg.RelistInterval)

	<-ctx.Done()
	log.Info("Stopping pods controller")
	return nil
}

// onPod routes an informer event to the pod's worker, starting one for a
// new pod.
func (c *Controller) onPod(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName != c.cfg.NodeName {
		return
	}
	uid := PodUID(pod)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil || c.stopping {
		return
	}
	pw, ok := c.workers[uid]
	if !ok {
		pw = &podWorker{
			uid:       uid,
			namespace: pod.Namespace,
			name:      pod.Name,
			worker:    NewWorker(c.cfg.Worker, uid),
			signal:    make(chan struct{}, 1),
		}
		c.workers[uid] = pw
		c.wg.Add(1)
		go c.runWorker(c.ctx, pw)
	}
	pw.last = pod
	notify(pw.signal)
}

// Notify wakes the worker of the pod with uid (its PodUID) up, if it has
// one, to sync it again (a probe result changed).
func (c *Controller) Notify(uid types.UID) {
	c.signal(uid)
}

// signal wakes a pod's worker up, if it has one.
func (c *Controller) signal(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pw, ok := c.workers[uid]; ok {
		notify(pw.signal)
	}
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// runWorker syncs one pod until it is gone or ctx ends.
func (c *Controller) runWorker(ctx context.Context, pw *podWorker) {
	defer c.wg.Done()
	defer utilruntime.HandleCrash()
	log := klog.FromContext(ctx).WithValues("pod", klog.KRef(pw.namespace, pw.name), "podUID", pw.uid)
	ctx = klog.NewContext(ctx, log)

	timer := c.clock.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-pw.signal:
		case <-timer.C():
		}
		next, done := c.syncPod(ctx, pw)
		if done {
			c.mu.Lock()
			delete(c.workers, pw.uid)
			c.mu.Unlock()
			return
		}
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		timer.Reset(next)
	}
}

// syncPod syncs the pod once and says when to sync it again, or that it
// is gone.
func (c *Controller) syncPod(ctx context.Context, pw *podWorker) (time.Duration, bool) {
	log := klog.FromContext(ctx)
	pod, err := c.pods.Pods(pw.namespace).Get(pw.name)
	if err != nil && !apierrors.IsNotFound(err) {
		log.Error(err, "Reading pod from the cache failed")
		return errorBackoff, false
	}
	if apierrors.IsNotFound(err) || PodUID(pod) != pw.uid {
		if c.staticPodDefined(pw) {
			log.V(1).Info("Keeping the static pod running until its mirror pod is created again")
			return c.cfg.ResyncInterval, false
		}
		return c.removePod(ctx, pw)
	}
	if pod.DeletionTimestamp != nil && c.staticPodDefined(pw) {
		// The static pod source deletes the mirror pod for good and
		// creates it again; the static pod goes on.
		log.V(1).Info("Keeping the static pod running while its mirror pod is deleted")
		return c.cfg.ResyncInterval, false
	}
	if pw.written != nil && pw.written.UID != pod.UID {
		pw.written = nil // a new mirror pod of the same static pod
	}
	if pw.written != nil && pod.ResourceVersion == pw.writtenFrom {
		// The informer has not seen our last write yet.
		pod = pod.DeepCopy()
		pod.Status = *pw.written.Status.DeepCopy()
	}

	// The worker and the probes know a mirror pod by its static pod's UID.
	view := runtimeView(pod)
	if c.cfg.Probes != nil && !pw.probing {
		// A restarted kubelet: the probes of containers that already run
		// start from what the API was told about them.
		c.cfg.Probes.UpdatePod(view, pod.Status)
		pw.probing = true
	}
	res, syncErr := pw.worker.Sync(ctx, view)
	if res.Status.Phase != "" {
		from := pod.ResourceVersion
		written, err := c.writer.Write(ctx, pod, res.Status, res.Stopped)
		switch {
		case apierrors.IsNotFound(err):
			// Deleted for good meanwhile (a race, as upstream's status
			// manager knows): the deletion wakes the worker to clean up.
			log.V(2).Info("The pod left the API before its status was written")
		case err != nil:
			log.Error(err, "Writing pod status failed")
			syncErr = errors.Join(syncErr, err)
		case written != pod:
			pw.written, pw.writtenFrom = written, from
		}
		if c.cfg.Probes != nil {
			c.cfg.Probes.UpdatePod(view, res.Status)
		}
	}
	if syncErr != nil {
		log.Error(syncErr, "Syncing pod failed")
		return errorBackoff, false
	}
	if res.RequeueAfter > 0 && res.RequeueAfter < c.cfg.ResyncInterval {
		return res.RequeueAfter, false
	}
	return c.cfg.ResyncInterval, false
}

// removePod stops and removes what is left of a pod that is gone from the
// API (deleted for good, or force-deleted while it ran).
func (c *Controller) removePod(ctx context.Context, pw *podWorker) (time.Duration, bool) {
	log := klog.FromContext(ctx)
	c.mu.Lock()
	last := pw.last
	c.mu.Unlock()
	if last != nil {
		last = runtimeView(last).DeepCopy()
		if last.DeletionTimestamp == nil {
			now := metav1.NewTime(c.clock.Now())
			last.DeletionTimestamp = &now
		}
		if _, err := pw.worker.Terminate(ctx, last, nil); err != nil {
			log.Error(err, "Stopping the containers of a removed pod failed")
			return errorBackoff, false
		}
	}
	if c.cfg.Probes != nil {
		c.cfg.Probes.RemovePod(pw.uid)
	}
	if err := pw.worker.Cleanup(ctx, pw.namespace, pw.name); err != nil {
		log.Error(err, "Removing the containers of a removed pod failed")
		return errorBackoff, false
	}
	log.V(1).Info("Removed pod")
	return 0, true
}

// removeOrphans stops and removes the pods the runtime runs that are
// neither in the API nor handled by a worker: pods deleted while the
// kubelet was down.
func (c *Controller) removeOrphans(ctx context.Context, inRuntime map[types.UID]podName) {
	for uid, name := range inRuntime {
		c.mu.Lock()
		_, working := c.workers[uid]
		skip := working || c.orphans[uid] || c.stopping
		c.mu.Unlock()
		if skip {
			continue
		}
		if pod, err := c.pods.Pods(name.namespace).Get(name.name); err == nil && PodUID(pod) == uid {
			continue // its worker is about to start
		}
		if c.cfg.StaticPods != nil && c.cfg.StaticPods.HasStaticPod(string(uid)) {
			continue // a static pod whose mirror pod is yet to be created
		}
		c.mu.Lock()
		c.orphans[uid] = true
		c.wg.Add(1)
		c.mu.Unlock()
		go func() {
			defer c.wg.Done()
			log := klog.FromContext(ctx).WithValues("pod", klog.KRef(name.namespace, name.name), "podUID", uid)
			log.Info("Removing a pod that is no longer in the API")
			pw := &podWorker{uid: uid, namespace: name.namespace, name: name.name, worker: NewWorker(c.cfg.Worker, uid)}
			if _, done := c.removePod(klog.NewContext(ctx, log), pw); !done {
				c.mu.Lock()
				delete(c.orphans, uid) // try again on a later relist
				c.mu.Unlock()
			}
		}()
	}
}

// staticPodDefined tells whether pw runs a static pod (it was last seen
// as a mirror pod) that its manifest still defines.
func (c *Controller) staticPodDefined(pw *podWorker) bool {
	if c.cfg.StaticPods == nil {
		return false
	}
	c.mu.Lock()
	last := pw.last
	c.mu.Unlock()
	return last != nil && IsMirrorPod(last) && c.cfg.StaticPods.HasStaticPod(string(pw.uid))
}

// Running tells whether the pod with uid (its PodUID) has a worker.
func (c *Controller) Running(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.workers[uid]
	return ok
}

// Pods returns the pods bound to the node as the informer last saw them,
// with the statuses the kubelet wrote (the kubelet API's /pods and the
// pods its logs, exec and port-forward look up).
func (c *Controller) Pods() []*corev1.Pod {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return nil
	}
	return pods
}
