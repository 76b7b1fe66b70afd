// Package garbagecollector deletes objects whose owners are gone, as
// upstream's garbage collector does, for every resource the server serves —
// custom resources included, found through discovery and refreshed so a CRD
// installed later is collected without restart:
//
//   - background deletion: an object whose owners are all gone is deleted;
//   - foreground deletion: an owner with the foregroundDeletion finalizer has
//     its dependents deleted, and the finalizer removed once no dependent
//     with blockOwnerDeletion remains;
//   - orphan deletion: an owner with the orphan finalizer has its references
//     removed from its dependents, then the finalizer;
//   - dangling references (an owner that never existed, or exists with
//     another UID) count as gone;
//   - an owner whose resource is not served (a CRD with served: false, as
//     after `helm uninstall` of a layer) is neither gone nor present: its
//     dependents wait, untouched, until it is served again.
//
// Owners are looked up live, never only in a cache, before anything is
// deleted.
package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
)

// rediscoveryPeriod is how often new and removed resources are picked up.
const rediscoveryPeriod = 5 * time.Second

func init() {
	controllers.Register(controllers.Descriptor{Name: "garbagecollector", New: New})
}

// node identifies one object.
type node struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
	uid       types.UID
}

func nodeOf(gvr schema.GroupVersionResource, o metav1.Object) node {
	return node{gvr: gvr, namespace: o.GetNamespace(), name: o.GetName(), uid: o.GetUID()}
}

func (n node) String() string {
	return fmt.Sprintf("%s %s/%s (%s)", n.gvr.GroupResource(), n.namespace, n.name, n.uid)
}

// Collector is the garbage collector.
type Collector struct {
	metadata  metadata.Interface
	discovery discovery.DiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	monitors  *monitors

	// attemptToDelete holds objects whose owners may be gone, and owners
	// being deleted in the foreground; attemptToOrphan owners whose
	// dependents are to be orphaned.
	attemptToDelete workqueue.TypedRateLimitingInterface[node]
	attemptToOrphan workqueue.TypedRateLimitingInterface[node]

	// known holds the UIDs of the objects the monitors have seen.
	knownMu sync.RWMutex
	known   map[types.UID]struct{}
}

// New builds the collector.
func New(c controllers.Context) (controllers.Controller, error) {
	gc := &Collector{
		metadata:  c.Metadata,
		discovery: c.Discovery,
		mapper:    restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Discovery)),
		attemptToDelete: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[node](),
			workqueue.TypedRateLimitingQueueConfig[node]{Name: "garbage_collector_attempt_to_delete"}),
		attemptToOrphan: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[node](),
			workqueue.TypedRateLimitingQueueConfig[node]{Name: "garbage_collector_attempt_to_orphan"}),
		known: map[types.UID]struct{}{},
	}
	gc.monitors = &monitors{metadata: c.Metadata, byGR: map[schema.GroupVersionResource]*monitor{}}
	return gc, nil
}

// handlerFor returns the event handler of gvr's monitor.
func (gc *Collector) handlerFor(gvr schema.GroupVersionResource) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if o, err := meta.Accessor(obj); err == nil {
				gc.observe(nodeOf(gvr, o), o, nil)
			}
		},
		UpdateFunc: func(oldObj, obj interface{}) {
			o, err := meta.Accessor(obj)
			if err != nil {
				return
			}
			old, _ := meta.Accessor(oldObj)
			gc.observe(nodeOf(gvr, o), o, old)
		},
		DeleteFunc: func(obj interface{}) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if o, err := meta.Accessor(obj); err == nil {
				gc.forget(nodeOf(gvr, o), o)
			}
		},
	}
}

// observe reacts to an object added or changed (old is nil when added).
func (gc *Collector) observe(n node, o, old metav1.Object) {
	gc.knownMu.Lock()
	gc.known[n.uid] = struct{}{}
	gc.knownMu.Unlock()

	if isDeletingDependents(o) {
		gc.attemptToDelete.Add(n)
		for _, dep := range gc.monitors.dependents(n.uid) {
			gc.attemptToDelete.Add(dep)
		}
	}
	if isOrphaning(o) {
		gc.attemptToOrphan.Add(n)
	}
	refs := o.GetOwnerReferences()
	if len(refs) == 0 {
		return
	}
	if old != nil && slices.Equal(old.GetOwnerReferences(), refs) {
		return
	}
	// An owner that was never seen may not exist: check it.
	gc.knownMu.RLock()
	defer gc.knownMu.RUnlock()
	for _, ref := range refs {
		if _, ok := gc.known[ref.UID]; !ok {
			gc.attemptToDelete.Add(n)
			return
		}
	}
}

