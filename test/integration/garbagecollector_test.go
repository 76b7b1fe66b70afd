package integration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// gcWidgets is a custom resource the garbage collector must collect; its CRD
// is installed while the nucleus runs.
var gcWidgets = schema.GroupVersionResource{Group: "gc.example.com", Version: "v1", Resource: "widgets"}

func ownedBy(owner *corev1.ConfigMap, block bool) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, BlockOwnerDeletion: &block}}
}

func createOwnedConfigMap(t *testing.T, ns, name string, owner *corev1.ConfigMap, block bool, finalizers ...string) {
	t.Helper()
	cm := newConfigMap(ns, name, nil, nil)
	cm.OwnerReferences = ownedBy(owner, block)
	cm.Finalizers = finalizers
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func createOwnedWidget(t *testing.T, ns, name string, owner *corev1.ConfigMap) {
	t.Helper()
	w := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "gc.example.com/v1", "kind": "Widget",
		"metadata": map[string]interface{}{"name": name},
	}}
	w.SetOwnerReferences(ownedBy(owner, false))
	if _, err := c.dynamic.Resource(gcWidgets).Namespace(ns).Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitGone(t *testing.T, what string, get func(ctx context.Context) error) {
	t.Helper()
	poll(t, 120*time.Second, what+" to be collected", func(ctx context.Context) (bool, error) {
		err := get(ctx)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

func getConfigMap(ns, name string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		return err
	}
}

func deleteWith(t *testing.T, ns, name string, policy metav1.DeletionPropagation) {
	t.Helper()
	if err := c.kube.CoreV1().ConfigMaps(ns).Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		t.Fatal(err)
	}
}

func TestGarbageCollection(t *testing.T) {
	ctx := context.Background()
	createEstablishedCRD(t, c.config, crd("gc.example.com", "widgets", "Widget"))

	t.Run("background deletion collects built-in and custom dependents", func(t *testing.T) {
		ns := newNamespace(t)
		owner := mustCreateConfigMap(t, c.kube, ns, "owner", nil, nil)
		createOwnedConfigMap(t, ns, "dependent", owner, false)
		createOwnedWidget(t, ns, "dependent-widget", owner)
		deleteWith(t, ns, "owner", metav1.DeletePropagationBackground)
		waitGone(t, "the dependent configmap", getConfigMap(ns, "dependent"))
		waitGone(t, "the dependent widget", func(ctx context.Context) error {
			_, err := c.dynamic.Resource(gcWidgets).Namespace(ns).Get(ctx, "dependent-widget", metav1.GetOptions{})
			return err
		})
	})

	t.Run("foreground deletion waits for blocking dependents", func(t *testing.T) {
		ns := newNamespace(t)
		owner := mustCreateConfigMap(t, c.kube, ns, "owner", nil, nil)
		// The finalizer keeps the blocking dependent around until released.
		createOwnedConfigMap(t, ns, "blocker", owner, true, "gc.example.com/hold")
		createOwnedConfigMap(t, ns, "plain", owner, false)
		deleteWith(t, ns, "owner", metav1.DeletePropagationForeground)
		waitGone(t, "the non-blocking dependent", getConfigMap(ns, "plain"))
		poll(t, 30*time.Second, "the blocker to be deleted", func(ctx context.Context) (bool, error) {
			b, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "blocker", metav1.GetOptions{})
			return err == nil && b.DeletionTimestamp != nil, err
		})
		got, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "owner", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the owner must wait for its blocking dependent: %v", err)
		}
		if got.DeletionTimestamp == nil || len(got.Finalizers) != 1 || got.Finalizers[0] != metav1.FinalizerDeleteDependents {
			t.Errorf("owner: deletionTimestamp %v finalizers %v, want set and [foregroundDeletion]", got.DeletionTimestamp, got.Finalizers)
		}
		release := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := c.kube.CoreV1().ConfigMaps(ns).Patch(ctx, "blocker", types.MergePatchType, release, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, "the owner", getConfigMap(ns, "owner"))
	})

	t.Run("orphan deletion keeps dependents and drops their references", func(t *testing.T) {
		ns := newNamespace(t)
		owner := mustCreateConfigMap(t, c.kube, ns, "owner", nil, nil)
		createOwnedConfigMap(t, ns, "orphan", owner, false)
		deleteWith(t, ns, "owner", metav1.DeletePropagationOrphan)
		waitGone(t, "the owner", getConfigMap(ns, "owner"))
		poll(t, 30*time.Second, "the orphan's reference to be removed", func(ctx context.Context) (bool, error) {
			o, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "orphan", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return len(o.OwnerReferences) == 0, nil
		})
		// It stays.
		time.Sleep(time.Second)
		if err := getConfigMap(ns, "orphan")(ctx); err != nil {
			t.Errorf("the orphan was deleted: %v", err)
		}
	})

	t.Run("dangling references are collected, solid co-owners keep objects", func(t *testing.T) {
		ns := newNamespace(t)
		alive := mustCreateConfigMap(t, c.kube, ns, "alive", nil, nil)
		ghost := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ghost", UID: "00000000-0000-0000-0000-000000000001"}}
		createOwnedConfigMap(t, ns, "dangling", ghost, false)
		shared := newConfigMap(ns, "shared", nil, nil)
		shared.OwnerReferences = append(ownedBy(alive, false), ownedBy(ghost, false)...)
		if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(ctx, shared, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitGone(t, "the object with a dangling owner", getConfigMap(ns, "dangling"))
		poll(t, 30*time.Second, "the dangling reference to be dropped", func(ctx context.Context) (bool, error) {
			o, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "shared", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return len(o.OwnerReferences) == 1 && o.OwnerReferences[0].UID == alive.UID, nil
		})
	})
}
