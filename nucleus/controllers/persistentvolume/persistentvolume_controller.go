// Package persistentvolume binds PersistentVolumeClaims to PersistentVolumes
// and carries out the reclaim policy of released volumes, as upstream's
// persistent volume binder controller (pkg/controller/volume/persistentvolume)
// does in Immediate binding mode.
//
// The nucleus serves no storage.k8s.io API: storage classes are matched by
// name only (a claim with no class, or "", matches volumes without one),
// nothing is provisioned dynamically, and there is no WaitForFirstConsumer
// binding. A claim naming a class no volume has waits with upstream's
// "storageclass.storage.k8s.io ... not found" event.
package persistentvolume

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	storagehelpers "k8s.io/component-helpers/storage/volume"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
	"github.com/strata-dev/strata/nucleus/scheme"
)

// resyncPeriod is upstream's --pvclaimbinder-sync-period: every claim and
// volume is synced this often, so pending claims retry.
const resyncPeriod = 15 * time.Second

func init() {
	controllers.Register(controllers.Descriptor{Name: "persistentvolume-binder", New: New})
}

// Controller syncs claims and volumes, each from its own queue with one
// worker: syncing claims is not reentrant (two workers could bind two
// claims to one volume; the API's optimistic concurrency would catch it,
// at the price of conflicts).
type Controller struct {
	client      kubernetes.Interface
	volumes     corelisters.PersistentVolumeLister
	claims      corelisters.PersistentVolumeClaimLister
	pods        corelisters.PodLister
	synced      []cache.InformerSynced
	claimQueue  workqueue.TypedRateLimitingInterface[string]
	volumeQueue workqueue.TypedRateLimitingInterface[string]
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster
}

// New builds the controller and registers its informers.
func New(c controllers.Context) (controllers.Controller, error) {
	volumes := c.Informers.Core().V1().PersistentVolumes()
	claims := c.Informers.Core().V1().PersistentVolumeClaims()
	pods := c.Informers.Core().V1().Pods()
	broadcaster := record.NewBroadcaster()
	ctrl := &Controller{
		client:  c.Client,
		volumes: volumes.Lister(),
		claims:  claims.Lister(),
		pods:    pods.Lister(),
		synced:  []cache.InformerSynced{volumes.Informer().HasSynced, claims.Informer().HasSynced, pods.Informer().HasSynced},
		claimQueue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "claims"}),
		volumeQueue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "volumes"}),
		broadcaster: broadcaster,
		recorder:    broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "persistentvolume-controller"}),
	}
	if _, err := volumes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    ctrl.volumeChanged,
		UpdateFunc: func(_, obj interface{}) { ctrl.volumeChanged(obj) },
		DeleteFunc: ctrl.volumeChanged,
	}); err != nil {
		return nil, err
	}
	enqueueClaim := func(obj interface{}) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			ctrl.claimQueue.Add(key)
		}
	}
	if _, err := claims.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueClaim,
		UpdateFunc: func(_, obj interface{}) { enqueueClaim(obj) },
		// The claim's volume is released.
		DeleteFunc: func(obj interface{}) { ctrl.claimDeleted(obj) },
	}); err != nil {
		return nil, err
	}
	return ctrl, nil
}

// volumeChanged syncs the volume and the claims it may concern: its claim,
// and — when it may be free — the pending claims, which would otherwise
// find it only at the next resync.
func (c *Controller) volumeChanged(obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	volume, ok := obj.(*corev1.PersistentVolume)
	if !ok {
		return
	}
	c.volumeQueue.Add(volume.Name)
	if ref := volume.Spec.ClaimRef; ref != nil {
		c.claimQueue.Add(ref.Namespace + "/" + ref.Name)
		if ref.UID != "" {
			return
		}
	}
	claims, err := c.claims.List(labels.Everything())
	if err != nil {
		return
	}
	for _, claim := range claims {
		if claim.Status.Phase == corev1.ClaimPending {
			c.claimQueue.Add(claimKey(claim))
		}
	}
}