// forget reacts to an object deleted: its dependents may be garbage now, and
// owners waiting for it may be done.
func (gc *Collector) forget(n node, o metav1.Object) {
	gc.knownMu.Lock()
	delete(gc.known, n.uid)
	gc.knownMu.Unlock()
	for _, dep := range gc.monitors.dependents(n.uid) {
		gc.attemptToDelete.Add(dep)
	}
	for _, ref := range o.GetOwnerReferences() {
		if owner, err := gc.nodeFor(ref, n.namespace); err == nil {
			gc.attemptToDelete.Add(owner)
		}
	}
}

// Run works until ctx ends.
func (gc *Collector) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	defer gc.attemptToDelete.ShutDown()
	defer gc.attemptToOrphan.ShutDown()
	defer gc.monitors.stopAll()
	logger := klog.FromContext(ctx)

	gc.monitors.handlerFor = gc.handlerFor
	started, err := gc.monitors.sync(ctx, gc.discovery)
	if err != nil {
		logger.Error(err, "Discovering resources failed; retrying")
	}
	if !cache.WaitForNamedCacheSync("garbage collector", ctx.Done(), synced(started)...) {
		return
	}
	for range 4 {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for gc.processDelete(ctx) {
			}
		}, time.Second)
	}
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for gc.processOrphan(ctx) {
		}
	}, time.Second)
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		gc.mapper.Reset()
		started, err := gc.monitors.sync(ctx, gc.discovery)
		if err != nil {
			logger.Error(err, "Discovering resources failed")
		}
		for _, mon := range started {
			go gc.recheckDependentsOf(ctx, mon)
		}
	}, rediscoveryPeriod)
}

// recheckDependentsOf looks again at every object owned by an object of a
// resource that was just (again) found in discovery, once its monitor has
// listed it. Its owners' deletions were not watched until then: a CRD
// served again after `helm uninstall`, whose objects were deleted before the
// collector noticed, would otherwise leave their dependents forever, as no
// event of the owner ever comes. (Upstream's collector keeps polling owners
// it has not observed; this checks each dependent once, when it may have
// missed something.)
func (gc *Collector) recheckDependentsOf(ctx context.Context, mon *monitor) {
	if !cache.WaitForCacheSync(mon.stopped, mon.informer.HasSynced) {
		return
	}
	gvk, err := gc.mapper.KindFor(mon.gvr)
	if err != nil {
		klog.FromContext(ctx).V(2).Info("Resolving the kind of a new resource failed", "resource", mon.gvr.String(), "err", err)
		return
	}
	for _, dep := range gc.monitors.ownedBy(gvk.GroupKind()) {
		gc.attemptToDelete.Add(dep)
	}
}

func (gc *Collector) processDelete(ctx context.Context) bool {
	n, quit := gc.attemptToDelete.Get()
	if quit {
		return false
	}
	defer gc.attemptToDelete.Done(n)
	if err := gc.attemptToDeleteItem(ctx, n); err != nil {
		klog.FromContext(ctx).V(2).Info("Collecting garbage failed; retrying", "object", n.String(), "err", err)
		gc.attemptToDelete.AddRateLimited(n)
		return true
	}
	gc.attemptToDelete.Forget(n)
	return true
}

func (gc *Collector) processOrphan(ctx context.Context) bool {
	n, quit := gc.attemptToOrphan.Get()
	if quit {
		return false
	}
	defer gc.attemptToOrphan.Done(n)
	if err := gc.orphanDependents(ctx, n); err != nil {
		klog.FromContext(ctx).V(2).Info("Orphaning dependents failed; retrying", "object", n.String(), "err", err)
		gc.attemptToOrphan.AddRateLimited(n)
		return true
	}
	gc.attemptToOrphan.Forget(n)
	return true
}

// client returns the metadata client of n's resource and namespace.
func (gc *Collector) client(n node) metadata.ResourceInterface {
	if n.namespace == "" {
		return gc.metadata.Resource(n.gvr)
	}
	return gc.metadata.Resource(n.gvr).Namespace(n.namespace)
}

