/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package deployment is the Deployment controller: upstream
// kube-controller-manager's semantics on Strata's apps/v1 Deployment and
// ReplicaSet custom resources. It manages ReplicaSets only; the ReplicaSet
// controller creates their pods.
//
// A Deployment owns ReplicaSets by controller reference and adopts
// orphans its selector matches. The ReplicaSet whose template equals the
// Deployment's (ignoring the pod-template-hash label) is the new one; if
// there is none, it is created, named <deployment>-<hash>. A rolling update
// grows the new ReplicaSet within maxSurge and shrinks old ones within
// maxUnavailable; Recreate shrinks old ones to zero and waits for their
// pods to be gone. A resize during a rollout, or of a paused Deployment, is
// spread proportionally over the ReplicaSets. Old ReplicaSets beyond
// revisionHistoryLimit are deleted once empty.
package deployment

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// controllerKind is the kind of the controller references the Deployment
// controller sets.
var controllerKind = stratav1.GroupVersion.WithKind("Deployment")

// Reconciler reconciles Deployments.
type Reconciler struct {
	client.Client

	// Recorder records events about Deployments; nil records none.
	Recorder events.EventRecorder

	// APIReader, if set, reads a Deployment afresh before it adopts
	// ReplicaSets, so that a Deployment deleted and recreated under the same
	// name cannot adopt with a stale cache. Nil uses Client.
	APIReader client.Reader

	// Clock gives the time of conditions and progress deadlines; nil is the
	// real clock.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller: Deployments, the ReplicaSets
// they control or whose labels they select (orphans to adopt), and the
// deletion of pods of Recreate Deployments (which wait for old pods to be
// gone).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&stratav1.Deployment{}).
		Owns(&stratav1.ReplicaSet{}).
		Watches(&stratav1.ReplicaSet{}, handler.EnqueueRequestsFromMapFunc(r.deploymentsForOrphan)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.deploymentForPod), builder.WithPredicates(podGone)).
		Named("deployment").
		WithOptions(controller.Options{MaxConcurrentReconciles: 5}).
		Complete(r)
}

func (r *Reconciler) clock() clock.PassiveClock {
	if r.Clock == nil {
		return clock.RealClock{}
	}
	return r.Clock
}

// Reconcile brings one Deployment's ReplicaSets and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	d := &stratav1.Deployment{}
	if err := r.Get(ctx, req.NamespacedName, d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// The controller's logger already carries the Deployment (as
	// "Deployment", namespace and name).

	s := &syncState{r: r, d: d, stored: *d.Status.DeepCopy(), now: r.clock().Now()}
	result, err := s.run(ctx)
	if err != nil && !s.statusWritten && !apiequality.Semantic.DeepEqual(s.stored, d.Status) {
		// Conditions or the collision count set on the way to a failure
		// are still written.
		if serr := r.Status().Update(ctx, d); serr != nil {
			err = utilerrors.NewAggregate([]error{err, fmt.Errorf("updating status: %w", serr)})
		}
	}
	s.recordEvents()
	if onlyConflicts(err) {
		// The cache was behind the Deployment or one of its ReplicaSets; the
		// newer version's watch event requeues the Deployment at once, where
		// an error would back off exponentially.
		klog.FromContext(ctx).V(1).Info("Write conflict; waiting for the newer version", "err", err.Error())
		return result, nil
	}
	return result, err
}

// onlyConflicts reports whether err is a conflict, or an aggregate of
// conflicts only.
func onlyConflicts(err error) bool {
	if err == nil {
		return false
	}
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		for _, e := range agg.Errors() {
			if !onlyConflicts(e) {
				return false
			}
		}
		return len(agg.Errors()) > 0
	}
	return apierrors.IsConflict(err)
}

