/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// rollOut reconciles and plays the ReplicaSet controller until the
// Deployment's rollout is complete, checking after every reconcile that
// the pods asked for stay within replicas + maxSurge and that the
// controller's scale-downs never take the available pods below
// replicas - maxUnavailable (or below what was available, if that was
// less, as after a scale-up). It returns the rounds taken.
func (h *harness) rollOut(name string, available func(*stratav1.ReplicaSet, int32) int32) int {
	h.t.Helper()
	effective := func(rss []*stratav1.ReplicaSet) (total, avail int32) {
		for _, rs := range rss {
			total += specReplicas(rs)
			avail += min(rs.Status.AvailableReplicas, specReplicas(rs))
		}
		return total, avail
	}
	for round := 1; round <= 50; round++ {
		_, availBefore := effective(h.replicaSets())
		h.reconcile(name)
		d := h.deployment(name)
		desired := desiredReplicas(d)
		rss := h.replicaSets()
		total, avail := effective(rss)
		if limit := desired + maxSurge(d); total > limit {
			h.t.Fatalf("round %d: %d pods asked for, above %d: %s", round, total, limit, describe(rss))
		}
		if floor := min(desired-maxUnavailable(d), availBefore); avail < floor {
			h.t.Fatalf("round %d: %d pods available, below %d: %s", round, avail, floor, describe(rss))
		}
		s := d.Status
		if s.ObservedGeneration == d.Generation && s.UpdatedReplicas == desired && s.Replicas == desired && s.AvailableReplicas == desired {
			if c := condition(d, appsv1.DeploymentProgressing); c == nil || c.Reason == NewRSAvailableReason || !hasProgressDeadline(d) {
				return round
			}
		}
		h.runReplicaSetController(available)
	}
	h.t.Fatalf("rollout did not complete: %s", describe(h.replicaSets()))
	return 0
}