func (c *Controller) claimDeleted(obj interface{}) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if claim, ok := obj.(*corev1.PersistentVolumeClaim); ok && claim.Spec.VolumeName != "" {
		c.volumeQueue.Add(claim.Spec.VolumeName)
	}
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer utilruntime.HandleCrash()
	c.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.client.CoreV1().Events("")})
	defer c.broadcaster.Shutdown()
	go controllers.ProcessQueue(ctx, "persistentvolume-binder volumes", c.volumeQueue, 1, c.syncVolume, c.synced...)
	go func() {
		if cache.WaitForNamedCacheSync("persistentvolume-binder resync", ctx.Done(), c.synced...) {
			wait.UntilWithContext(ctx, c.resync, resyncPeriod)
		}
	}()
	controllers.ProcessQueue(ctx, "persistentvolume-binder claims", c.claimQueue, 1, c.syncClaim, c.synced...)
}

// resync queues every claim and volume.
func (c *Controller) resync(context.Context) {
	if claims, err := c.claims.List(labels.Everything()); err == nil {
		for _, claim := range claims {
			c.claimQueue.Add(claimKey(claim))
		}
	}
	if volumes, err := c.volumes.List(labels.Everything()); err == nil {
		for _, volume := range volumes {
			c.volumeQueue.Add(volume.Name)
		}
	}
}

func (c *Controller) syncClaim(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	claim, err := c.claims.PersistentVolumeClaims(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := klog.LoggerWithValues(klog.FromContext(ctx), "PVC", klog.KObj(claim))
	ctx = klog.NewContext(ctx, logger)
	volumes, err := c.volumes.List(labels.Everything())
	if err != nil {
		return err
	}
	d := decideClaim(claim, volumes)
	logger.V(4).Info("Synchronizing PersistentVolumeClaim", "phase", claim.Status.Phase, "step", d.step)
	switch d.step {
	case claimBind:
		err = c.bind(ctx, d.volume, claim)
	case claimPending:
		_, err = c.updateClaimStatus(ctx, claim, corev1.ClaimPending, nil)
	case claimLost:
		if claim.Status.Phase == corev1.ClaimLost {
			break
		}
		var updated *corev1.PersistentVolumeClaim
		if updated, err = c.updateClaimStatus(ctx, claim, corev1.ClaimLost, nil); err == nil {
			c.record(updated, d.event)
			d.event = nil
		}
	}
	if d.event != nil && d.step != claimLost {
		c.record(claim, d.event)
	}
	return ignoreConflict(ctx, c.claimQueue, key, firstError(err, d.err))
}

func (c *Controller) syncVolume(ctx context.Context, name string) error {
	volume, err := c.volumes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := klog.LoggerWithValues(klog.FromContext(ctx), "volumeName", volume.Name)
	ctx = klog.NewContext(ctx, logger)
	claim, err := c.claimOf(ctx, volume)
	if err != nil {
		return err
	}
	d := decideVolume(volume, claim)
	logger.V(4).Info("Synchronizing PersistentVolume", "phase", volume.Status.Phase, "step", d.step)
	switch d.step {
	case volumeSetPhase:
		_, err = c.updateVolumePhase(ctx, volume, d.phase, "")
	case volumeRelease:
		err = c.release(ctx, volume)
	case volumeSyncClaim:
		c.claimQueue.Add(refKey(volume.Spec.ClaimRef))
	case volumeUnbind:
		err = c.unbind(ctx, volume)
	case volumeMismatch:
		c.record(volume, d.volumeEvent)
		c.record(claim, d.claimEvent)
	}
	return ignoreConflict(ctx, c.volumeQueue, name, err)
}

// claimOf returns the claim volume's claimRef names, or nil if it is gone
// or replaced by a claim of the same name. A claim missing from the cache
// is looked up in the API before the volume is released: it may be too new
// for the cache.
func (c *Controller) claimOf(ctx context.Context, volume *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, error) {
	ref := volume.Spec.ClaimRef
	if ref == nil || ref.UID == "" {
		return nil, nil
	}
	claim, err := c.claims.PersistentVolumeClaims(ref.Namespace).Get(ref.Name)
	switch {
	case apierrors.IsNotFound(err):
		if volume.Status.Phase == corev1.VolumeReleased || volume.Status.Phase == corev1.VolumeFailed {
			return nil, nil
		}
	case err != nil:
		return nil, err
	case claim.UID == ref.UID:
		return claim, nil
	}
	claim, err = c.client.CoreV1().PersistentVolumeClaims(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("getting claim %s of volume %s: %w", refKey(ref), volume.Name, err)
	case claim.UID != ref.UID:
		return nil, nil
	}
	return claim, nil
}

// bind binds volume and claim to each other in upstream's order — the
// volume's claimRef, its phase, the claim's volumeName and annotations, its
// status — each step only when needed. Any failure is retried by the next
// sync, which finishes the binding.
func (c *Controller) bind(ctx context.Context, volume *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	logger := klog.FromContext(ctx)
	bound, dirty, err := storagehelpers.GetBindVolumeToClaim(volume, claim)
	if err != nil {
		return err
	}
	if dirty {
		logger.V(2).Info("Binding volume to claim", "volumeName", volume.Name)
		if volume, err = c.client.CoreV1().PersistentVolumes().Update(ctx, bound, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("saving the binding of volume %s to claim %s: %w", bound.Name, claimKey(claim), err)
		}
	}
	if volume, err = c.updateVolumePhase(ctx, volume, corev1.VolumeBound, ""); err != nil {
		return err
	}
	if claim, err = c.bindClaim(ctx, claim, volume); err != nil {
		return err
	}
	_, err = c.updateClaimStatus(ctx, claim, corev1.ClaimBound, volume)
	return err
}

// bindClaim sets the claim's volumeName (marking it bound by the
// controller when it sets it) and the bind-completed annotation.
func (c *Controller) bindClaim(ctx context.Context, claim *corev1.PersistentVolumeClaim, volume *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, error) {
	updated := claim.DeepCopy()
	dirty := false
	if claim.Spec.VolumeName != volume.Name {
		updated.Spec.VolumeName = volume.Name
		if !metav1.HasAnnotation(updated.ObjectMeta, storagehelpers.AnnBoundByController) {
			metav1.SetMetaDataAnnotation(&updated.ObjectMeta, storagehelpers.AnnBoundByController, "yes")
		}
		dirty = true
	}
	if !metav1.HasAnnotation(updated.ObjectMeta, storagehelpers.AnnBindCompleted) {
		metav1.SetMetaDataAnnotation(&updated.ObjectMeta, storagehelpers.AnnBindCompleted, "yes")
		dirty = true
	}
	if !dirty {
		return claim, nil
	}
	klog.FromContext(ctx).V(2).Info("Volume bound to claim", "volumeName", volume.Name)
	out, err := c.client.CoreV1().PersistentVolumeClaims(claim.Namespace).Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("saving the binding of claim %s to volume %s: %w", claimKey(claim), volume.Name, err)
	}
	return out, nil
}