// run chooses what to do with the Deployment, as upstream's syncDeployment.
func (s *syncState) run(ctx context.Context) (ctrl.Result, error) {
	d := s.d
	if d.Spec.Selector == nil || apiequality.Semantic.DeepEqual(*d.Spec.Selector, metav1.LabelSelector{}) {
		s.event(nil, corev1.EventTypeWarning, "SelectingAll", "Sync", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			status := *d.Status.DeepCopy()
			status.ObservedGeneration = d.Generation
			return ctrl.Result{}, s.writeStatus(ctx, status)
		}
		return ctrl.Result{}, nil
	}

	rsList, err := s.r.claimReplicaSets(ctx, d)
	if err != nil {
		return ctrl.Result{}, err
	}

	var status stratav1.DeploymentStatus
	rollout := false
	switch {
	case d.DeletionTimestamp != nil:
		status, err = s.syncStatusOnly(ctx, rsList)
	default:
		setPausedCondition(d, s.now)
		newRS := findNewReplicaSet(d, rsList)
		switch {
		case d.Spec.Paused, isScalingEvent(d, append(findOldReplicaSets(d, rsList), newRS)):
			status, err = s.sync(ctx, rsList)
		case d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType:
			rollout = true
			status, err = s.rolloutRecreate(ctx, rsList)
		case isRollingUpdate(d):
			rollout = true
			status, err = s.rolloutRolling(ctx, rsList)
		default:
			err = fmt.Errorf("unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
		}
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := s.writeStatus(ctx, status); err != nil {
		return ctrl.Result{}, err
	}
	if rollout {
		if after, ok := progressCheckAfter(d, &status, s.now); ok {
			log.FromContext(ctx).V(1).Info("Queueing up deployment for a progress check", "after", after)
			return ctrl.Result{RequeueAfter: after}, nil
		}
	}
	return ctrl.Result{}, nil
}

// recordEvents emits the events collected during the reconcile.
func (s *syncState) recordEvents() {
	if s.r.Recorder == nil {
		return
	}
	for _, e := range s.events {
		s.r.Recorder.Eventf(s.d, e.related, e.eventType, e.reason, e.action, "%s", e.note)
	}
}

// claimReplicaSets lists the ReplicaSets of the Deployment's namespace and
// returns those it controls, adopting orphans its selector matches and
// releasing owned ones it no longer matches, as upstream's
// ReplicaSetControllerRefManager. ReplicaSets controlled by others are
// ignored.
func (r *Reconciler) claimReplicaSets(ctx context.Context, d *stratav1.Deployment) ([]*stratav1.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %w", d.Namespace, d.Name, err)
	}
	list := &stratav1.ReplicaSetList{}
	if err := r.List(ctx, list, client.InNamespace(d.Namespace)); err != nil {
		return nil, fmt.Errorf("listing ReplicaSets: %w", err)
	}

	canAdopt := sync.OnceValue(func() error { return r.canAdopt(ctx, d) })
	var claimed []*stratav1.ReplicaSet
	var errs []error
	for i := range list.Items {
		rs := &list.Items[i]
		matches := selector.Matches(labels.Set(rs.Labels))
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
			if ref.UID != d.UID {
				continue
			}
			if matches {
				claimed = append(claimed, rs)
				continue
			}
			if d.DeletionTimestamp != nil {
				continue
			}
			if err := r.release(ctx, d, rs); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			continue
		}
		if d.DeletionTimestamp != nil || !matches || rs.DeletionTimestamp != nil {
			continue
		}
		if err := canAdopt(); err != nil {
			errs = append(errs, fmt.Errorf("can't adopt ReplicaSet %s: %w", rs.Name, err))
			continue
		}
		if err := r.adopt(ctx, d, rs); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			continue
		}
		claimed = append(claimed, rs)
	}
	return claimed, utilerrors.NewAggregate(errs)
}

