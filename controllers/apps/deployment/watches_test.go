/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

func requestNames(reqs []reconcile.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Name)
	}
	return out
}

func TestDeploymentsForOrphan(t *testing.T) {
	web := makeDeployment("web").Obj()
	api := makeDeployment("api").Obj()
	h := newHarness(t, web, api)

	orphan := makeRS("orphan", 1).Obj() // labelled app=web
	if diff := cmp.Diff([]string{"web"}, requestNames(h.r.deploymentsForOrphan(h.ctx, orphan))); diff != "" {
		t.Errorf("orphan (-want +got):\n%s", diff)
	}
	owned := makeRS("owned", 1).Obj()
	owned.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(api, controllerKind)}
	if got := h.r.deploymentsForOrphan(h.ctx, owned); len(got) != 0 {
		t.Errorf("owned ReplicaSet mapped to %v", requestNames(got))
	}
}

func TestDeploymentForPod(t *testing.T) {
	recreate := makeDeployment("recreate").Recreate().Obj()
	rolling := makeDeployment("rolling").Obj()
	rsOf := func(name string, d *stratav1.Deployment) *stratav1.ReplicaSet {
		rs := makeRS(name, 1).Obj()
		rs.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)}
		return rs
	}
	recreateRS, rollingRS := rsOf("recreate-1", recreate), rsOf("rolling-1", rolling)
	h := newHarness(t, recreate, rolling, recreateRS, rollingRS)

	if diff := cmp.Diff([]string{"recreate"}, requestNames(h.r.deploymentForPod(h.ctx, ownedPod("p", recreateRS)))); diff != "" {
		t.Errorf("pod of a Recreate Deployment (-want +got):\n%s", diff)
	}
	if got := h.r.deploymentForPod(h.ctx, ownedPod("p", rollingRS)); len(got) != 0 {
		t.Errorf("pod of a RollingUpdate Deployment mapped to %v", requestNames(got))
	}
	if got := h.r.deploymentForPod(h.ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default"}}); len(got) != 0 {
		t.Errorf("bare pod mapped to %v", requestNames(got))
	}
}

func TestPodGonePredicate(t *testing.T) {
	running := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	done := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	if podGone.Create(event.CreateEvent{Object: running}) {
		t.Error("create passes")
	}
	if !podGone.Delete(event.DeleteEvent{Object: running}) {
		t.Error("delete does not pass")
	}
	if !podGone.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: done}) {
		t.Error("a pod finishing does not pass")
	}
	if podGone.Update(event.UpdateEvent{ObjectOld: running, ObjectNew: running.DeepCopy()}) {
		t.Error("a running pod's update passes")
	}
}

func TestFailedCreate(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(2).Obj())
	h.r.Client = interceptor.NewClient(h.c, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, ok := obj.(*stratav1.ReplicaSet); ok {
				return apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "replicasets"}, obj.GetName(), fmt.Errorf("exceeded quota"))
			}
			return c.Create(ctx, obj, opts...)
		},
	})
	if _, err := h.reconcileErr("web"); err == nil {
		t.Fatal("no error")
	}
	name := "web-" + computeHash(&h.deployment("web").Spec.Template, nil)
	msg := fmt.Sprintf(`Failed to create new replica set %q: replicasets.apps %q is forbidden: exceeded quota`, name, name)
	c := condition(h.deployment("web"), appsv1.DeploymentProgressing)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != FailedRSCreateReason || c.Message != msg {
		t.Errorf("Progressing: %+v", c)
	}
	if diff := cmp.Diff([]string{"Warning ReplicaSetCreateError " + msg}, h.drainEvents()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
