package integration

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

func TestPodFieldSelectors(t *testing.T) {
	t.Parallel()
	requireResource(t, gvr("", "v1", "pods"))
	ctx := context.Background()
	ns := newNamespace(t)
	pods := c.kube.CoreV1().Pods(ns)
	for name, node := range map[string]string{"on-a": "node-a", "on-b": "node-b", "unscheduled": ""} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
		}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating pod %s: %v", name, err)
		}
	}
	running, err := pods.Get(ctx, "on-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if running.Status.Phase != corev1.PodPending {
		t.Errorf("phase of a new pod = %q, want Pending", running.Status.Phase)
	}
	running.Status.Phase = corev1.PodRunning
	if _, err := pods.UpdateStatus(ctx, running, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("updating the status of on-a: %v", err)
	}

	for _, tc := range []struct {
		selector string
		want     []string
	}{
		{"spec.nodeName=node-a", []string{"on-a"}},
		{"spec.nodeName=", []string{"unscheduled"}},
		{"spec.nodeName!=", []string{"on-a", "on-b"}},
		{"status.phase=Running", []string{"on-a"}},
		{"status.phase=Pending", []string{"on-b", "unscheduled"}},
		{"status.phase=Pending,spec.nodeName=node-b", []string{"on-b"}},
		{"metadata.name=on-b", []string{"on-b"}},
	} {
		list, err := pods.List(ctx, metav1.ListOptions{FieldSelector: tc.selector})
		if err != nil {
			t.Errorf("list pods with %q: %v", tc.selector, err)
			continue
		}
		var got []string
		for _, p := range list.Items {
			got = append(got, p.Name)
		}
		if diff := cmp.Diff(tc.want, sorted(got)); diff != "" {
			t.Errorf("pods with %q (-want +got):\n%s", tc.selector, diff)
		}
	}

	// A kubelet's watch: the pods bound to its node.
	list, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-c"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-c", ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, name := range []string{"elsewhere", "on-c"} {
		node := "node-d"
		if name == "on-c" {
			node = "node-c"
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e := firstEvent(t, w)
	if p, ok := e.Object.(*corev1.Pod); e.Type != watch.Added || !ok || p.Name != "on-c" {
		t.Errorf("first event of the spec.nodeName=node-c watch = %s %v, want ADDED on-c", e.Type, e.Object)
	}
}

func TestEventFieldSelectors(t *testing.T) {
	t.Parallel()
	requireResource(t, gvr("", "v1", "events"))
	ctx := context.Background()
	ns := newNamespace(t)
	events := c.kube.CoreV1().Events(ns)
	for _, tc := range []struct{ name, object, kind, reason string }{
		{"e1", "web", "Pod", "Started"},
		{"e2", "web", "Pod", "Killing"},
		{"e3", "db", "Pod", "Started"},
		{"e4", "web", "Service", "Synced"},
	} {
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: tc.name},
			InvolvedObject: corev1.ObjectReference{Kind: tc.kind, Name: tc.object, Namespace: ns, APIVersion: "v1"},
			Reason:         tc.reason, Message: "m", Type: corev1.EventTypeNormal,
			Source: corev1.EventSource{Component: "test"},
		}
		if _, err := events.Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating event %s: %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		selector string
		want     []string
	}{
		{"involvedObject.name=web", []string{"e1", "e2", "e4"}},
		{"involvedObject.name=web,involvedObject.kind=Pod", []string{"e1", "e2"}},
		{"reason=Started", []string{"e1", "e3"}},
		{"involvedObject.namespace=" + ns + ",type=Normal,involvedObject.name=db", []string{"e3"}},
	} {
		list, err := events.List(ctx, metav1.ListOptions{FieldSelector: tc.selector})
		if err != nil {
			t.Errorf("list events with %q: %v", tc.selector, err)
			continue
		}
		var got []string
		for _, e := range list.Items {
			got = append(got, e.Name)
		}
		if diff := cmp.Diff(tc.want, sorted(got)); diff != "" {
			t.Errorf("events with %q (-want +got):\n%s", tc.selector, diff)
		}
	}

	// events.k8s.io/v1 sees the same events, selected by regarding.name.
	requireResource(t, gvr("events.k8s.io", "v1", "events"))
	list, err := c.kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "regarding.name=db"})
	if err != nil {
		t.Fatalf("listing events.k8s.io events with regarding.name=db: %v", err)
	}
	var got []string
	for _, e := range list.Items {
		got = append(got, e.Name)
	}
	if diff := cmp.Diff([]string{"e3"}, got); diff != "" {
		t.Errorf("events.k8s.io events with regarding.name=db (-want +got):\n%s", diff)
	}
	if len(list.Items) == 1 {
		var want eventsv1.Event
		want.Regarding = corev1.ObjectReference{Kind: "Pod", Name: "db", Namespace: ns, APIVersion: "v1"}
		if diff := cmp.Diff(want.Regarding, list.Items[0].Regarding); diff != "" {
			t.Errorf("regarding of e3 through events.k8s.io (-want +got):\n%s", diff)
		}
	}
}

// firstEvent returns the next event of w, failing the test after 30s.
func firstEvent(t testing.TB, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case e, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed without an event")
		}
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no watch event within 30s")
	}
	return watch.Event{}
}
