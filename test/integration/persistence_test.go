package integration

import (
	"context"
	"strconv"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestPersistenceAcrossRestart writes objects, restarts the nucleus on the
// same data directory and checks that everything is still there.
func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	// Without the controllers that would write to the objects stored here
	// (the scheduler marks a pod unschedulable), so resourceVersions stay.
	e := testenv.Start(t, quietControllers)
	cl, err := newClients(e)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := metav1.NamespaceDefault

	createEstablishedCRD(t, cl.config, crd("apps", "deployments", "Deployment"))
	createEstablishedCRD(t, cl.config, crd("example.com", "widgets", "Widget"))
	type stored struct {
		gvr  schema.GroupVersionResource
		name string
		uid  string
		rv   string
	}
	var objects []stored
	maxRV := int64(0)
	remember := func(r schema.GroupVersionResource, u *unstructured.Unstructured) {
		objects = append(objects, stored{r, u.GetName(), string(u.GetUID()), u.GetResourceVersion()})
		if n, err := strconv.ParseInt(u.GetResourceVersion(), 10, 64); err == nil && n > maxRV {
			maxRV = n
		}
	}
	for _, rc := range resourceCases {
		if !rc.namespaced || rc.gvr.Resource == "events" {
			continue
		}
		if _, err := cl.dynamic.Resource(rc.gvr).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1}); apierrors.IsNotFound(err) {
			continue // not served yet
		}
		u, err := cl.dynamic.Resource(rc.gvr).Namespace(ns).Create(ctx, rc.object(ns, "persisted"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating %s persisted: %v", rc.gvr.Resource, err)
		}
		remember(rc.gvr, settled(t, rc, cl.dynamic.Resource(rc.gvr).Namespace(ns), u))
	}
	for _, r := range []struct {
		gvr schema.GroupVersionResource
		obj *unstructured.Unstructured
	}{
		{gvr("apps", "v1", "deployments"), deployment(ns, "persisted")},
		{gvr("example.com", "v1", "widgets"), &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]interface{}{"name": "persisted"},
			"spec": map[string]interface{}{"replicas": int64(3)},
		}}},
	} {
		u, err := cl.dynamic.Resource(r.gvr).Namespace(ns).Create(ctx, r.obj, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating %s persisted: %v", r.gvr.Resource, err)
		}
		remember(r.gvr, u)
	}
	// An object deleted before the restart stays deleted.
	mustCreateConfigMap(t, cl.kube, ns, "deleted", nil, nil)
	if err := cl.kube.CoreV1().ConfigMaps(ns).Delete(ctx, "deleted", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if err := e.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	t.Logf("restart took %v", time.Since(start))

	for _, o := range objects {
		var u *unstructured.Unstructured
		// Custom resources are served once the CRD informer has synced.
		poll(t, 30*time.Second, o.gvr.Resource+" persisted after the restart", func(ctx context.Context) (bool, error) {
			var err error
			u, err = cl.dynamic.Resource(o.gvr).Namespace(ns).Get(ctx, o.name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) && o.gvr.Group != "" && o.gvr.Group != "coordination.k8s.io" && o.gvr.Group != "discovery.k8s.io" {
				return false, nil
			}
			return err == nil, err
		})
		if string(u.GetUID()) != o.uid || u.GetResourceVersion() != o.rv {
			t.Errorf("%s %s after restart: uid %s rv %s, want uid %s rv %s", o.gvr.Resource, o.name, u.GetUID(), u.GetResourceVersion(), o.uid, o.rv)
		}
	}
	if _, err := cl.kube.CoreV1().ConfigMaps(ns).Get(ctx, "deleted", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("configmap deleted before the restart: err = %v, want NotFound", err)
	}
	for _, name := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if _, err := cl.kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s after restart: %v", name, err)
		}
	}

	// New writes get higher resourceVersions than any before the restart.
	after := mustCreateConfigMap(t, cl.kube, ns, "after-restart", nil, nil)
	if n, err := strconv.ParseInt(after.ResourceVersion, 10, 64); err != nil || n <= maxRV {
		t.Errorf("resourceVersion after the restart %s, want > %d", after.ResourceVersion, maxRV)
	}
	list, err := cl.kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.ParseInt(list.ResourceVersion, 10, 64); n < maxRV {
		t.Errorf("list resourceVersion after the restart %s, want >= %d", list.ResourceVersion, maxRV)
	}

	// The custom resources are writable again.
	w, err := cl.dynamic.Resource(gvr("example.com", "v1", "widgets")).Namespace(ns).Get(ctx, "persisted", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(w.Object, int64(4), "spec", "replicas")
	if _, err := cl.dynamic.Resource(gvr("example.com", "v1", "widgets")).Namespace(ns).Update(ctx, w, metav1.UpdateOptions{}); err != nil {
		t.Errorf("updating the Widget after the restart: %v", err)
	}
}
