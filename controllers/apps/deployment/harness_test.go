/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/apis/scheme"
)

// harness runs the Reconciler against controller-runtime's fake client.
// The fake client plays a simple API server (it assigns UIDs and creation
// times); the tests play the ReplicaSet controller by setting ReplicaSet
// status and pods.
type harness struct {
	t      *testing.T
	ctx    context.Context
	c      client.WithWatch
	r      *Reconciler
	clock  *clocktesting.FakeClock
	events *events.FakeRecorder
	uids   int
}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), clock: clocktesting.NewFakeClock(t0), events: events.NewFakeRecorder(1000)}
	base := fake.NewClientBuilder().
		WithScheme(scheme.New()).
		WithStatusSubresource(&stratav1.Deployment{}, &stratav1.ReplicaSet{}).
		WithObjects(objs...).
		Build()
	h.c = interceptor.NewClient(base, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if obj.GetUID() == "" {
				h.uids++
				obj.SetUID(types.UID(fmt.Sprintf("uid-%d", h.uids)))
			}
			if ts := obj.GetCreationTimestamp(); ts.IsZero() {
				obj.SetCreationTimestamp(metav1.NewTime(h.clock.Now()))
			}
			if obj.GetGeneration() == 0 {
				obj.SetGeneration(1)
			}
			return c.Create(ctx, obj, opts...)
		},
	})
	h.r = &Reconciler{Client: h.c, Recorder: h.events, Clock: h.clock}
	return h
}

// reconcile runs one reconcile of the Deployment and fails on error.
func (h *harness) reconcile(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.reconcileErr(name)
	if err != nil {
		h.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (h *harness) reconcileErr(name string) (ctrl.Result, error) {
	return h.r.Reconcile(h.ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: name}})
}

func (h *harness) deployment(name string) *stratav1.Deployment {
	h.t.Helper()
	d := &stratav1.Deployment{}
	if err := h.c.Get(h.ctx, types.NamespacedName{Namespace: "default", Name: name}, d); err != nil {
		h.t.Fatal(err)
	}
	return d
}

// updateDeployment changes a Deployment's spec as a user would; the
// generation goes up as the API server's would.
func (h *harness) updateDeployment(name string, change func(*stratav1.Deployment)) {
	h.t.Helper()
	d := h.deployment(name)
	change(d)
	d.Generation++
	if err := h.c.Update(h.ctx, d); err != nil {
		h.t.Fatal(err)
	}
}

// replicaSets returns the namespace's ReplicaSets, oldest first.
func (h *harness) replicaSets() []*stratav1.ReplicaSet {
	h.t.Helper()
	list := &stratav1.ReplicaSetList{}
	if err := h.c.List(h.ctx, list, client.InNamespace("default")); err != nil {
		h.t.Fatal(err)
	}
	var out []*stratav1.ReplicaSet
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	sortByCreation(out)
	return out
}

func (h *harness) replicaSet(name string) *stratav1.ReplicaSet {
	h.t.Helper()
	rs := &stratav1.ReplicaSet{}
	if err := h.c.Get(h.ctx, types.NamespacedName{Namespace: "default", Name: name}, rs); err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// newReplicaSetOf returns the ReplicaSet of the Deployment's current
// template, or nil.
func (h *harness) newReplicaSetOf(name string) *stratav1.ReplicaSet {
	h.t.Helper()
	d := h.deployment(name)
	for _, rs := range h.replicaSets() {
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// runReplicaSetController plays the ReplicaSet controller for every
// ReplicaSet: status.replicas follows spec.replicas, removed pods go at
// once, and available(rs, before) says how many pods are available, given
// the pods the ReplicaSet had before this round.
func (h *harness) runReplicaSetController(available func(rs *stratav1.ReplicaSet, before int32) int32) {
	h.t.Helper()
	for _, rs := range h.replicaSets() {
		before := rs.Status.Replicas
		size := specReplicas(rs)
		rs.Status.Replicas = size
		rs.Status.AvailableReplicas = min(available(rs, before), size)
		rs.Status.ReadyReplicas = rs.Status.AvailableReplicas
		rs.Status.FullyLabeledReplicas = size
		rs.Status.ObservedGeneration = rs.Generation
		rs.Status.TerminatingReplicas = ptr.To[int32](0)
		if err := h.c.Status().Update(h.ctx, rs); err != nil {
			h.t.Fatal(err)
		}
	}
}

// allReady makes every pod available at once.
func allReady(rs *stratav1.ReplicaSet, _ int32) int32 { return specReplicas(rs) }

// readyNextRound makes pods available one round after they were created.
func readyNextRound(rs *stratav1.ReplicaSet, before int32) int32 {
	return max(rs.Status.AvailableReplicas, before)
}

// setRSStatus sets a ReplicaSet's observed and available replicas.
func (h *harness) setRSStatus(name string, replicas, available int32) {
	h.t.Helper()
	rs := h.replicaSet(name)
	rs.Status.Replicas = replicas
	rs.Status.ReadyReplicas = available
	rs.Status.AvailableReplicas = available
	rs.Status.ObservedGeneration = rs.Generation
	if err := h.c.Status().Update(h.ctx, rs); err != nil {
		h.t.Fatal(err)
	}
}

// drainEvents returns the events recorded since the last call.
func (h *harness) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-h.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// ownedPod is a running pod controlled by a ReplicaSet.
func ownedPod(name string, rs *stratav1.ReplicaSet) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       rs.Namespace,
			Labels:          rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, stratav1.GroupVersion.WithKind("ReplicaSet"))},
		},
		Spec:   rs.Spec.Template.Spec,
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

// condition returns the Deployment's condition of a type, or nil.
func condition(d *stratav1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return getCondition(d.Status.DeploymentStatus, t)
}

// describe summarizes ReplicaSets for failure messages.
func describe(rss []*stratav1.ReplicaSet) string {
	var parts []string
	for _, rs := range rss {
		parts = append(parts, fmt.Sprintf("%s=%d/%d", rs.Name, rs.Status.AvailableReplicas, specReplicas(rs)))
	}
	return strings.Join(parts, " ")
}

// minute is a readable duration for the fake clock.
const minute = time.Minute