// canAdopt re-reads the Deployment and refuses adoption if it is gone,
// replaced, or being deleted.
func (r *Reconciler) canAdopt(ctx context.Context, d *stratav1.Deployment) error {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	fresh := &stratav1.Deployment{}
	if err := reader.Get(ctx, client.ObjectKeyFromObject(d), fresh); err != nil {
		return err
	}
	if fresh.UID != d.UID {
		return fmt.Errorf("original Deployment %s/%s is gone: got uid %s, wanted %s", d.Namespace, d.Name, fresh.UID, d.UID)
	}
	if fresh.DeletionTimestamp != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", d.Namespace, d.Name, fresh.DeletionTimestamp)
	}
	return nil
}

// adopt adds the Deployment's controller reference to an orphan. The patch
// carries the resourceVersion read, so a concurrent change conflicts.
func (r *Reconciler) adopt(ctx context.Context, d *stratav1.Deployment, rs *stratav1.ReplicaSet) error {
	log.FromContext(ctx).V(1).Info("Adopting ReplicaSet", "replicaSet", klog.KObj(rs))
	rsCopy := rs.DeepCopy()
	rsCopy.OwnerReferences = append(rsCopy.OwnerReferences, *metav1.NewControllerRef(d, controllerKind))
	if err := r.Patch(ctx, rsCopy, client.MergeFromWithOptions(rs, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("adopting ReplicaSet %s: %w", rs.Name, err)
	}
	*rs = *rsCopy
	return nil
}

// release removes the Deployment's references from a ReplicaSet its
// selector no longer matches.
func (r *Reconciler) release(ctx context.Context, d *stratav1.Deployment, rs *stratav1.ReplicaSet) error {
	log.FromContext(ctx).V(1).Info("Releasing ReplicaSet", "replicaSet", klog.KObj(rs))
	rsCopy := rs.DeepCopy()
	rsCopy.OwnerReferences = nil
	for _, ref := range rs.OwnerReferences {
		if ref.UID != d.UID {
			rsCopy.OwnerReferences = append(rsCopy.OwnerReferences, ref)
		}
	}
	if err := r.Patch(ctx, rsCopy, client.MergeFromWithOptions(rs, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("releasing ReplicaSet %s: %w", rs.Name, err)
	}
	return nil
}

// deploymentsForOrphan maps a ReplicaSet without a controller to the
// Deployments whose selectors match its labels, which may adopt it.
func (r *Reconciler) deploymentsForOrphan(ctx context.Context, obj client.Object) []reconcile.Request {
	if metav1.GetControllerOfNoCopy(obj) != nil || len(obj.GetLabels()) == 0 {
		return nil
	}
	list := &stratav1.DeploymentList{}
	if err := r.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		log.FromContext(ctx).Error(err, "Listing Deployments for an orphan ReplicaSet", "replicaSet", klog.KObj(obj))
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		d := &list.Items[i]
		selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || selector.Empty() || !selector.Matches(labels.Set(obj.GetLabels())) {
			continue
		}
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(d)})
	}
	return reqs
}

// deploymentForPod maps a pod to the Recreate Deployment controlling its
// ReplicaSet: such a Deployment waits for its old pods to be gone.
func (r *Reconciler) deploymentForPod(ctx context.Context, obj client.Object) []reconcile.Request {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return nil
	}
	rs := &stratav1.ReplicaSet{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: obj.GetNamespace(), Name: ref.Name}, rs); err != nil || rs.UID != ref.UID {
		return nil
	}
	dref := metav1.GetControllerOfNoCopy(rs)
	if dref == nil || dref.Kind != controllerKind.Kind {
		return nil
	}
	d := &stratav1.Deployment{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: rs.Namespace, Name: dref.Name}, d); err != nil || d.UID != dref.UID {
		return nil
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(d)}}
}

// podGone passes pod deletions and pods reaching a terminal phase: the
// events after which a Recreate rollout may find its old pods gone.
var podGone = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	UpdateFunc: func(e event.UpdateEvent) bool {
		oldPod, ok1 := e.ObjectOld.(*corev1.Pod)
		newPod, ok2 := e.ObjectNew.(*corev1.Pod)
		return ok1 && ok2 && !podTerminal(oldPod) && podTerminal(newPod)
	},
}

func podTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}
