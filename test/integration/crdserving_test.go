package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/strata-dev/strata/manager/crdserving"
)

// TestCRDUnservedAndServedAgain is what `helm uninstall` and `helm install`
// of a layer chart do to its CRDs: the chart's pre-delete hook sets
// served: false (strata crds unserve), Helm keeps the CRD, and a later
// install applies it again with served: true. The objects must survive with
// their UIDs, their dependents must be left alone by the garbage collector
// meanwhile and afterwards, and the apply must not conflict. An owner
// deleted right after its kind is served again, before the collector has
// rediscovered the kind, still has its dependents collected.
func TestCRDUnservedAndServedAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gadgets := schema.GroupVersionResource{Group: "serve.example.com", Version: "v1", Resource: "gadgets"}
	crdClient, err := apiextensionsclient.NewForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	crds := crdClient.ApiextensionsV1().CustomResourceDefinitions()

	// helm install: server-side apply as the field manager helm.
	manifest := crd(gadgets.Group, gadgets.Resource, "Gadget")
	manifest.TypeMeta = metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}
	helmApply := func() error {
		body, err := json.Marshal(manifest)
		if err != nil {
			t.Fatal(err)
		}
		_, err = crds.Patch(ctx, manifest.Name, types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "helm", Force: ptr(false)})
		return err
	}
	if err := helmApply(); err != nil {
		t.Fatalf("applying the CRD as helm: %v", err)
	}
	t.Cleanup(func() { _ = crds.Delete(context.Background(), manifest.Name, metav1.DeleteOptions{}) })
	waitDiscovered(t, crdClient, manifest.Name, true)

	ns := newNamespace(t)
	owner := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "serve.example.com/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "owner"}, "spec": map[string]any{"replicas": int64(2)},
	}}
	owner, err = c.dynamic.Resource(gadgets).Namespace(ns).Create(ctx, owner, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gadgetRef := metav1.OwnerReference{APIVersion: "serve.example.com/v1", Kind: "Gadget", Name: "owner", UID: owner.GetUID()}
	dependent := newConfigMap(ns, "dependent", nil, nil)
	dependent.OwnerReferences = []metav1.OwnerReference{gadgetRef}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(ctx, dependent, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	early := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "serve.example.com/v1", "kind": "Gadget",
		"metadata": map[string]any{"name": "early"}, "spec": map[string]any{"replicas": int64(1)},
	}}
	early, err = c.dynamic.Resource(gadgets).Namespace(ns).Create(ctx, early, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	earlyDependent := newConfigMap(ns, "early-dependent", nil, nil)
	earlyDependent.OwnerReferences = []metav1.OwnerReference{{APIVersion: "serve.example.com/v1", Kind: "Gadget", Name: "early", UID: early.GetUID()}}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(ctx, earlyDependent, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// helm uninstall: the pre-delete hook.
	if err := crdserving.Run(ctx, crds, crdClient.Discovery(), []string{manifest.Name, "missing.serve.example.com"}, false, 30*time.Second); err != nil {
		t.Fatalf("unserving: %v", err)
	}
	_, err = c.dynamic.Resource(gadgets).Namespace(ns).Get(ctx, "owner", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("GET of a gadget of the unserved CRD: %v, want NotFound", err)
	}
	kept, err := crds.Get(ctx, manifest.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the CRD is gone: %v", err)
	}
	for _, mf := range kept.ManagedFields {
		if mf.Manager == crdserving.FieldManager {
			t.Errorf("managedFields still have an entry of %s: %+v", crdserving.FieldManager, mf)
		}
	}

	// A dependent the collector must look at while its owner's kind is
	// unserved: its other owner never existed. Were the gadget taken for
	// gone, both owners would be, and it would be deleted.
	late := newConfigMap(ns, "late-dependent", nil, nil)
	ghost := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: uuid.NewUUID()}
	late.OwnerReferences = []metav1.OwnerReference{gadgetRef, ghost}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(ctx, late, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // the collector looks at it at once, and retries
	for _, name := range []string{"dependent", "late-dependent"} {
		cm, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ConfigMap %s, owned by a gadget whose CRD is unserved: %v", name, err)
		}
		if len(cm.OwnerReferences) == 0 || cm.OwnerReferences[0].UID != owner.GetUID() {
			t.Errorf("ConfigMap %s lost its gadget owner: %+v", name, cm.OwnerReferences)
		}
	}

	// helm install again: the same apply, no conflict over served.
	if err := helmApply(); err != nil {
		t.Fatalf("applying the CRD again as helm (no force): %v", err)
	}
	waitDiscovered(t, crdClient, manifest.Name, true)
	// At once, before the collector's rediscovery (every 5s) watches
	// gadgets again: it never sees this deletion as an event.
	if err := c.dynamic.Resource(gadgets).Namespace(ns).Delete(ctx, "early", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting a gadget right after its CRD is served again: %v", err)
	}
	got, err := c.dynamic.Resource(gadgets).Namespace(ns).Get(ctx, "owner", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the gadget after serving again: %v", err)
	}
	if got.GetUID() != owner.GetUID() {
		t.Errorf("the gadget came back with UID %s, want %s", got.GetUID(), owner.GetUID())
	}
	if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "replicas"); r != 2 {
		t.Errorf("the gadget came back with spec.replicas %d, want 2", r)
	}

	// The collector resolves the gadget again: it drops only the ghost.
	poll(t, 90*time.Second, "the collector to remove the ghost owner of late-dependent", func(ctx context.Context) (bool, error) {
		cm, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "late-dependent", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return len(cm.OwnerReferences) == 1 && cm.OwnerReferences[0].UID == owner.GetUID(), nil
	})
	waitGone(t, "ConfigMap early-dependent, whose owner was deleted right after its kind was served again", func(ctx context.Context) error {
		_, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "early-dependent", metav1.GetOptions{})
		return err
	})
	for _, name := range []string{"dependent", "late-dependent"} {
		if _, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("ConfigMap %s after its owner's CRD is served again: %v", name, err)
		}
	}

	// And collection still works for the kind.
	if err := c.dynamic.Resource(gadgets).Namespace(ns).Delete(ctx, "owner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dependent", "late-dependent"} {
		waitGone(t, "ConfigMap "+name, func(ctx context.Context) error {
			_, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
			return err
		})
	}
}

// waitDiscovered waits until discovery lists the CRD's resource (or no
// longer does).
func waitDiscovered(t *testing.T, client apiextensionsclient.Interface, name string, served bool) {
	t.Helper()
	var crd *apiextensionsv1.CustomResourceDefinition
	poll(t, 30*time.Second, "the CRD "+name, func(ctx context.Context) (bool, error) {
		var err error
		crd, err = client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		return err == nil, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := crdserving.WaitDiscovery(ctx, client.Discovery(), crdserving.ResourceOf(crd), served, 100*time.Millisecond); err != nil {
		t.Fatalf("waiting for discovery to list %s = %t: %v", name, served, err)
	}
}
