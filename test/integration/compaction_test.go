package integration

import (
	"context"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestCompactedResourceVersion compacts etcd and checks that lists and
// watches at a compacted resourceVersion answer 410 Gone. The watch cache
// keeps the history it saw and does not notice a compaction by another etcd
// client, so the nucleus is restarted after the compaction, as after an
// upgrade: its caches then start at the current revision and older reads go
// to etcd. It has its own nucleus so that the compaction does not disturb
// other tests.
func TestCompactedResourceVersion(t *testing.T) {
	t.Parallel()
	e := testenv.Start(t, quietControllers)
	cl, err := newClients(e)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := metav1.NamespaceDefault
	cms := cl.kube.CoreV1().ConfigMaps(ns)
	old := mustCreateConfigMap(t, cl.kube, ns, "old", nil, map[string]string{"v": "1"})
	mustCreateConfigMap(t, cl.kube, ns, "other", nil, nil)
	firstPage, err := cms.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if firstPage.Continue == "" {
		t.Fatalf("a list with limit 1 of 2 configmaps has no continue token")
	}
	oldRV := old.ResourceVersion
	for i := 0; i < 3; i++ {
		old.Data["v"] = strconv.Itoa(i + 2)
		updated, err := cms.Update(ctx, old, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		old = updated
	}
	latest := mustCreateConfigMap(t, cl.kube, ns, "latest", nil, nil)
	rev, err := strconv.ParseInt(latest.ResourceVersion, 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	etcd, err := e.Etcd()
	if err != nil {
		t.Fatalf("connecting to etcd: %v", err)
	}
	_, err = etcd.Compact(ctx, rev)
	etcd.Close()
	if err != nil {
		t.Fatalf("compacting etcd at %d: %v", rev, err)
	}
	if err := e.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}

	isGone := func(err error) bool { return apierrors.IsResourceExpired(err) || apierrors.IsGone(err) }
	// The exact state at a compacted revision is gone.
	_, err = cms.List(ctx, metav1.ListOptions{ResourceVersion: oldRV, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !isGone(err) {
		t.Errorf("list at compacted resourceVersion %s (Exact): err = %v, want 410 Gone", oldRV, err)
	}
	// So is the continuation of a list started before the compaction.
	_, err = cms.List(ctx, metav1.ListOptions{Limit: 1, Continue: firstPage.Continue})
	if !isGone(err) {
		t.Errorf("continuing a list at compacted resourceVersion %s: err = %v, want 410 Gone", firstPage.ResourceVersion, err)
	}

	// A watch from a compacted revision fails with 410, either as the
	// answer or as an ERROR event.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: oldRV})
	if err != nil {
		if !isGone(err) {
			t.Errorf("watch from compacted resourceVersion %s: err = %v, want 410 Gone", oldRV, err)
		}
	} else {
		defer w.Stop()
		ev := firstEvent(t, w)
		if status, ok := ev.Object.(*metav1.Status); ev.Type != watch.Error || !ok || status.Code != 410 {
			t.Errorf("first event of a watch from compacted resourceVersion %s = %s %+v, want ERROR with code 410", oldRV, ev.Type, ev.Object)
		}
	}

	// The compaction revision itself and the current state are readable.
	list, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: latest.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if err != nil {
		t.Errorf("list at the compaction revision %s: %v", latest.ResourceVersion, err)
	} else if len(list.Items) != 3 {
		t.Errorf("list at the compaction revision has %d configmaps, want 3", len(list.Items))
	}
	if _, err := cms.List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list after compaction: %v", err)
	}
	w2, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: latest.ResourceVersion})
	if err != nil {
		t.Fatalf("watch from the compaction revision: %v", err)
	}
	defer w2.Stop()
	mustCreateConfigMap(t, cl.kube, ns, "after", nil, nil)
	if ev := firstEvent(t, w2); ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Name != "after" {
		t.Errorf("first event of a watch from the compaction revision = %s %v, want ADDED after", ev.Type, ev.Object)
	}
}