func TestRollingUpdate(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(5).Obj())

	// Creation: the first ReplicaSet takes all replicas at once.
	h.rollOut("web", allReady)
	first := h.newReplicaSetOf("web")
	if first == nil || specReplicas(first) != 5 {
		t.Fatalf("first ReplicaSet: %+v", first)
	}
	hash := computeHash(&h.deployment("web").Spec.Template, nil)
	if first.Name != "web-"+hash {
		t.Errorf("first ReplicaSet %q, want web-%s", first.Name, hash)
	}
	if diff := cmp.Diff([]string{fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 0 to 5", first.Name)}, h.drainEvents()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// An update rolls out within 25% surge (2) and unavailability (1).
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	rounds := h.rollOut("web", readyNextRound)
	second := h.newReplicaSetOf("web")
	if second == nil || second.Name == first.Name {
		t.Fatalf("no second ReplicaSet")
	}
	t.Logf("rolled out in %d rounds", rounds)

	d := h.deployment("web")
	if got := h.replicaSet(first.Name); specReplicas(got) != 0 {
		t.Errorf("old ReplicaSet still has %d replicas", specReplicas(got))
	}
	if d.Annotations[RevisionAnnotation] != "2" || second.Annotations[RevisionAnnotation] != "2" || h.replicaSet(first.Name).Annotations[RevisionAnnotation] != "1" {
		t.Errorf("revisions: deployment %q, new %q, old %q", d.Annotations[RevisionAnnotation], second.Annotations[RevisionAnnotation], h.replicaSet(first.Name).Annotations[RevisionAnnotation])
	}
	for k, want := range map[string]string{DesiredReplicasAnnotation: "5", MaxReplicasAnnotation: "7"} {
		if got := second.Annotations[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if c := condition(d, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != MinimumReplicasAvailable {
		t.Errorf("Available: %+v", c)
	}
	wantProgressing := fmt.Sprintf("ReplicaSet %q has successfully progressed.", second.Name)
	if c := condition(d, appsv1.DeploymentProgressing); c == nil || c.Status != corev1.ConditionTrue || c.Message != wantProgressing {
		t.Errorf("Progressing: %+v", c)
	}
	if d.Status.Selector != "app=web" {
		t.Errorf("status.selector %q", d.Status.Selector)
	}

	// The events tell the rollout: the first scale-up is the surge.
	events := h.drainEvents()
	if len(events) == 0 || events[0] != fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 0 to 2", second.Name) {
		t.Errorf("first event of the rollout: %q", events)
	}
	if last := events[len(events)-1]; !strings.Contains(last, "Scaled down replica set "+first.Name) || !strings.HasSuffix(last, "to 0") {
		t.Errorf("last event of the rollout: %q", last)
	}

	// A settled Deployment reconciles to no change.
	before := h.deployment("web").ResourceVersion
	h.reconcile("web")
	if after := h.deployment("web").ResourceVersion; after != before {
		t.Error("a settled Deployment was written")
	}
}

func TestRollingUpdateStrategies(t *testing.T) {
	tests := []struct {
		replicas           int32
		surge, unavailable intstr.IntOrString
	}{
		{5, intstr.FromString("25%"), intstr.FromString("25%")},
		{4, intstr.FromInt32(0), intstr.FromInt32(1)},
		{4, intstr.FromInt32(1), intstr.FromInt32(0)},
		{10, intstr.FromString("30%"), intstr.FromString("0%")},
		{3, intstr.FromString("10%"), intstr.FromString("10%")}, // both round to zero: unavailable 1
		{1, intstr.FromInt32(1), intstr.FromInt32(0)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d replicas surge %s unavailable %s", tt.replicas, tt.surge.String(), tt.unavailable.String()), func(t *testing.T) {
			h := newHarness(t, makeDeployment("web").Replicas(tt.replicas).Rolling(tt.surge, tt.unavailable).Obj())
			h.rollOut("web", allReady)
			h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
			h.rollOut("web", readyNextRound)
		})
	}
}

func TestRecreate(t *testing.T) {
	d := makeDeployment("web").Replicas(3).Recreate().Obj()
	h := newHarness(t, d)
	h.rollOut("web", allReady)
	old := h.newReplicaSetOf("web")
	for i := range 3 {
		if err := h.c.Create(h.ctx, ownedPod(fmt.Sprintf("web-old-%d", i), old)); err != nil {
			t.Fatal(err)
		}
	}
	h.drainEvents()

	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })

	// Old pods first go to zero; nothing new yet.
	h.reconcile("web")
	if got := specReplicas(h.replicaSet(old.Name)); got != 0 {
		t.Fatalf("old ReplicaSet at %d, want 0", got)
	}
	if n := len(h.replicaSets()); n != 1 {
		t.Fatalf("%d ReplicaSets while old ones scale down", n)
	}

	// The ReplicaSet reports no pods, but the pods are still terminating:
	// still nothing new.
	h.setRSStatus(old.Name, 0, 0)
	h.reconcile("web")
	if n := len(h.replicaSets()); n != 1 {
		t.Fatalf("new ReplicaSet created while old pods run")
	}

	// Pods in a terminal phase do not count.
	pod := &corev1.Pod{}
	if err := h.c.Get(h.ctx, client.ObjectKey{Namespace: "default", Name: "web-old-0"}, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodSucceeded
	if err := h.c.Status().Update(h.ctx, pod); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web-old-1", "web-old-2"} {
		if err := h.c.Delete(h.ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}); err != nil {
			t.Fatal(err)
		}
	}

	// Then the new ReplicaSet comes, at full size.
	h.reconcile("web")
	newRS := h.newReplicaSetOf("web")
	if newRS == nil || specReplicas(newRS) != 3 {
		t.Fatalf("new ReplicaSet %+v", newRS)
	}
	want := []string{
		fmt.Sprintf("Normal ScalingReplicaSet Scaled down replica set %s from 3 to 0", old.Name),
		fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 0 to 3", newRS.Name),
	}
	if diff := cmp.Diff(want, h.drainEvents()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	h.rollOut("web", allReady)
}

