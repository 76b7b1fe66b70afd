package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// A new namespace gets the default ServiceAccount and the root CA bundle;
// both come back when deleted.
func TestServiceAccountControllerKeepsDefaults(t *testing.T) {
	ctx := context.Background()
	// The shared nucleus runs without this controller.
	e := testenv.Start(t)
	c, err := newClients(e)
	if err != nil {
		t.Fatal(err)
	}
	ns := "it-sa-defaults"
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(e.DataDir, "pki", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	waitForDefaults := func(what string) {
		t.Helper()
		poll(t, 30*time.Second, what, func(ctx context.Context) (bool, error) {
			_, err := c.kube.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			cm, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			return cm.Data["ca.crt"] == string(caPEM), nil
		})
	}
	waitForDefaults("the default ServiceAccount and kube-root-ca.crt")

	if err := c.kube.CoreV1().ServiceAccounts(ns).Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.kube.CoreV1().ConfigMaps(ns).Delete(ctx, "kube-root-ca.crt", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForDefaults("the deleted defaults to come back")

	// A changed bundle is put back.
	patch := []byte(`{"data":{"ca.crt":"tampered"}}`)
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Patch(ctx, "kube-root-ca.crt", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForDefaults("the CA bundle to be restored")
}

// Deleting a namespace deletes its content — built-in objects and custom
// resources — waits for their finalizers, reports progress in conditions
// and finally removes the namespace.
func TestNamespaceDeletionRemovesContent(t *testing.T) {
	ctx := context.Background()
	createEstablishedCRD(t, c.config, crd("ctrl.example.com", "widgets", "Widget"))
	widgets := schema.GroupVersionResource{Group: "ctrl.example.com", Version: "v1", Resource: "widgets"}
	ns := newNamespace(t)

	mustCreateConfigMap(t, c.kube, ns, "settings", nil, map[string]string{"a": "b"})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}
	if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	widget := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "ctrl.example.com/v1", "kind": "Widget",
		"metadata": map[string]interface{}{"name": "held", "finalizers": []interface{}{"ctrl.example.com/hold"}},
		"spec":     map[string]interface{}{"replicas": int64(1)},
	}}
	if _, err := c.dynamic.Resource(widgets).Namespace(ns).Create(ctx, widget, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := c.kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The finalizer holds the widget, and the namespace says so.
	var cond *corev1.NamespaceCondition
	poll(t, 30*time.Second, "the namespace to report the remaining finalizer", func(ctx context.Context) (bool, error) {
		got, err := c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for i := range got.Status.Conditions {
			if got.Status.Conditions[i].Type == corev1.NamespaceFinalizersRemaining && got.Status.Conditions[i].Status == corev1.ConditionTrue {
				cond = &got.Status.Conditions[i]
			}
		}
		return cond != nil, nil
	})
	if want := "Some content in the namespace has finalizers remaining: ctrl.example.com/hold in 1 resource instances"; cond.Message != want || cond.Reason != "SomeFinalizersRemain" {
		t.Errorf("condition %s: reason %q message %q, want SomeFinalizersRemain %q", cond.Type, cond.Reason, cond.Message, want)
	}
	for _, check := range []struct {
		what string
		err  func() error
	}{
		{"configmap", func() error {
			_, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
			return err
		}},
		{"pod", func() error { _, err := c.kube.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{}); return err }},
	} {
		if err := check.err(); !apierrors.IsNotFound(err) {
			t.Errorf("%s in the terminating namespace: err = %v, want NotFound", check.what, err)
		}
	}
	// Nothing new may be created meanwhile.
	_, err := c.kube.CoreV1().ConfigMaps(ns).Create(ctx, newConfigMap(ns, "late", nil, nil), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "because it is being terminated") {
		t.Errorf("creating in a terminating namespace: %v, want Forbidden ... because it is being terminated", err)
	}

	// Releasing the finalizer lets the namespace go.
	release := []byte(`{"metadata":{"finalizers":null}}`)
	if _, err := c.dynamic.Resource(widgets).Namespace(ns).Patch(ctx, "held", types.MergePatchType, release, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "the namespace to be deleted", func(ctx context.Context) (bool, error) {
		_, err := c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}
