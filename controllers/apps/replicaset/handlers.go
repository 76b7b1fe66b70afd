/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

const (
	// podControllerUIDIndex indexes pods by the UID of their controller
	// (any kind), orphans under orphanIndexValue.
	podControllerUIDIndex = "replicaset.podControllerUID"
	orphanIndexValue      = "<orphan>"
)

// podControllerUIDIndexValue is the index function of podControllerUIDIndex.
func podControllerUIDIndexValue(obj client.Object) []string {
	if ref := metav1.GetControllerOf(obj); ref != nil {
		return []string{string(ref.UID)}
	}
	return []string{orphanIndexValue}
}

// podEventHandler maps pod events to the ReplicaSets that care and lowers
// their expectations: a pod's controlling ReplicaSet, or, for an orphan, the
// ReplicaSets whose selector matches it and may adopt it.
type podEventHandler struct {
	// reader lists ReplicaSets (the manager's cache).
	reader       client.Reader
	expectations *expectations
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

var _ handler.EventHandler = &podEventHandler{}

// Create observes a new pod. A pod that is already being deleted (seen
// after a restart) counts as a deletion.
func (h *podEventHandler) Create(ctx context.Context, e event.CreateEvent, q queue) {
	pod, ok := e.Object.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		h.deleted(pod, q)
		return
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		if req, ok := replicaSetRequest(pod.Namespace, ref); ok {
			h.expectations.creationObserved(req.String(), ref.UID, 1)
			q.Add(req)
		}
		return
	}
	h.enqueueSelecting(ctx, pod, q)
}

// Update wakes the ReplicaSets of a changed pod: its controller, its former
// controller, and for an orphan whose labels or owner changed, the
// ReplicaSets that may adopt it. A pod that got a deletionTimestamp counts
// as deleted at once, so that a replacement is created without waiting for
// the grace period.
func (h *podEventHandler) Update(ctx context.Context, e event.UpdateEvent, q queue) {
	oldPod, ok1 := e.ObjectOld.(*corev1.Pod)
	cur, ok2 := e.ObjectNew.(*corev1.Pod)
	if !ok1 || !ok2 || cur.ResourceVersion == oldPod.ResourceVersion {
		return
	}
	labelsChanged := !equality.Semantic.DeepEqual(cur.Labels, oldPod.Labels)
	if cur.DeletionTimestamp != nil {
		h.deleted(cur, q)
		if labelsChanged {
			h.deleted(oldPod, q)
		}
		return
	}
	curRef, oldRef := metav1.GetControllerOf(cur), metav1.GetControllerOf(oldPod)
	refChanged := !equality.Semantic.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if req, ok := replicaSetRequest(oldPod.Namespace, oldRef); ok {
			q.Add(req)
		}
	}
	if curRef != nil {
		if req, ok := replicaSetRequest(cur.Namespace, curRef); ok {
			q.Add(req)
		}
		return
	}
	if labelsChanged || refChanged {
		h.enqueueSelecting(ctx, cur, q)
	}
}

// Delete observes a pod's deletion for its controlling ReplicaSet. Nobody
// waits for orphans to go.
func (h *podEventHandler) Delete(_ context.Context, e event.DeleteEvent, q queue) {
	if pod, ok := e.Object.(*corev1.Pod); ok {
		h.deleted(pod, q)
	}
}

// Generic is not used: pods come from the cache's informer only.
func (h *podEventHandler) Generic(context.Context, event.GenericEvent, queue) {}

func (h *podEventHandler) deleted(pod *corev1.Pod, q queue) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return
	}
	if req, ok := replicaSetRequest(pod.Namespace, ref); ok {
		h.expectations.deletionObserved(req.String(), ref.UID, podKey(pod))
		q.Add(req)
	}
}

// enqueueSelecting adds the ReplicaSets in pod's namespace whose selector
// matches pod's labels.
func (h *podEventHandler) enqueueSelecting(ctx context.Context, pod *corev1.Pod, q queue) {
	var list stratav1.ReplicaSetList
	if err := h.reader.List(ctx, &list, client.InNamespace(pod.Namespace)); err != nil {
		log.FromContext(ctx).Error(err, "Listing ReplicaSets for an orphan pod", "pod", klog.KObj(pod))
		return
	}
	matched := 0
	for i := range list.Items {
		rs := &list.Items[i]
		selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || selector.Empty() || !selector.Matches(labels.Set(pod.Labels)) {
			continue
		}
		matched++
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: rs.Namespace, Name: rs.Name}})
	}
	if matched > 1 {
		// Controller references keep this safe, but it is a user error.
		log.FromContext(ctx).Info("More than one ReplicaSet selects pod", "pod", klog.KObj(pod), "labels", pod.Labels)
	}
}

// replicaSetRequest is the request of the ReplicaSet ref points to, if ref
// is a ReplicaSet of group apps.
func replicaSetRequest(namespace string, ref *metav1.OwnerReference) (reconcile.Request, bool) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil || gv.Group != stratav1.GroupVersion.Group || ref.Kind != "ReplicaSet" {
		return reconcile.Request{}, false
	}
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: ref.Name}}, true
}