func TestRollbackRevisions(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(2).Obj())
	h.rollOut("web", allReady)
	v1 := h.newReplicaSetOf("web")
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	h.rollOut("web", allReady)
	v2 := h.newReplicaSetOf("web")

	// kubectl rollout undo: the template of revision 1 back into the
	// Deployment, without the hash label.
	h.updateDeployment("web", func(d *stratav1.Deployment) {
		d.Spec.Template = *h.replicaSet(v1.Name).Spec.Template.DeepCopy()
		delete(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	})
	h.rollOut("web", allReady)

	if got := h.newReplicaSetOf("web"); got.Name != v1.Name {
		t.Fatalf("rollback created %s instead of reusing %s", got.Name, v1.Name)
	}
	if n := len(h.replicaSets()); n != 2 {
		t.Errorf("%d ReplicaSets, want 2", n)
	}
	rev := func(name string) string { return h.replicaSet(name).Annotations[RevisionAnnotation] }
	if rev(v1.Name) != "3" || rev(v2.Name) != "2" {
		t.Errorf("revisions: %s=%s, %s=%s; want 3 and 2", v1.Name, rev(v1.Name), v2.Name, rev(v2.Name))
	}
	if got := h.replicaSet(v1.Name).Annotations[RevisionHistoryAnnotation]; got != "1" {
		t.Errorf("revision history %q, want 1", got)
	}
	if got := h.deployment("web").Annotations[RevisionAnnotation]; got != "3" {
		t.Errorf("deployment revision %q, want 3", got)
	}
	if specReplicas(h.replicaSet(v1.Name)) != 2 || specReplicas(h.replicaSet(v2.Name)) != 0 {
		t.Errorf("sizes: %s", describe(h.replicaSets()))
	}
}

func TestRevisionHistoryLimit(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(2).HistoryLimit(1).Obj())
	h.rollOut("web", allReady)
	var names []string
	for i := 2; i <= 4; i++ {
		names = append(names, h.newReplicaSetOf("web").Name)
		h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("nginx:%d", i) })
		h.rollOut("web", allReady)
		// Once complete, the next reconcile cleans up.
		h.reconcile("web")
	}
	got := map[string]bool{}
	for _, rs := range h.replicaSets() {
		got[rs.Annotations[RevisionAnnotation]] = true
	}
	if diff := cmp.Diff(map[string]bool{"3": true, "4": true}, got); diff != "" {
		t.Errorf("revisions left (-want +got):\n%s", diff)
	}

	// An old ReplicaSet that still reports pods is kept.
	h2 := newHarness(t,
		makeDeployment("web").Replicas(2).HistoryLimit(0).StatusCounts(2, 2, 2, 2).Obj(),
	)
	h2.rollOut("web", allReady)
	old := h2.newReplicaSetOf("web")
	h2.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	h2.rollOut("web", allReady)
	h2.setRSStatus(old.Name, 1, 0) // a pod still terminating
	h2.reconcile("web")
	if n := len(h2.replicaSets()); n != 2 {
		t.Fatalf("old ReplicaSet with a pod deleted: %d left", n)
	}
	// Cleanup waits for a complete status: one reconcile records it, the
	// next deletes.
	h2.setRSStatus(old.Name, 0, 0)
	h2.reconcile("web")
	h2.reconcile("web")
	if n := len(h2.replicaSets()); n != 1 {
		t.Errorf("%d ReplicaSets left, want 1", n)
	}
}