// updateClaimStatus sets the claim's phase; a bound claim gets the
// volume's access modes, and its capacity when it becomes Bound; a claim
// without a volume has neither.
func (c *Controller) updateClaimStatus(ctx context.Context, claim *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase, volume *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, error) {
	status, err := claimStatus(claim, phase, volume)
	if err != nil || status == nil {
		return claim, err
	}
	updated := claim.DeepCopy()
	updated.Status = *status
	out, err := c.client.CoreV1().PersistentVolumeClaims(claim.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("setting claim %s %s: %w", claimKey(claim), phase, err)
	}
	if claim.Status.Phase != phase {
		klog.FromContext(ctx).V(2).Info("Claim entered phase", "phase", phase)
	}
	return out, nil
}

// claimStatus is the claim's status in phase with volume (nil for none),
// or nil when the status already is.
func claimStatus(claim *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase, volume *corev1.PersistentVolume) (*corev1.PersistentVolumeClaimStatus, error) {
	status := claim.Status.DeepCopy()
	dirty := status.Phase != phase
	status.Phase = phase
	if volume == nil {
		if status.AccessModes != nil || status.Capacity != nil {
			status.AccessModes, status.Capacity = nil, nil
			dirty = true
		}
	} else {
		if !equalModes(status.AccessModes, volume.Spec.AccessModes) {
			status.AccessModes = volume.Spec.AccessModes
			dirty = true
		}
		// Capacity is set when the claim becomes Bound only: a later
		// difference may be a resize in progress.
		if claim.Status.Phase != phase {
			capacity, ok := volume.Spec.Capacity[corev1.ResourceStorage]
			if !ok {
				return nil, fmt.Errorf("PersistentVolume %q is without a storage capacity", volume.Name)
			}
			if current, ok := status.Capacity[corev1.ResourceStorage]; !ok || current.Cmp(capacity) != 0 {
				status.Capacity = volume.Spec.Capacity
				dirty = true
			}
		}
	}
	if !dirty {
		return nil, nil
	}
	return status, nil
}

