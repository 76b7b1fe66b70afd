package integration

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

func newConfigMap(ns, name string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: data}
}

// mustCreateConfigMap creates a configmap and fails the test if it cannot.
func mustCreateConfigMap(t testing.TB, client kubernetes.Interface, ns, name string, labels, data map[string]string) *corev1.ConfigMap {
	t.Helper()
	cm, err := client.CoreV1().ConfigMaps(ns).Create(context.Background(), newConfigMap(ns, name, labels, data), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating configmap %s/%s: %v", ns, name, err)
	}
	return cm
}

// event is a watch event in short: type, name and a data value.
type event struct {
	Type  watch.EventType
	Name  string
	Value string
}

// nextEvents reads n events (bookmarks excluded) from w.
func nextEvents(t testing.TB, w watch.Interface, n int) ([]event, []string) {
	t.Helper()
	var got []event
	var rvs []string
	timeout := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %v", len(got), n, got)
			}
			if e.Type == watch.Bookmark {
				continue
			}
			if e.Type == watch.Error {
				t.Fatalf("watch error event: %v", apierrors.FromObject(e.Object))
			}
			cm := e.Object.(*corev1.ConfigMap)
			got = append(got, event{Type: e.Type, Name: cm.Name, Value: cm.Data["v"]})
			rvs = append(rvs, cm.ResourceVersion)
		case <-timeout:
			t.Fatalf("timed out after %d of %d events: %v", len(got), n, got)
		}
	}
	return got, rvs
}

func TestWatchOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	cms := c.kube.CoreV1().ConfigMaps(ns)
	list, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()

	a := mustCreateConfigMap(t, c.kube, ns, "a", nil, map[string]string{"v": "1"})
	mustCreateConfigMap(t, c.kube, ns, "b", nil, map[string]string{"v": "1"})
	a.Data["v"] = "2"
	if _, err := cms.Update(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCreateConfigMap(t, c.kube, ns, "c", nil, map[string]string{"v": "1"})

	got, rvs := nextEvents(t, w, 5)
	want := []event{
		{watch.Added, "a", "1"}, {watch.Added, "b", "1"}, {watch.Modified, "a", "2"}, {watch.Deleted, "b", "1"}, {watch.Added, "c", "1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("watch events (-want +got):\n%s", diff)
	}
	assertIncreasing(t, rvs)
}

// assertIncreasing checks that resourceVersions (etcd revisions in the
// nucleus) increase strictly.
func assertIncreasing(t testing.TB, rvs []string) {
	t.Helper()
	prev := int64(-1)
	for _, rv := range rvs {
		n, err := strconv.ParseInt(rv, 10, 64)
		if err != nil {
			t.Errorf("resourceVersion %q is not an integer: %v", rv, err)
			return
		}
		if n <= prev {
			t.Errorf("resourceVersions %v do not increase", rvs)
			return
		}
		prev = n
	}
}

func TestWatchFromResourceVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	cms := c.kube.CoreV1().ConfigMaps(ns)
	first := mustCreateConfigMap(t, c.kube, ns, "first", nil, map[string]string{"v": "1"})
	mustCreateConfigMap(t, c.kube, ns, "second", nil, map[string]string{"v": "1"})
	mustCreateConfigMap(t, c.kube, ns, "third", nil, map[string]string{"v": "1"})

	// A watch from first's resourceVersion sees what happened after it.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion})
	if err != nil {
		t.Fatalf("watch from %s: %v", first.ResourceVersion, err)
	}
	defer w.Stop()
	got, _ := nextEvents(t, w, 2)
	want := []event{{watch.Added, "second", "1"}, {watch.Added, "third", "1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events after resourceVersion %s (-want +got):\n%s", first.ResourceVersion, diff)
	}

	// Without a resourceVersion, a watch starts with the current objects.
	w2, err := cms.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	got, _ = nextEvents(t, w2, 3)
	names := []string{got[0].Name, got[1].Name, got[2].Name}
	if diff := cmp.Diff([]string{"first", "second", "third"}, sorted(names)); diff != "" {
		t.Errorf("initial events of a watch without resourceVersion (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if e.Type != watch.Added {
			t.Errorf("initial event %v, want ADDED", e)
		}
	}
}

func TestWatchBookmarks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	cm := mustCreateConfigMap(t, c.kube, ns, "a", nil, nil)
	// The server sends a bookmark shortly (2s) before a watch times out,
	// provided the resource's resourceVersion moved on since the watch
	// started.
	timeout := int64(5)
	w, err := c.kube.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{
		ResourceVersion: cm.ResourceVersion, AllowWatchBookmarks: true, TimeoutSeconds: &timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	elsewhere := mustCreateConfigMap(t, c.kube, newNamespace(t), "elsewhere", nil, nil)
	want, _ := strconv.ParseInt(elsewhere.ResourceVersion, 10, 64)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch ended without a bookmark")
			}
			if e.Type != watch.Bookmark {
				t.Fatalf("unexpected event %s %T", e.Type, e.Object)
			}
			m, err := meta.Accessor(e.Object)
			if err != nil {
				t.Fatal(err)
			}
			if rv, err := strconv.ParseInt(m.GetResourceVersion(), 10, 64); err != nil || rv < want {
				t.Errorf("bookmark resourceVersion %q, want >= %d (a configmap change the watch does not select)", m.GetResourceVersion(), want)
			}
			return
		case <-deadline:
			t.Fatal("no bookmark within 20s")
		}
	}
}