func TestProgressDeadlineExceeded(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(2).Deadline(ptr.To[int32](60)).Obj())
	h.rollOut("web", allReady)
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:broken" })

	res := h.reconcile("web")
	newRS := h.newReplicaSetOf("web")
	c := condition(h.deployment("web"), appsv1.DeploymentProgressing)
	if c == nil || c.Reason != NewReplicaSetReason || c.Message != fmt.Sprintf("Created new replica set %q", newRS.Name) {
		t.Fatalf("Progressing after creation: %+v", c)
	}
	if res.RequeueAfter != 61*1e9 {
		t.Errorf("requeue after %v, want 61s", res.RequeueAfter)
	}

	// The new pods never become available.
	broken := func(rs *stratav1.ReplicaSet, before int32) int32 {
		if rs.Name == newRS.Name {
			return 0
		}
		return specReplicas(rs)
	}
	h.clock.Step(30 * 1e9)
	h.runReplicaSetController(broken)
	res = h.reconcile("web")
	if c := condition(h.deployment("web"), appsv1.DeploymentProgressing); c.Status != corev1.ConditionTrue {
		t.Fatalf("timed out early: %+v", c)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > 61*1e9 {
		t.Errorf("requeue after %v", res.RequeueAfter)
	}

	// Nothing else happens; the requeue comes after the deadline.
	h.clock.Step(res.RequeueAfter)
	res = h.reconcile("web")
	d := h.deployment("web")
	c = condition(d, appsv1.DeploymentProgressing)
	want := fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != TimedOutReason || c.Message != want {
		t.Fatalf("Progressing: %+v", c)
	}
	if res.RequeueAfter != 0 {
		t.Errorf("requeued after timing out: %v", res.RequeueAfter)
	}
	// Availability was kept: the old pods still serve.
	if c := condition(d, appsv1.DeploymentAvailable); c.Status != corev1.ConditionTrue {
		t.Errorf("Available: %+v", c)
	}

	// A fixed template makes progress again.
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	h.rollOut("web", allReady)
	if c := condition(h.deployment("web"), appsv1.DeploymentProgressing); c.Reason != NewRSAvailableReason {
		t.Errorf("Progressing after the fix: %+v", c)
	}
}

func TestPaused(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(4).Rolling(intstr.FromInt32(1), intstr.FromInt32(0)).Obj())
	h.rollOut("web", allReady)
	v1 := h.newReplicaSetOf("web")

	// Start a rollout and pause it halfway: 4 -> 1+4 -> 1+3 -> 2+3.
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	for range 3 {
		h.reconcile("web")
		h.runReplicaSetController(allReady)
	}
	v2 := h.newReplicaSetOf("web")
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Paused = true })
	h.reconcile("web")
	sizesBefore := sizes(h.replicaSets())
	c := condition(h.deployment("web"), appsv1.DeploymentProgressing)
	if c == nil || c.Status != corev1.ConditionUnknown || c.Reason != PausedDeployReason || c.Message != "Deployment is paused" {
		t.Fatalf("Progressing: %+v", c)
	}

	// While paused, template changes do not roll out...
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:3" })
	for range 3 {
		h.reconcile("web")
		h.runReplicaSetController(allReady)
	}
	if n := len(h.replicaSets()); n != 2 {
		t.Fatalf("%d ReplicaSets while paused, want 2", n)
	}
	if diff := cmp.Diff(sizesBefore, sizes(h.replicaSets())); diff != "" {
		t.Errorf("sizes changed while paused (-before +after):\n%s", diff)
	}

	// ...but scaling is proportional: 3 + 2 (4 + 1 surge) become 5 + 4
	// (8 + 1 surge): 3*9/5 rounds to 5, 2*9/5 to 4.
	if sizesBefore[v1.Name] != 3 || sizesBefore[v2.Name] != 2 {
		t.Fatalf("paused at %v", sizesBefore)
	}
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Replicas = ptr.To[int32](8) })
	h.reconcile("web")
	if diff := cmp.Diff(map[string]int32{v1.Name: 5, v2.Name: 4}, sizes(h.replicaSets())); diff != "" {
		t.Errorf("sizes after scaling (-want +got):\n%s", diff)
	}
	for _, rs := range h.replicaSets() {
		if rs.Annotations[DesiredReplicasAnnotation] != "8" || rs.Annotations[MaxReplicasAnnotation] != "9" {
			t.Errorf("%s sized for %s/%s", rs.Name, rs.Annotations[DesiredReplicasAnnotation], rs.Annotations[MaxReplicasAnnotation])
		}
	}

	// Resuming rolls out the latest template.
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Paused = false })
	h.reconcile("web")
	if c := condition(h.deployment("web"), appsv1.DeploymentProgressing); c == nil || c.Reason != NewReplicaSetReason {
		t.Errorf("Progressing after resume: %+v", c)
	}
	h.runReplicaSetController(allReady)
	h.rollOut("web", allReady)
	if img := h.newReplicaSetOf("web").Spec.Template.Spec.Containers[0].Image; img != "nginx:3" {
		t.Errorf("rolled out %s", img)
	}
}

