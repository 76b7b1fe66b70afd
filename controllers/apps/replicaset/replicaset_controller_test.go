/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/apis/scheme"
)

// harness is a Reconciler on a fake client, with the pod event handler the
// manager would run, fed by hand (the fake client has no informer).
type harness struct {
	t        *testing.T
	r        *Reconciler
	c        client.Client
	recorder *events.FakeRecorder
	handler  *podEventHandler
	queue    queue
	clock    *clocktesting.FakeClock

	creates      atomic.Int32
	statusWrites atomic.Int32
	// staleCache makes pod lists come back empty, like an informer that has
	// not seen anything yet.
	staleCache atomic.Bool
	// createErr, when set, is returned by pod creations.
	createErr atomic.Pointer[error]
	// statusErr, when set, is returned by status writes.
	statusErr atomic.Pointer[error]
}

func newHarness(t *testing.T, objs ...client.Object) *harness {
	t.Helper()
	h := &harness{t: t, recorder: events.NewFakeRecorder(1000), clock: clocktesting.NewFakeClock(t0)}
	h.c = fake.NewClientBuilder().
		WithScheme(scheme.New()).
		WithStatusSubresource(&stratav1.ReplicaSet{}).
		WithIndex(&corev1.Pod{}, podControllerUIDIndex, podControllerUIDIndexValue).
		WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if _, ok := obj.(*corev1.Pod); ok {
					h.creates.Add(1)
					if err := h.createErr.Load(); err != nil {
						return *err
					}
				}
				return c.Create(ctx, obj, opts...)
			},
			List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
				if _, ok := list.(*corev1.PodList); ok && h.staleCache.Load() {
					return nil
				}
				return c.List(ctx, list, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				h.statusWrites.Add(1)
				if err := h.statusErr.Load(); err != nil {
					return *err
				}
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		}).
		Build()
	h.r = &Reconciler{Client: h.c, Recorder: h.recorder, Clock: h.clock}
	h.r.init()
	h.handler = &podEventHandler{reader: h.c, expectations: h.r.expectations}
	h.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	t.Cleanup(h.queue.ShutDown)
	return h
}

func (h *harness) reconcile(name string) (ctrl.Result, error) {
	h.t.Helper()
	return h.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: testNamespace, Name: name}})
}

func (h *harness) mustReconcile(name string) ctrl.Result {
	h.t.Helper()
	res, err := h.reconcile(name)
	if err != nil {
		h.t.Fatalf("Reconcile: %v", err)
	}
	return res
}