func TestWatchListInitialEventsBookmark(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	mustCreateConfigMap(t, c.kube, ns, "a", nil, nil)
	mustCreateConfigMap(t, c.kube, ns, "b", nil, nil)
	w, err := c.kube.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{
		AllowWatchBookmarks: true, SendInitialEvents: ptr(true), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
	})
	if err != nil {
		t.Fatalf("watch with sendInitialEvents: %v", err)
	}
	defer w.Stop()
	var added []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed; added %v", added)
			}
			switch e.Type {
			case watch.Added:
				added = append(added, e.Object.(*corev1.ConfigMap).Name)
			case watch.Bookmark:
				m, _ := meta.Accessor(e.Object)
				if m.GetAnnotations()[metav1.InitialEventsAnnotationKey] != "true" {
					continue
				}
				if diff := cmp.Diff([]string{"a", "b"}, sorted(added)); diff != "" {
					t.Errorf("initial events before the initial-events-end bookmark (-want +got):\n%s", diff)
				}
				return
			default:
				t.Fatalf("unexpected event %s: %v", e.Type, e.Object)
			}
		case <-timeout:
			t.Fatalf("no initial-events-end bookmark; added %v", added)
		}
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	var want []string
	for i := 0; i < 7; i++ {
		name := fmt.Sprintf("page-%d", i)
		mustCreateConfigMap(t, c.kube, ns, name, nil, nil)
		want = append(want, name)
	}

	var got []string
	var sizes []int
	// Without selectors, so that the server counts the remaining items.
	opts := metav1.ListOptions{Limit: 3}
	var firstRV string
	for {
		page, err := c.kube.CoreV1().ConfigMaps(ns).List(ctx, opts)
		if err != nil {
			t.Fatalf("list page %d: %v", len(sizes)+1, err)
		}
		if firstRV == "" {
			firstRV = page.ResourceVersion
			if page.RemainingItemCount == nil || *page.RemainingItemCount != 4 {
				t.Errorf("remainingItemCount of the first page = %v, want 4", page.RemainingItemCount)
			}
		} else if page.ResourceVersion != firstRV {
			t.Errorf("page %d resourceVersion %s, want the first page's %s", len(sizes)+1, page.ResourceVersion, firstRV)
		}
		sizes = append(sizes, len(page.Items))
		for _, item := range page.Items {
			got = append(got, item.Name)
		}
		if page.Continue == "" {
			break
		}
		if len(sizes) > 5 {
			t.Fatalf("too many pages: %v", sizes)
		}
		opts.Continue = page.Continue
		// Objects created after the first page are not in the listing.
		if len(sizes) == 1 {
			mustCreateConfigMap(t, c.kube, ns, "page-late", nil, nil)
		}
	}
	if diff := cmp.Diff([]int{3, 3, 1}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged names (-want +got):\n%s", diff)
	}

	// A malformed continue token is refused.
	_, err := c.kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{Limit: 3, Continue: "not-a-token"})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("list with a malformed continue token: err = %v, want 400 BadRequest", err)
	}
}

func TestStaleUpdateConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	cms := c.kube.CoreV1().ConfigMaps(ns)
	v1 := mustCreateConfigMap(t, c.kube, ns, "cm", nil, map[string]string{"v": "1"})
	v2 := v1.DeepCopy()
	v2.Data["v"] = "2"
	if _, err := cms.Update(ctx, v2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale := v1.DeepCopy()
	stale.Data["v"] = "stale"
	_, err := cms.Update(ctx, stale, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		t.Fatalf("update with stale resourceVersion %s: err = %v, want 409 Conflict", v1.ResourceVersion, err)
	}
	got, err := cms.Get(ctx, "cm", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["v"] != "2" {
		t.Errorf("after the refused update data.v = %q, want 2", got.Data["v"])
	}
	// Through controller-runtime too.
	stale.ResourceVersion = v1.ResourceVersion
	if err := c.ctrl.Update(ctx, stale); !apierrors.IsConflict(err) {
		t.Errorf("controller-runtime update with stale resourceVersion: err = %v, want 409 Conflict", err)
	}
	// A stale precondition on delete conflicts as well.
	err = cms.Delete(ctx, "cm", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &v1.ResourceVersion}})
	if !apierrors.IsConflict(err) {
		t.Errorf("delete with stale resourceVersion precondition: err = %v, want 409 Conflict", err)
	}
}