func TestResumedCondition(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(2).Paused().Obj())
	h.reconcile("web")
	if n := len(h.replicaSets()); n != 0 {
		t.Fatalf("a paused Deployment created %d ReplicaSets", n)
	}
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Paused = false })
	// The resume is recorded, then the creation of the ReplicaSet replaces it.
	d := h.deployment("web")
	s := &syncState{r: h.r, d: d, now: h.clock.Now()}
	if !setPausedCondition(s.d, s.now) {
		t.Fatal("resume not noticed")
	}
	if c := condition(s.d, appsv1.DeploymentProgressing); c.Reason != ResumedDeployReason || c.Message != "Deployment is resumed" {
		t.Errorf("Progressing: %+v", c)
	}
	h.reconcile("web")
	if c := condition(h.deployment("web"), appsv1.DeploymentProgressing); c.Reason != NewReplicaSetReason {
		t.Errorf("Progressing: %+v", c)
	}
}

func TestScalingDuringRollout(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(10).Rolling(intstr.FromInt32(3), intstr.FromInt32(2)).Obj())
	h.rollOut("web", allReady)
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	// One step: the new ReplicaSet at 3 (surge), the old one down to 8
	// (unavailability 2).
	h.reconcile("web")
	h.runReplicaSetController(func(rs *stratav1.ReplicaSet, _ int32) int32 {
		if rs.Status.AvailableReplicas > 0 {
			return specReplicas(rs) // old pods
		}
		return 0 // new pods not ready yet
	})
	got := sizes(h.replicaSets())
	var old, cur string
	for _, rs := range h.replicaSets() {
		if equalIgnoreHash(&rs.Spec.Template, &h.deployment("web").Spec.Template) {
			cur = rs.Name
		} else {
			old = rs.Name
		}
	}
	if diff := cmp.Diff(map[string]int32{old: 8, cur: 3}, got); diff != "" {
		t.Fatalf("mid-rollout sizes (-want +got):\n%s", diff)
	}
	h.drainEvents()

	// 10 -> 20: 8 + 3 sized for at most 13 grow towards 23: 8*23/13
	// rounds to 14, 3*23/13 to 5, and the 4 left over go to the largest.
	// No rollout step is taken.
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Spec.Replicas = ptr.To[int32](20) })
	h.reconcile("web")
	if diff := cmp.Diff(map[string]int32{old: 18, cur: 5}, sizes(h.replicaSets())); diff != "" {
		t.Errorf("proportional sizes (-want +got):\n%s", diff)
	}
	want := []string{
		fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 8 to 18", old),
		fmt.Sprintf("Normal ScalingReplicaSet Scaled up replica set %s from 3 to 5", cur),
	}
	if diff := cmp.Diff(want, h.drainEvents()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	h.rollOut("web", readyNextRound)
}

