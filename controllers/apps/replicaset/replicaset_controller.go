/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package replicaset is the ReplicaSet controller: it keeps spec.replicas
// pods matching a ReplicaSet's selector, with the semantics of upstream's
// kube-controller-manager (adoption and release by controller reference,
// slow-start creation, ranked scale-down, expectations against a stale
// cache, and the same status, conditions and events).
package replicaset

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// concurrentSyncs is upstream's --concurrent-replicaset-syncs default.
const concurrentSyncs = 5

// Reconciler reconciles ReplicaSets with their pods.
type Reconciler struct {
	// Client reads from the manager's cache and writes to the API server.
	client.Client
	// Recorder records the events about ReplicaSets.
	Recorder events.EventRecorder
	// APIReader reads from the API server, bypassing the cache, to check a
	// ReplicaSet before adopting pods. SetupWithManager sets it to the
	// manager's; when nil, Client is used.
	APIReader client.Reader
	// Clock defaults to the real clock.
	Clock clock.PassiveClock

	initOnce     sync.Once
	expectations *expectations
}

// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=apps,resources=replicasets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=replicasets/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;delete;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch;update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch;update

// SetupWithManager registers the pod index and the controller with mgr.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.init()
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, podControllerUIDIndex, podControllerUIDIndexValue); err != nil {
		return fmt.Errorf("indexing pods by controller: %w", err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&stratav1.ReplicaSet{}).
		Watches(&corev1.Pod{}, &podEventHandler{reader: r.Client, expectations: r.expectations}).
		Named("replicaset").
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrentSyncs}).
		Complete(r)
}

func (r *Reconciler) init() {
	r.initOnce.Do(func() {
		if r.Clock == nil {
			r.Clock = clock.RealClock{}
		}
		r.expectations = newExpectations(r.Clock)
	})
}

func (r *Reconciler) clock() clock.PassiveClock {
	r.init()
	return r.Clock
}

func (r *Reconciler) apiReader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}

// Reconcile makes the pods of one ReplicaSet match its spec and writes its
// status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.init()
	key := req.String()
	rs := &stratav1.ReplicaSet{}
	if err := r.Get(ctx, req.NamespacedName, rs); err != nil {
		if apierrors.IsNotFound(err) {
			r.expectations.forget(key)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	logger := log.FromContext(ctx).WithValues("replicaSet", klog.KObj(rs))
	ctx = log.IntoContext(ctx, logger)

	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation rejects such a ReplicaSet; retrying cannot help.
		logger.Error(err, "Ignoring ReplicaSet with an invalid selector")
		return ctrl.Result{}, nil
	}
	// Read the expectations before listing: pods observed in between are
	// then in the list.
	needsSync := r.expectations.satisfied(key, rs.UID)

	active, terminating, err := r.claimedPods(ctx, rs, selector)
	if err != nil {
		return ctrl.Result{}, err
	}

	var ev eventBuffer
	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = r.manageReplicas(ctx, rs, active, &ev)
	} else if !needsSync {
		logger.V(4).Info("Waiting for the pods created or deleted earlier to be observed")
	}

	now := r.clock().Now()
	status := computeStatus(rs, active, terminating, manageErr, now)
	statusErr := r.writeStatus(ctx, rs, status)
	ev.emit(r.Recorder, rs)
	if manageErr != nil {
		return ctrl.Result{}, manageErr
	}
	if apierrors.IsConflict(statusErr) {
		// The cache is behind the ReplicaSet; the newer version's event
		// brings it back here.
		logger.V(2).Info("ReplicaSet changed since it was read, waiting for the newer version")
		return ctrl.Result{}, nil
	}
	if statusErr != nil {
		return ctrl.Result{}, statusErr
	}
	return ctrl.Result{RequeueAfter: nextAvailabilityCheck(rs, active, now)}, nil
}

// claimedPods returns the active and the terminating pods of rs, after
// adopting and releasing pods.
func (r *Reconciler) claimedPods(ctx context.Context, rs *stratav1.ReplicaSet, selector labels.Selector) (active, terminating []*corev1.Pod, err error) {
	pods, err := r.listPods(ctx, rs)
	if err != nil {
		return nil, nil, err
	}
	active, terminating = splitPods(pods)
	active, err = r.claimPods(ctx, rs, selector, active)
	if err != nil {
		return nil, nil, err
	}
	return active, controlledAndSelected(rs, selector, terminating), nil
}

// listPods returns the pods in rs's namespace that rs controls or that have
// no controller, from the cache's controller index.
func (r *Reconciler) listPods(ctx context.Context, rs *stratav1.ReplicaSet) ([]*corev1.Pod, error) {
	owned, err := r.listPodsByController(ctx, rs.Namespace, string(rs.UID))
	if err != nil {
		return nil, err
	}
	orphans, err := r.listPodsByController(ctx, rs.Namespace, orphanIndexValue)
	if err != nil {
		return nil, err
	}
	return append(owned, orphans...), nil
}

func (r *Reconciler) listPodsByController(ctx context.Context, namespace, value string) ([]*corev1.Pod, error) {
	var list corev1.PodList
	if err := r.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{podControllerUIDIndex: value}); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
}

// writeStatus updates rs's status to status if it changed.
func (r *Reconciler) writeStatus(ctx context.Context, rs *stratav1.ReplicaSet, status stratav1.ReplicaSetStatus) error {
	if equality.Semantic.DeepEqual(rs.Status, status) {
		return nil
	}
	log.FromContext(ctx).V(4).Info("Updating status",
		"replicas", status.Replicas, "readyReplicas", status.ReadyReplicas,
		"availableReplicas", status.AvailableReplicas, "observedGeneration", status.ObservedGeneration)
	updated := rs.DeepCopy()
	updated.Status = status
	if err := r.Status().Update(ctx, updated); err != nil {
		return fmt.Errorf("updating status: %w", err)
	}
	return nil
}