// nodeFor resolves an owner reference of an object in namespace.
func (gc *Collector) nodeFor(ref metav1.OwnerReference, namespace string) (node, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return node{}, err
	}
	mapping, err := gc.mapper.RESTMapping(gv.WithKind(ref.Kind).GroupKind(), gv.Version)
	if err != nil {
		return node{}, err
	}
	n := node{gvr: mapping.Resource, name: ref.Name, uid: ref.UID}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if namespace == "" {
			return node{}, errNamespacedOwnerOfClusterObject
		}
		n.namespace = namespace
	}
	return n, nil
}

// errNamespacedOwnerOfClusterObject: a cluster-scoped object names a
// namespaced owner. As upstream, such a reference cannot be resolved and
// the object is never collected through it.
var errNamespacedOwnerOfClusterObject = errors.New("a cluster-scoped object cannot have a namespaced owner")

// lookup reads n live; it returns nil when n is gone or was replaced by an
// object with another UID.
func (gc *Collector) lookup(ctx context.Context, n node) (*metav1.PartialObjectMetadata, error) {
	o, err := gc.client(n).Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if n.uid != "" && o.UID != n.uid {
		return nil, nil
	}
	return o, nil
}

// attemptToDeleteItem decides the fate of one object.
func (gc *Collector) attemptToDeleteItem(ctx context.Context, n node) error {
	logger := klog.FromContext(ctx)
	item, err := gc.lookup(ctx, n)
	if err != nil || item == nil {
		return err
	}
	if isDeletingDependents(item) {
		return gc.processDeletingDependents(ctx, n, item)
	}
	if item.DeletionTimestamp != nil {
		// Already going; its own finalizers decide when.
		return nil
	}
	refs := item.OwnerReferences
	states := make([]ownerState, len(refs))
	for i, ref := range refs {
		if states[i], err = gc.ownerState(ctx, ref, n.namespace); err != nil {
			return err
		}
	}
	v := decide(refs, states, item.Finalizers, len(gc.monitors.dependents(n.uid)) > 0)
	switch {
	case len(v.removeOwners) > 0:
		logger.V(1).Info("Removing references to gone owners", "object", n.String(), "owners", v.removeOwners)
		patch, err := metadataPatch(item.ResourceVersion, "ownerReferences", withoutOwners(refs, v.removeOwners))
		if err != nil {
			return err
		}
		_, err = gc.client(n).Patch(ctx, n.name, types.MergePatchType, patch, metav1.PatchOptions{})
		return ignoreNotFound(err)
	case v.delete:
		logger.V(1).Info("Deleting object", "object", n.String(), "propagationPolicy", v.policy)
		uid := n.uid
		err := gc.client(n).Delete(ctx, n.name, metav1.DeleteOptions{
			Preconditions:     &metav1.Preconditions{UID: &uid},
			PropagationPolicy: &v.policy,
		})
		if apierrors.IsConflict(err) {
			// Replaced by a new object of the same name: not ours.
			return nil
		}
		return ignoreNotFound(err)
	}
	return nil
}

// ownerState looks an owner up.
func (gc *Collector) ownerState(ctx context.Context, ref metav1.OwnerReference, namespace string) (ownerState, error) {
	owner, err := gc.nodeFor(ref, namespace)
	if errors.Is(err, errNamespacedOwnerOfClusterObject) {
		return ownerSolid, nil
	}
	if err != nil {
		// The owner's kind cannot be resolved (yet): retry later rather
		// than delete on a guess.
		return ownerSolid, fmt.Errorf("resolving owner %s %s: %w", ref.Kind, ref.Name, err)
	}
	o, err := gc.lookup(ctx, owner)
	if err == nil && o == nil {
		o, err = gc.confirmGone(ctx, owner)
	}
	switch {
	case err != nil:
		return ownerSolid, fmt.Errorf("looking up owner %s %s: %w", ref.Kind, ref.Name, err)
	case o == nil:
		return ownerDangling, nil
	case isDeletingDependents(o):
		return ownerWaiting, nil
	default:
		return ownerSolid, nil
	}
}