func equalModes(a, b []corev1.PersistentVolumeAccessMode) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// updateVolumePhase sets the volume's phase and message, unless the phase
// already is set.
func (c *Controller) updateVolumePhase(ctx context.Context, volume *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, message string) (*corev1.PersistentVolume, error) {
	if volume.Status.Phase == phase {
		return volume, nil
	}
	updated := volume.DeepCopy()
	updated.Status.Phase = phase
	updated.Status.Message = message
	out, err := c.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("setting volume %s %s: %w", volume.Name, phase, err)
	}
	klog.FromContext(ctx).V(2).Info("Volume entered phase", "phase", phase)
	return out, nil
}

// unbind rolls back a binding the volume's claim does not share and makes
// the volume Available.
func (c *Controller) unbind(ctx context.Context, volume *corev1.PersistentVolume) error {
	klog.FromContext(ctx).V(2).Info("Rolling back the binding of a volume whose claim is bound to another volume", "PVC", klog.KRef(volume.Spec.ClaimRef.Namespace, volume.Spec.ClaimRef.Name))
	out, err := c.client.CoreV1().PersistentVolumes().Update(ctx, unbound(volume), metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("unbinding volume %s: %w", volume.Name, err)
	}
	_, err = c.updateVolumePhase(ctx, out, corev1.VolumeAvailable, "")
	return err
}

// release marks a volume whose claim is gone Released (a Failed volume
// stays Failed while the reclaim is retried) and carries out its reclaim
// policy.
func (c *Controller) release(ctx context.Context, volume *corev1.PersistentVolume) error {
	logger := klog.FromContext(ctx)
	if volume.Status.Phase != corev1.VolumeReleased && volume.Status.Phase != corev1.VolumeFailed {
		logger.Info("Volume is released and reclaim policy will be executed", "reclaimPolicy", volume.Spec.PersistentVolumeReclaimPolicy)
		var err error
		if volume, err = c.updateVolumePhase(ctx, volume, corev1.VolumeReleased, ""); err != nil {
			return err
		}
	}
	var usedBy []string
	if volume.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		pods, err := c.pods.Pods(volume.Spec.ClaimRef.Namespace).List(labels.Everything())
		if err != nil {
			return err
		}
		usedBy = podsUsing(pods, volume.Spec.ClaimRef.Namespace, volume.Spec.ClaimRef.Name)
	}
	d := decideReclaim(volume, usedBy)
	switch d.step {
	case reclaimEvent:
		c.record(volume, d.event)
	case reclaimFail:
		if volume.Status.Phase == corev1.VolumeFailed {
			return nil
		}
		logger.Info("Reclaiming volume failed", "reclaimPolicy", volume.Spec.PersistentVolumeReclaimPolicy, "reason", d.event.Message)
		updated, err := c.updateVolumePhase(ctx, volume, corev1.VolumeFailed, d.event.Message)
		if err != nil {
			return err
		}
		c.record(updated, d.event)
	case reclaimDelete:
		return c.deleteVolume(ctx, volume)
	}
	return nil
}

// deleteVolume deletes a released volume's object, after checking with the
// API that it still is released.
func (c *Controller) deleteVolume(ctx context.Context, volume *corev1.PersistentVolume) error {
	current, err := c.client.CoreV1().PersistentVolumes().Get(ctx, volume.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting volume %s before deleting it: %w", volume.Name, err)
	}
	if current.DeletionTimestamp != nil || current.Spec.ClaimRef == nil {
		return nil
	}
	claim, err := c.claims.PersistentVolumeClaims(current.Spec.ClaimRef.Namespace).Get(current.Spec.ClaimRef.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if !isReleased(current, claim) {
		return nil
	}
	klog.FromContext(ctx).Info("Deleting released volume", "reclaimPolicy", current.Spec.PersistentVolumeReclaimPolicy)
	uid := current.UID
	err = c.client.CoreV1().PersistentVolumes().Delete(ctx, current.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting released volume %s: %w", current.Name, err)
	}
	return nil
}

// record records e, if any, on obj.
func (c *Controller) record(obj runtime.Object, e *event) {
	if e != nil {
		c.recorder.Event(obj, e.Type, e.Reason, e.Message)
	}
}

// ignoreConflict requeues key quietly when err is a write conflict — the
// cache was behind the API, the next sync sees the newer object — and
// returns other errors.
func ignoreConflict(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string], key string, err error) error {
	if apierrors.IsConflict(err) {
		klog.FromContext(ctx).V(4).Info("Object changed while syncing; retrying", "err", err)
		queue.AddRateLimited(key)
		return nil
	}
	return err
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