func TestClaimReplicaSets(t *testing.T) {
	d := makeDeployment("web").Replicas(1).Obj()
	other := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "other", UID: "other-uid", Controller: ptr.To(true)}
	orphan := makeRS("orphan", 0).Obj()
	foreign := makeRS("foreign", 0).Obj()
	foreign.OwnerReferences = []metav1.OwnerReference{other}
	unmatched := makeRS("unmatched", 0).Obj()
	unmatched.Labels = map[string]string{"app": "other"}
	unmatched.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(d, controllerKind)}
	h := newHarness(t, d, orphan, foreign, unmatched)

	h.reconcile("web")
	ref := metav1.GetControllerOf(h.replicaSet("orphan"))
	if ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || !*ref.BlockOwnerDeletion {
		t.Errorf("orphan not adopted: %+v", ref)
	}
	if ref := metav1.GetControllerOf(h.replicaSet("foreign")); ref == nil || ref.UID != "other-uid" {
		t.Errorf("foreign ReplicaSet taken: %+v", ref)
	}
	if refs := h.replicaSet("unmatched").OwnerReferences; len(refs) != 0 {
		t.Errorf("unmatched ReplicaSet not released: %+v", refs)
	}
}

func TestSelectingAll(t *testing.T) {
	d := makeDeployment("web").Obj()
	d.Spec.Selector = &metav1.LabelSelector{}
	d.Generation = 4
	h := newHarness(t, d)
	h.reconcile("web")
	if n := len(h.replicaSets()); n != 0 {
		t.Errorf("%d ReplicaSets created", n)
	}
	if got := h.deployment("web").Status.ObservedGeneration; got != 4 {
		t.Errorf("observedGeneration %d", got)
	}
	want := []string{"Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required."}
	if diff := cmp.Diff(want, h.drainEvents()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestHashCollision(t *testing.T) {
	d := makeDeployment("web").Replicas(1).Obj()
	squatter := newReplicaSetFor(d)
	squatter.OwnerReferences = nil
	squatter.Labels = map[string]string{"app": "elsewhere"}
	squatter.Spec.Template.Spec.Containers[0].Image = "other"
	h := newHarness(t, d, squatter)

	if _, err := h.reconcileErr("web"); err == nil {
		t.Fatal("no error on a hash collision")
	}
	got := h.deployment("web").Status.CollisionCount
	if got == nil || *got != 1 {
		t.Fatalf("collisionCount %v, want 1", got)
	}
	h.rollOut("web", allReady)
	newRS := h.newReplicaSetOf("web")
	if want := "web-" + computeHash(&d.Spec.Template, ptr.To[int32](1)); newRS.Name != want {
		t.Errorf("new ReplicaSet %s, want %s", newRS.Name, want)
	}
}

func TestDeploymentAnnotationsCopied(t *testing.T) {
	h := newHarness(t, makeDeployment("web").Replicas(1).
		Annotation("kubernetes.io/change-cause", "first").
		Annotation(corev1.LastAppliedConfigAnnotation, "{}").Obj())
	h.rollOut("web", allReady)
	rs := h.newReplicaSetOf("web")
	if rs.Annotations["kubernetes.io/change-cause"] != "first" {
		t.Errorf("annotation not copied: %v", rs.Annotations)
	}
	if _, ok := rs.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("last-applied configuration copied")
	}
	// A changed annotation reaches the existing new ReplicaSet.
	h.updateDeployment("web", func(d *stratav1.Deployment) { d.Annotations["kubernetes.io/change-cause"] = "second" })
	h.reconcile("web")
	if got := h.replicaSet(rs.Name).Annotations["kubernetes.io/change-cause"]; got != "second" {
		t.Errorf("annotation %q", got)
	}
}

func TestOnlyConflicts(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("modified"))
	other := errors.New("boom")
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"conflict", conflict, true},
		{"wrapped conflict", fmt.Errorf("updating status: %w", conflict), true},
		{"aggregate of conflicts", utilerrors.NewAggregate([]error{conflict, fmt.Errorf("scaling: %w", conflict)}), true},
		{"aggregate with another error", utilerrors.NewAggregate([]error{conflict, other}), false},
		{"other", other, false},
	} {
		if got := onlyConflicts(tt.err); got != tt.want {
			t.Errorf("%s: onlyConflicts = %v, want %v", tt.name, got, tt.want)
		}
	}
}