func (h *harness) pods() []*corev1.Pod {
	h.t.Helper()
	var list corev1.PodList
	if err := h.c.List(context.Background(), &list, client.InNamespace(testNamespace)); err != nil {
		h.t.Fatal(err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods
}

func (h *harness) pod(name string) *corev1.Pod {
	h.t.Helper()
	pod := &corev1.Pod{}
	if err := h.c.Get(context.Background(), types.NamespacedName{Namespace: testNamespace, Name: name}, pod); err != nil {
		h.t.Fatal(err)
	}
	return pod
}

func (h *harness) rs(name string) *stratav1.ReplicaSet {
	h.t.Helper()
	rs := &stratav1.ReplicaSet{}
	if err := h.c.Get(context.Background(), types.NamespacedName{Namespace: testNamespace, Name: name}, rs); err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// observeCreations feeds the pods to the event handler as the informer
// would on their creation.
func (h *harness) observeCreations(pods []*corev1.Pod) {
	for _, pod := range pods {
		h.handler.Create(context.Background(), event.CreateEvent{Object: pod}, h.queue)
	}
}

// events drains the recorded events.
func (h *harness) events() []string {
	var out []string
	for {
		select {
		case e := <-h.recorder.Events:
			out = append(out, e)
		default:
			sort.Strings(out)
			return out
		}
	}
}

func TestReconcileScaleUpFromZero(t *testing.T) {
	h := newHarness(t, makeRS("web").Replicas(3).Obj())

	h.mustReconcile("web")

	pods := h.pods()
	if len(pods) != 3 {
		t.Fatalf("got %d pods, want 3", len(pods))
	}
	var wantEvents []string
	for _, pod := range pods {
		if !strings.HasPrefix(pod.Name, "web-") || pod.GenerateName != "web-" {
			t.Errorf("pod %s: name not generated from web-", pod.Name)
		}
		wantRefs := []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "uid-web",
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}}
		if diff := cmp.Diff(wantRefs, pod.OwnerReferences); diff != "" {
			t.Errorf("pod %s owner references (-want +got):\n%s", pod.Name, diff)
		}
		if diff := cmp.Diff(map[string]string{"app": "web", "tier": "web"}, pod.Labels); diff != "" {
			t.Errorf("pod %s labels (-want +got):\n%s", pod.Name, diff)
		}
		if pod.Annotations["note"] != "from-template" || len(pod.Finalizers) != 0 {
			t.Errorf("pod %s: annotations %v, finalizers %v", pod.Name, pod.Annotations, pod.Finalizers)
		}
		wantEvents = append(wantEvents, "Normal SuccessfulCreate Created pod: "+pod.Name)
	}
	sort.Strings(wantEvents)
	if diff := cmp.Diff(wantEvents, h.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// The status reports what was observed before the creations.
	st := h.rs("web").Status
	if st.Replicas != 0 || st.ObservedGeneration != 1 || st.Selector != "app=web" || !ptr.Equal(st.TerminatingReplicas, ptr.To(int32(0))) {
		t.Errorf("status after creating: %+v", st)
	}
	if adds, _, _ := h.r.expectations.pending("default/web"); adds != 3 {
		t.Errorf("pending creations = %d, want 3", adds)
	}

	h.observeCreations(pods)
	if !h.r.expectations.satisfied("default/web", "uid-web") {
		t.Error("expectations not satisfied after observing the creations")
	}
	if h.queue.Len() != 1 {
		t.Errorf("queue length %d, want 1 (web, deduplicated)", h.queue.Len())
	}
	h.mustReconcile("web")
	if got := h.creates.Load(); got != 3 {
		t.Errorf("%d creations, want 3", got)
	}
	if st := h.rs("web").Status; st.Replicas != 3 || st.FullyLabeledReplicas != 3 {
		t.Errorf("status: replicas %d, fullyLabeled %d, want 3, 3", st.Replicas, st.FullyLabeledReplicas)
	}
}

func TestReconcileDefaultsReplicasToOne(t *testing.T) {
	h := newHarness(t, makeRS("web").NilReplicas().Obj())
	h.mustReconcile("web")
	if n := len(h.pods()); n != 1 {
		t.Errorf("got %d pods, want 1", n)
	}
}

func TestReconcileExpectationsBlockDuplicates(t *testing.T) {
	h := newHarness(t, makeRS("web").Replicas(3).Obj())
	h.staleCache.Store(true)

	h.mustReconcile("web")
	// The cache has seen none of the 3 pods: without expectations the
	// controller would create 3 more.
	h.mustReconcile("web")
	h.mustReconcile("web")
	if got := h.creates.Load(); got != 3 {
		t.Fatalf("%d creations with a stale cache, want 3", got)
	}

	// One creation is observed, the list is still stale: still blocked.
	h.staleCache.Store(false)
	pods := h.pods()
	h.staleCache.Store(true)
	h.observeCreations(pods[:1])
	h.mustReconcile("web")
	if got := h.creates.Load(); got != 3 {
		t.Fatalf("%d creations, want 3", got)
	}
	// The cache catches up.
	h.observeCreations(pods[1:])
	h.staleCache.Store(false)
	h.mustReconcile("web")
	if got, n := h.creates.Load(), len(h.pods()); got != 3 || n != 3 {
		t.Fatalf("%d creations, %d pods, want 3 and 3", got, n)
	}

	// Expectations that are never met expire after 5 minutes.
	h.r.expectations.expectCreations("default/web", "uid-web", 1)
	h.staleCache.Store(true)
	h.mustReconcile("web")
	if got := h.creates.Load(); got != 3 {
		t.Fatalf("%d creations before the expectations expired, want 3", got)
	}
	h.clock.Step(expectationsTimeout + time.Second)
	h.mustReconcile("web")
	if got := h.creates.Load(); got != 6 {
		t.Fatalf("%d creations after the expectations expired, want 6", got)
	}
}

func TestReconcileScaleDown(t *testing.T) {
	web := makeRS("web").Replicas(2).Obj()
	old := t0.Add(-time.Hour)
	h := newHarness(t, web,
		makePod("ready-old").For(web).ReadySince(old).Created(old).Obj(),
		makePod("ready-new").For(web).ReadySince(t0.Add(-time.Minute)).Node("node-2").Created(t0.Add(-2*time.Minute)).Obj(),
		makePod("not-ready").For(web).Running().Created(old).Obj(),
		makePod("unscheduled").For(web).Created(old).Obj(),
	)
	h.mustReconcile("web")

	if diff := cmp.Diff([]string{"ready-new", "ready-old"}, podNames(h.pods())); diff != "" {
		t.Errorf("remaining pods (-want +got):\n%s", diff)
	}
	want := []string{"Normal SuccessfulDelete Deleted pod: not-ready", "Normal SuccessfulDelete Deleted pod: unscheduled"}
	if diff := cmp.Diff(want, h.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, dels, _ := h.r.expectations.pending("default/web"); dels != 2 {
		t.Errorf("pending deletions = %d, want 2", dels)
	}
	// A deletion seen first as a deletionTimestamp, then as the delete,
	// counts once.
	gone := makePod("not-ready").For(web).Obj()
	h.handler.Update(context.Background(), event.UpdateEvent{
		ObjectOld: makePod("not-ready").For(web).ResourceVersion("1").Obj(),
		ObjectNew: makePod("not-ready").For(web).Deleting().ResourceVersion("2").Obj(),
	}, h.queue)
	h.handler.Delete(context.Background(), event.DeleteEvent{Object: gone}, h.queue)
	if h.r.expectations.satisfied("default/web", "uid-web") {
		t.Error("satisfied before the second deletion was observed")
	}
	h.handler.Delete(context.Background(), event.DeleteEvent{Object: makePod("unscheduled").For(web).Obj()}, h.queue)
	if !h.r.expectations.satisfied("default/web", "uid-web") {
		t.Error("not satisfied after both deletions were observed")
	}
}

func TestReconcileScaleDownPrefersCrowdedNodesAcrossSiblings(t *testing.T) {
	// Two ReplicaSets of one Deployment; the old one is scaled down and
	// deletes its pod on the node crowded with the new one's pods.
	oldRS := makeRS("web-old").ControlledBy("uid-deploy").Replicas(1).Obj()
	newRS := makeRS("web-new").ControlledBy("uid-deploy").Replicas(2).Obj()
	other := makeRS("other").Replicas(2).Obj()
	since := t0.Add(-time.Hour)
	h := newHarness(t, oldRS, newRS, other,
		makePod("old-1").For(oldRS).ReadySince(since).Node("node-1").Obj(),
		makePod("old-2").For(oldRS).ReadySince(since).Node("node-2").Obj(),
		makePod("new-1").For(newRS).ReadySince(since).Node("node-2").Obj(),
		makePod("new-2").For(newRS).ReadySince(since).Node("node-2").Obj(),
		// Not a sibling: its pods do not count.
		makePod("other-1").For(other).ReadySince(since).Node("node-1").Obj(),
		makePod("other-2").For(other).ReadySince(since).Node("node-1").Obj(),
	)
	h.mustReconcile("web-old")
	if diff := cmp.Diff([]string{"Normal SuccessfulDelete Deleted pod: old-2"}, h.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestReconcileAdoptsOrphans(t *testing.T) {
	web := makeRS("web").Replicas(2).Obj()
	h := newHarness(t, web,
		makePod("orphan").Labels("app", "web").Running().Obj(),
		makePod("orphan-other-labels").Labels("app", "api").Obj(),
		makePod("orphan-terminating").Labels("app", "web").Deleting().Obj(),
		makePod("foreign").Labels("app", "web").ControlledByOther().Obj(),
	)
	h.mustReconcile("web")

	wantRef := []metav1.OwnerReference{*controllerRef(web)}
	if diff := cmp.Diff(wantRef, h.pod("orphan").OwnerReferences); diff != "" {
		t.Errorf("adopted pod's owner references (-want +got):\n%s", diff)
	}
	for _, name := range []string{"orphan-other-labels", "orphan-terminating"} {
		if refs := h.pod(name).OwnerReferences; len(refs) != 0 {
			t.Errorf("pod %s: adopted, owner references %v", name, refs)
		}
	}
	if refs := h.pod("foreign").OwnerReferences; len(refs) != 1 || refs[0].UID != "uid-other" {
		t.Errorf("pod foreign: owner references %v, want the other controller's", refs)
	}
	// The adopted pod counts: one more pod is created for 2 replicas.
	if got := h.creates.Load(); got != 1 {
		t.Errorf("%d creations, want 1", got)
	}
	if st := h.rs("web").Status; st.Replicas != 1 {
		t.Errorf("status.replicas = %d, want 1 (the adopted pod)", st.Replicas)
	}
}

func TestReconcileRechecksBeforeAdopting(t *testing.T) {
	web := makeRS("web").Replicas(1).Obj()
	h := newHarness(t, web, makePod("orphan").Labels("app", "web").Obj())
	// The API server already has a new ReplicaSet of the same name.
	recreated := makeRS("web").Obj()
	recreated.UID = "uid-web-2"
	h.r.APIReader = fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(recreated).Build()

	_, err := h.reconcile("web")
	if err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Fatalf("Reconcile: %v, want an error saying the original ReplicaSet is gone", err)
	}
	if refs := h.pod("orphan").OwnerReferences; len(refs) != 0 {
		t.Errorf("orphan adopted: %v", refs)
	}
	if got := h.creates.Load(); got != 0 {
		t.Errorf("%d creations, want 0", got)
	}

	// Being deleted in the API server while the cache lags.
	deleting := makeRS("web").Deleting().Obj()
	h.r.APIReader = fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(deleting).Build()
	if _, err := h.reconcile("web"); err == nil || !strings.Contains(err.Error(), "has just been deleted") {
		t.Fatalf("Reconcile: %v, want an error saying the ReplicaSet has just been deleted", err)
	}
}

func TestReconcileDoesNotAdoptWhileBeingDeleted(t *testing.T) {
	web := makeRS("web").Replicas(3).Deleting().Obj()
	h := newHarness(t, web,
		makePod("orphan").Labels("app", "web").Obj(),
		makePod("mine").For(web).Obj(),
		makePod("mine-relabeled").OwnedBy(web).Labels("app", "api").Obj(),
	)
	h.mustReconcile("web")
	if refs := h.pod("orphan").OwnerReferences; len(refs) != 0 {
		t.Errorf("orphan adopted by a ReplicaSet being deleted: %v", refs)
	}
	if refs := h.pod("mine-relabeled").OwnerReferences; len(refs) != 1 {
		t.Errorf("pod released by a ReplicaSet being deleted: %v", refs)
	}
	if got := h.creates.Load(); got != 0 {
		t.Errorf("%d creations by a ReplicaSet being deleted, want 0", got)
	}
	if st := h.rs("web").Status; st.Replicas != 1 || st.ObservedGeneration != 1 {
		t.Errorf("status: replicas %d, observedGeneration %d; want 1, 1", st.Replicas, st.ObservedGeneration)
	}
}

func TestReconcileReleasesRelabeledPods(t *testing.T) {
	web := makeRS("web").Replicas(1).Obj()
	h := newHarness(t, web, makePod("relabeled").OwnedBy(web).Labels("app", "debug").Running().Obj())
	h.mustReconcile("web")

	if refs := h.pod("relabeled").OwnerReferences; len(refs) != 0 {
		t.Errorf("relabeled pod still owned: %v", refs)
	}
	if got, n := h.creates.Load(), len(h.pods()); got != 1 || n != 2 {
		t.Errorf("%d creations, %d pods; want a replacement: 1 and 2", got, n)
	}
}

func TestReconcileReplicaFailure(t *testing.T) {
	h := newHarness(t, makeRS("web").Replicas(3).Obj())
	quota := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "web-x7k2p",
		errors.New("exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2"))
	var err error = quota
	h.createErr.Store(&err)

	_, rerr := h.reconcile("web")
	if !apierrors.IsForbidden(rerr) {
		t.Fatalf("Reconcile: %v, want the Forbidden error", rerr)
	}
	if got := h.creates.Load(); got != 1 {
		t.Errorf("%d creation attempts, want 1 (slow start stops at the first failure)", got)
	}
	st := h.rs("web").Status
	want := []appsv1.ReplicaSetCondition{{
		Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate",
		Message: quota.Error(), LastTransitionTime: metav1.NewTime(t0),
	}}
	if diff := cmp.Diff(want, st.Conditions, cmpTimeSeconds); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if st.ObservedGeneration != 0 {
		t.Errorf("observedGeneration = %d after a failed reconcile, want 0", st.ObservedGeneration)
	}
	wantEvents := []string{"Warning FailedCreate Error creating: " + quota.Error()}
	if diff := cmp.Diff(wantEvents, h.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !h.r.expectations.satisfied("default/web", "uid-web") {
		t.Error("failed creations still expected")
	}

	// The quota is raised.
	h.createErr.Store(nil)
	h.mustReconcile("web")
	st = h.rs("web").Status
	if len(st.Conditions) != 0 || st.ObservedGeneration != 1 {
		t.Errorf("after success: conditions %v, observedGeneration %d; want none, 1", st.Conditions, st.ObservedGeneration)
	}
	if n := len(h.pods()); n != 3 {
		t.Errorf("%d pods, want 3", n)
	}
}

// cmpTimeSeconds compares metav1.Times at the precision they are stored.
var cmpTimeSeconds = cmp.Comparer(func(a, b metav1.Time) bool { return a.Unix() == b.Unix() })

func TestReconcileStatus(t *testing.T) {
	web := makeRS("web").Replicas(2).MinReadySeconds(30).Generation(2).Obj()
	h := newHarness(t, web,
		makePod("available").For(web).Labels("app", "web", "tier", "web").ReadySince(t0.Add(-time.Minute)).Obj(),
		makePod("warming-up").For(web).ReadySince(t0.Add(-10*time.Second)).Obj(),
		makePod("terminating").For(web).Running().Deleting().Obj(),
		makePod("done").For(web).Phase(corev1.PodSucceeded).Obj(),
	)
	res := h.mustReconcile("web")
	if want := 20*time.Second + availabilityCheckSlack; res.RequeueAfter != want {
		t.Errorf("RequeueAfter = %v, want %v", res.RequeueAfter, want)
	}
	want := stratav1.ReplicaSetStatus{
		ReplicaSetStatus: appsv1.ReplicaSetStatus{
			Replicas: 2, FullyLabeledReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 1,
			TerminatingReplicas: ptr.To(int32(1)), ObservedGeneration: 2,
		},
		Selector: "app=web",
	}
	if diff := cmp.Diff(want, h.rs("web").Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if got := h.statusWrites.Load(); got != 1 {
		t.Errorf("%d status writes, want 1", got)
	}

	// Nothing changed: no write.
	h.mustReconcile("web")
	if got := h.statusWrites.Load(); got != 1 {
		t.Errorf("%d status writes after an idle reconcile, want 1", got)
	}

	// Time passes: the second pod becomes available.
	h.clock.Step(res.RequeueAfter)
	if res := h.mustReconcile("web"); res.RequeueAfter != 0 {
		t.Errorf("RequeueAfter = %v with every pod available, want 0", res.RequeueAfter)
	}
	if st := h.rs("web").Status; st.AvailableReplicas != 2 {
		t.Errorf("availableReplicas = %d, want 2", st.AvailableReplicas)
	}
	if got := h.statusWrites.Load(); got != 2 {
		t.Errorf("%d status writes, want 2", got)
	}
}

func TestReconcileDeletedReplicaSet(t *testing.T) {
	h := newHarness(t)
	h.r.expectations.expectCreations("default/web", "uid-web", 3)
	h.mustReconcile("web")
	if _, _, ok := h.r.expectations.pending("default/web"); ok {
		t.Error("expectations of a deleted ReplicaSet kept")
	}
}

func TestReconcileConcurrentCreationsAreBounded(t *testing.T) {
	h := newHarness(t, makeRS("web").Replicas(600).Obj())
	h.mustReconcile("web")
	if got := h.creates.Load(); got != burstReplicas {
		t.Errorf("%d creations in one sync, want %d", got, burstReplicas)
	}
}

func TestPodEventHandler(t *testing.T) {
	web := makeRS("web").Obj()
	all := makeRS("all").Obj() // also selects app=web
	api := makeRS("api").Obj()
	h := newHarness(t, web, all, api)
	ctx := context.Background()

	drain := func() []string {
		var got []string
		for h.queue.Len() > 0 {
			req, _ := h.queue.Get()
			h.queue.Done(req)
			got = append(got, req.Name)
		}
		sort.Strings(got)
		return got
	}
	check := func(what string, want ...string) {
		t.Helper()
		if diff := cmp.Diff(want, drain()); diff != "" {
			t.Errorf("%s: queued (-want +got):\n%s", what, diff)
		}
	}

	h.r.expectations.expectCreations("default/web", "uid-web", 1)
	h.handler.Create(ctx, event.CreateEvent{Object: makePod("a").For(web).Obj()}, h.queue)
	check("owned pod created", "web")
	if !h.r.expectations.satisfied("default/web", "uid-web") {
		t.Error("creation not observed")
	}

	// Orphans wake every ReplicaSet that selects them.
	allSel := all.DeepCopy()
	allSel.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}
	if err := h.c.Update(ctx, allSel); err != nil {
		t.Fatal(err)
	}
	h.handler.Create(ctx, event.CreateEvent{Object: makePod("o").Labels("app", "web").Obj()}, h.queue)
	check("orphan created", "all", "web")
	h.handler.Create(ctx, event.CreateEvent{Object: makePod("o").Obj()}, h.queue)
	check("orphan without labels")

	// Owned by another kind: nobody.
	h.handler.Create(ctx, event.CreateEvent{Object: makePod("f").Labels("app", "web").ControlledByOther().Obj()}, h.queue)
	check("foreign pod")

	// Resyncs (same resourceVersion) are ignored.
	p := makePod("a").For(web).ResourceVersion("5").Obj()
	h.handler.Update(ctx, event.UpdateEvent{ObjectOld: p, ObjectNew: p}, h.queue)
	check("resync")

	// Ownership moves from web to api.
	h.handler.Update(ctx, event.UpdateEvent{
		ObjectOld: makePod("a").For(web).ResourceVersion("5").Obj(),
		ObjectNew: makePod("a").For(api).ResourceVersion("6").Obj(),
	}, h.queue)
	check("owner changed", "api", "web")

	// Released: the former owner and the ReplicaSets that may adopt it.
	h.handler.Update(ctx, event.UpdateEvent{
		ObjectOld: makePod("a").For(web).ResourceVersion("6").Obj(),
		ObjectNew: makePod("a").Labels("app", "api").ResourceVersion("7").Obj(),
	}, h.queue)
	check("released", "all", "api", "web")

	// A deletionTimestamp counts as the deletion.
	h.r.expectations.expectDeletions("default/web", "uid-web", []string{"default/a"})
	h.handler.Update(ctx, event.UpdateEvent{
		ObjectOld: makePod("a").For(web).ResourceVersion("7").Obj(),
		ObjectNew: makePod("a").For(web).Deleting().ResourceVersion("8").Obj(),
	}, h.queue)
	check("deletion started", "web")
	if !h.r.expectations.satisfied("default/web", "uid-web") {
		t.Error("deletion not observed from the deletionTimestamp")
	}

	h.handler.Delete(ctx, event.DeleteEvent{Object: makePod("a").For(web).Obj()}, h.queue)
	check("deleted", "web")
	h.handler.Delete(ctx, event.DeleteEvent{Object: makePod("o").Labels("app", "web").Obj()}, h.queue)
	check("orphan deleted")
}

// TestReconcileIsSafeConcurrently runs reconciles of several ReplicaSets at
// once, as the manager does with MaxConcurrentReconciles.
func TestReconcileIsSafeConcurrently(t *testing.T) {
	var objs []client.Object
	for i := range 5 {
		objs = append(objs, makeRS(fmt.Sprintf("rs-%d", i)).Replicas(4).Obj())
	}
	h := newHarness(t, objs...)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := range 5 {
		wg.Go(func() {
			if _, err := h.reconcile(fmt.Sprintf("rs-%d", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(h.pods()); n != 20 {
		t.Errorf("%d pods, want 20", n)
	}
}

func TestReconcileStatusConflict(t *testing.T) {
	h := newHarness(t, makeRS("web").Replicas(1).Obj())
	var conflict error = apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "web", errors.New("the object has been modified"))
	h.statusErr.Store(&conflict)
	// A stale ReplicaSet: the newer version's event comes; no error, no
	// rate-limited retry. The pod is created all the same.
	if res, err := h.reconcile("web"); err != nil || res.RequeueAfter != 0 {
		t.Fatalf("Reconcile = %+v, %v; want no requeue and no error", res, err)
	}
	if n := len(h.pods()); n != 1 {
		t.Errorf("%d pods, want 1", n)
	}
	var other error = apierrors.NewServiceUnavailable("etcd is down")
	h.statusErr.Store(&other)
	if _, err := h.reconcile("web"); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("Reconcile: %v, want the status write's error", err)
	}
}