// confirmGone checks an owner that was not found, and returns it if a second
// read finds it after all. A resource that is not served answers 404 as an
// object that does not exist does: a CRD whose versions are set to
// served: false (as `helm uninstall` of a layer does: the objects stay in
// etcd) until the collector's discovery notices, or a CRD served again
// until the server's handlers catch up with it. So an owner is gone only if
// its resource is served, by discovery and by its CRD's spec, and a read
// after that check still finds nothing; otherwise the dependent is retried
// later, never deleted on a guess.
func (gc *Collector) confirmGone(ctx context.Context, owner node) (*metav1.PartialObjectMetadata, error) {
	served, err := gc.served(ctx, owner.gvr)
	if err != nil {
		return nil, err
	}
	if !served {
		return nil, fmt.Errorf("%s is not served (a CustomResourceDefinition with served: false?): its objects cannot be looked up until it is", owner.gvr)
	}
	o, err := gc.lookup(ctx, owner)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// served asks the server, not the collector's cache, whether it serves gvr:
// discovery must list it, and if a CRD defines it, the CRD's spec must
// serve its version (the spec changes before discovery follows).
func (gc *Collector) served(ctx context.Context, gvr schema.GroupVersionResource) (bool, error) {
	list, err := gc.discovery.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("discovering %s: %w", gvr.GroupVersion(), err)
	}
	if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == gvr.Resource }) {
		return false, nil
	}
	rc := gc.discovery.RESTClient()
	if gvr.Group == "" || rc == nil {
		return true, nil
	}
	// JSON: the nucleus' loopback client config asks for protobuf.
	raw, err := rc.Get().AbsPath("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", gvr.Resource+"."+gvr.Group).
		SetHeader("Accept", "application/json").DoRaw(ctx)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil // a built-in resource
	case err != nil:
		return false, fmt.Errorf("reading the CustomResourceDefinition of %s: %w", gvr.GroupResource(), err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := json.Unmarshal(raw, &crd); err != nil {
		return false, fmt.Errorf("decoding the CustomResourceDefinition of %s: %w", gvr.GroupResource(), err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == gvr.Version {
			return v.Served, nil
		}
	}
	return false, nil
}

// processDeletingDependents handles an owner deleted in the foreground: its
// dependents are deleted, and once none blocks it any more its
// foregroundDeletion finalizer is removed.
func (gc *Collector) processDeletingDependents(ctx context.Context, n node, owner *metav1.PartialObjectMetadata) error {
	var blocking int
	for _, dep := range gc.monitors.dependents(n.uid) {
		gc.attemptToDelete.Add(dep)
		if o, err := gc.lookup(ctx, dep); err == nil && o != nil && blocks(o, n.uid) {
			blocking++
		}
	}
	if blocking > 0 {
		return nil
	}
	klog.FromContext(ctx).V(1).Info("Removing the foregroundDeletion finalizer", "object", n.String())
	return gc.removeFinalizer(ctx, n, owner, metav1.FinalizerDeleteDependents)
}

// orphanDependents removes references to an owner with the orphan finalizer
// from its dependents, then the finalizer.
func (gc *Collector) orphanDependents(ctx context.Context, n node) error {
	owner, err := gc.lookup(ctx, n)
	if err != nil || owner == nil || !isOrphaning(owner) {
		return err
	}
	for _, dep := range gc.monitors.dependents(n.uid) {
		o, err := gc.lookup(ctx, dep)
		if err != nil {
			return err
		}
		if o == nil {
			continue
		}
		patch, err := metadataPatch(o.ResourceVersion, "ownerReferences", withoutOwners(o.OwnerReferences, []types.UID{n.uid}))
		if err != nil {
			return err
		}
		if _, err := gc.client(dep).Patch(ctx, dep.name, types.MergePatchType, patch, metav1.PatchOptions{}); ignoreNotFound(err) != nil {
			return fmt.Errorf("orphaning %s: %w", dep, err)
		}
	}
	klog.FromContext(ctx).V(1).Info("Removing the orphan finalizer", "object", n.String())
	return gc.removeFinalizer(ctx, n, owner, metav1.FinalizerOrphanDependents)
}

func (gc *Collector) removeFinalizer(ctx context.Context, n node, o *metav1.PartialObjectMetadata, finalizer string) error {
	rest := slices.DeleteFunc(slices.Clone(o.Finalizers), func(f string) bool { return f == finalizer })
	patch, err := metadataPatch(o.ResourceVersion, "finalizers", rest)
	if err != nil {
		return err
	}
	_, err = gc.client(n).Patch(ctx, n.name, types.MergePatchType, patch, metav1.PatchOptions{})
	return ignoreNotFound(err)
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
