package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// resourceCase is a resource the generic tests exercise, with a minimal valid
// object.
type resourceCase struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
	// fields returns the content, besides apiVersion, kind and metadata, of
	// an object in namespace ns.
	fields func(ns string) map[string]interface{}
	// deleteLeavesObject is true for resources whose deletion is finished
	// by a controller (namespaces wait for their content to be removed).
	deleteLeavesObject bool
	// statusSettled is set for resources whose status a nucleus controller
	// writes right after creation, and tells when it has (resourcequotas:
	// the quota controller fills status.hard and status.used;
	// persistentvolumes: the binder makes them Available — as upstream's
	// controllers do).
	statusSettled func(u *unstructured.Unstructured) bool
}

// settled waits until a controller has written the status of a new object
// of rc (see statusSettled) and returns the object as it then is.
func settled(t testing.TB, rc resourceCase, client dynamic.ResourceInterface, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	if rc.statusSettled == nil {
		return u
	}
	poll(t, 30*time.Second, rc.gvr.Resource+" status to be written", func(ctx context.Context) (bool, error) {
		got, err := client.Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		u = got
		return rc.statusSettled(got), nil
	})
	return u
}

func gvr(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

func container(name, image string) map[string]interface{} {
	return map[string]interface{}{"name": name, "image": image}
}

var resourceCases = []resourceCase{
	{gvr: gvr("", "v1", "configmaps"), kind: "ConfigMap", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"data": map[string]interface{}{"key": "value"}}
	}},
	{gvr: gvr("", "v1", "secrets"), kind: "Secret", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"type": "Opaque", "stringData": map[string]interface{}{"password": "s3cret"}}
	}},
	{gvr: gvr("", "v1", "pods"), kind: "Pod", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"spec": map[string]interface{}{"containers": []interface{}{container("app", "busybox:1.36")}}}
	}},
	{gvr: gvr("", "v1", "services"), kind: "Service", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"spec": map[string]interface{}{"ports": []interface{}{map[string]interface{}{"port": int64(80)}}}}
	}},
	{gvr: gvr("", "v1", "endpoints"), kind: "Endpoints", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"subsets": []interface{}{map[string]interface{}{
			"addresses": []interface{}{map[string]interface{}{"ip": "10.1.2.3"}},
			"ports":     []interface{}{map[string]interface{}{"port": int64(8080)}},
		}}}
	}},
	{gvr: gvr("discovery.k8s.io", "v1", "endpointslices"), kind: "EndpointSlice", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"addressType": "IPv4", "endpoints": []interface{}{
			map[string]interface{}{"addresses": []interface{}{"10.1.2.3"}},
		}}
	}},
	{gvr: gvr("", "v1", "serviceaccounts"), kind: "ServiceAccount", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{}
	}},
	{gvr: gvr("", "v1", "events"), kind: "Event", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{
			"involvedObject": map[string]interface{}{"kind": "ConfigMap", "name": "target", "namespace": ns, "apiVersion": "v1"},
			"reason":         "Testing", "message": "an event", "type": "Normal",
			"source": map[string]interface{}{"component": "integration-test"},
		}
	}},
	{gvr: gvr("events.k8s.io", "v1", "events"), kind: "Event", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{
			"eventTime":           time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
			"reportingController": "example.com/integration-test", "reportingInstance": "test-1",
			"action": "Testing", "reason": "Testing", "note": "an event", "type": "Normal",
			"regarding": map[string]interface{}{"kind": "ConfigMap", "name": "target", "namespace": ns, "apiVersion": "v1"},
		}
	}},
	{gvr: gvr("", "v1", "persistentvolumeclaims"), kind: "PersistentVolumeClaim", namespaced: true, fields: func(ns string) map[string]interface{} {
		// A class no volume has: the binder leaves the claim Pending
		// instead of binding it to the persistentvolumes tested here.
		return map[string]interface{}{"spec": map[string]interface{}{
			"accessModes":      []interface{}{"ReadWriteOnce"},
			"resources":        map[string]interface{}{"requests": map[string]interface{}{"storage": "1Gi"}},
			"storageClassName": "it-never-bound",
		}}
	}},
	{gvr: gvr("", "v1", "resourcequotas"), kind: "ResourceQuota", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"spec": map[string]interface{}{"hard": map[string]interface{}{"pods": "10"}}}
	}, statusSettled: func(u *unstructured.Unstructured) bool {
		_, found, _ := unstructured.NestedMap(u.Object, "status", "used")
		return found
	}},
	{gvr: gvr("", "v1", "limitranges"), kind: "LimitRange", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"spec": map[string]interface{}{"limits": []interface{}{
			map[string]interface{}{"type": "Container", "max": map[string]interface{}{"cpu": "2"}},
		}}}
	}},
	{gvr: gvr("", "v1", "podtemplates"), kind: "PodTemplate", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"template": map[string]interface{}{
			"spec": map[string]interface{}{"containers": []interface{}{container("app", "busybox:1.36")}},
		}}
	}},
	{gvr: gvr("coordination.k8s.io", "v1", "leases"), kind: "Lease", namespaced: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"spec": map[string]interface{}{"holderIdentity": "me", "leaseDurationSeconds": int64(15)}}
	}},
	{gvr: gvr("", "v1", "namespaces"), kind: "Namespace", deleteLeavesObject: true, fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{}
	}},
	{gvr: gvr("", "v1", "nodes"), kind: "Node", fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"spec": map[string]interface{}{"podCIDR": "10.244.1.0/24"}}
	}},
	{gvr: gvr("", "v1", "persistentvolumes"), kind: "PersistentVolume", fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{"spec": map[string]interface{}{
			"capacity":    map[string]interface{}{"storage": "1Gi"},
			"accessModes": []interface{}{"ReadWriteOnce"},
			"hostPath":    map[string]interface{}{"path": "/tmp/pv"},
		}}
	}, statusSettled: func(u *unstructured.Unstructured) bool {
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		return phase == "Available"
	}},
	{gvr: gvr("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations"), kind: "ValidatingWebhookConfiguration", fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{}
	}},
	{gvr: gvr("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"), kind: "MutatingWebhookConfiguration", fields: func(ns string) map[string]interface{} {
		return map[string]interface{}{}
	}},
}

// object returns a new object of the resource named name (or generated from
// generateName if name ends with "-") in namespace ns.
func (rc resourceCase) object(ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: rc.fields(ns)}
	u.SetAPIVersion(schema.GroupVersion{Group: rc.gvr.Group, Version: rc.gvr.Version}.String())
	u.SetKind(rc.kind)
	if strings.HasSuffix(name, "-") {
		u.SetGenerateName(name)
	} else {
		u.SetName(name)
	}
	if rc.namespaced {
		u.SetNamespace(ns)
	}
	return u
}

// client returns the dynamic client of the resource in ns.
func (rc resourceCase) client(ns string) dynamic.ResourceInterface {
	if rc.namespaced {
		return c.dynamic.Resource(rc.gvr).Namespace(ns)
	}
	return c.dynamic.Resource(rc.gvr)
}

// uniqueName returns a name no other test uses, as cluster-scoped resources
// share one namespace.
func uniqueName(prefix string) string {
	return prefix + "-" + rand.String(6)
}

func TestResources(t *testing.T) {
	t.Parallel()
	for _, rc := range resourceCases {
		t.Run(rc.gvr.GroupResource().String(), func(t *testing.T) {
			t.Parallel()
			requireResource(t, rc.gvr)
			ns := ""
			if rc.namespaced {
				ns = newNamespace(t)
			}
			t.Run("CRUD", func(t *testing.T) { testCRUD(t, rc, ns) })
			t.Run("GenerateName", func(t *testing.T) { testGenerateName(t, rc, ns) })
			t.Run("Finalizers", func(t *testing.T) { testFinalizers(t, rc, ns) })
			t.Run("OwnerReferences", func(t *testing.T) { testOwnerReferences(t, rc, ns) })
			t.Run("Selectors", func(t *testing.T) { testSelectors(t, rc, ns) })
		})
	}
}

func testCRUD(t *testing.T, rc resourceCase, ns string) {
	ctx := context.Background()
	client := rc.client(ns)
	name := uniqueName("crud")
	obj := rc.object(ns, name)
	obj.SetLabels(map[string]string{"test": "crud"})
	created, err := client.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if created.GetUID() == "" || created.GetResourceVersion() == "" || created.GetCreationTimestamp().Time.IsZero() {
		t.Errorf("created object lacks uid, resourceVersion or creationTimestamp: %v", created.Object["metadata"])
	}
	created = settled(t, rc, client, created)
	if _, err := client.Create(ctx, rc.object(ns, name), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create of %s: err = %v, want AlreadyExists (409)", name, err)
	}

	got, err := client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	if got.GetUID() != created.GetUID() || got.GetResourceVersion() != created.GetResourceVersion() {
		t.Errorf("get %s = uid %s rv %s, want uid %s rv %s", name, got.GetUID(), got.GetResourceVersion(), created.GetUID(), created.GetResourceVersion())
	}

	list, err := client.List(ctx, metav1.ListOptions{LabelSelector: "test=crud"})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if names := itemNames(list); !contains(names, name) {
		t.Errorf("list with label test=crud = %v, want it to contain %s", names, name)
	}

	got.SetLabels(map[string]string{"test": "crud", "updated": "yes"})
	updated, err := client.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update %s: %v", name, err)
	}
	if updated.GetLabels()["updated"] != "yes" {
		t.Errorf("updated labels = %v, want updated=yes", updated.GetLabels())
	}
	if updated.GetResourceVersion() == created.GetResourceVersion() {
		t.Errorf("update kept resourceVersion %s", updated.GetResourceVersion())
	}

	if err := client.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
	after, err := client.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err == nil && rc.deleteLeavesObject && after.GetDeletionTimestamp() != nil:
	case err == nil:
		t.Errorf("get after delete: object still there without deletionTimestamp")
	default:
		t.Errorf("get after delete: err = %v, want NotFound", err)
	}
	if err := client.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) && !rc.deleteLeavesObject {
		t.Errorf("second delete: err = %v, want NotFound", err)
	}
}

func testGenerateName(t *testing.T, rc resourceCase, ns string) {
	ctx := context.Background()
	client := rc.client(ns)
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		created, err := client.Create(ctx, rc.object(ns, "gen-"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create with generateName gen-: %v", err)
		}
		name := created.GetName()
		if !strings.HasPrefix(name, "gen-") || len(name) <= len("gen-") {
			t.Errorf("generated name %q, want gen- followed by a suffix", name)
		}
		if seen[name] {
			t.Errorf("generated name %q twice", name)
		}
		seen[name] = true
		if _, err := client.Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("get generated %s: %v", name, err)
		}
	}
}

func testFinalizers(t *testing.T, rc resourceCase, ns string) {
	ctx := context.Background()
	client := rc.client(ns)
	name := uniqueName("fin")
	obj := rc.object(ns, name)
	obj.SetFinalizers([]string{"example.com/hold"})
	if _, err := client.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if err := client.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
	held, err := client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s after delete with a finalizer: %v (want the object, with deletionTimestamp)", name, err)
	}
	if held.GetDeletionTimestamp() == nil {
		t.Errorf("deletionTimestamp not set after delete with a finalizer")
	}
	if diff := cmp.Diff([]string{"example.com/hold"}, held.GetFinalizers()); diff != "" {
		t.Errorf("finalizers (-want +got):\n%s", diff)
	}
	// No new finalizers once deletion started. A controller may write the
	// object's status meanwhile (resource quotas): a conflict is retried
	// on the latest version.
	for attempt := 0; ; attempt++ {
		held.SetFinalizers([]string{"example.com/hold", "example.com/other"})
		_, err := client.Update(ctx, held, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 10 {
			if held, err = client.Get(ctx, name, metav1.GetOptions{}); err != nil {
				t.Fatalf("get %s: %v", name, err)
			}
			continue
		}
		if !apierrors.IsInvalid(err) {
			t.Errorf("adding a finalizer to a deleted object: err = %v, want 422 Invalid", err)
		}
		break
	}
	patch := []byte(`{"metadata":{"finalizers":null}}`)
	if _, err := client.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("removing the finalizer: %v", err)
	}
	if rc.deleteLeavesObject {
		return
	}
	if _, err := client.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after removing the last finalizer: err = %v, want NotFound", err)
	}
}

func testOwnerReferences(t *testing.T, rc resourceCase, ns string) {
	ctx := context.Background()
	client := rc.client(ns)
	name := uniqueName("owned")
	// The owners do not exist, but no CRD serves example.com/v1 Widgets:
	// the garbage collector cannot resolve that owner and leaves the object
	// alone instead of collecting it on a guess.
	owners := []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: types.UID("3e2b6c1a-0000-4000-8000-000000000001"), Controller: ptr(true), BlockOwnerDeletion: ptr(true)},
		{APIVersion: "example.com/v1", Kind: "Widget", Name: "other", UID: types.UID("3e2b6c1a-0000-4000-8000-000000000002")},
	}
	obj := rc.object(ns, name)
	obj.SetOwnerReferences(owners)
	created, err := client.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if diff := cmp.Diff(owners, created.GetOwnerReferences()); diff != "" {
		t.Errorf("ownerReferences in the create answer (-want +got):\n%s", diff)
	}
	got, err := client.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	if diff := cmp.Diff(owners, got.GetOwnerReferences()); diff != "" {
		t.Errorf("stored ownerReferences (-want +got):\n%s", diff)
	}
	// Two controllers are invalid.
	bad := rc.object(ns, uniqueName("owned"))
	bad.SetOwnerReferences([]metav1.OwnerReference{owners[0], {APIVersion: "v1", Kind: "ConfigMap", Name: "b", UID: "u2", Controller: ptr(true)}})
	if _, err := client.Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("create with two controller ownerReferences: err = %v, want 422 Invalid", err)
	}
}

func testSelectors(t *testing.T, rc resourceCase, ns string) {
	ctx := context.Background()
	client := rc.client(ns)
	run := rand.String(6)
	var names []string
	for i, color := range []string{"red", "red", "blue"} {
		name := uniqueName("sel")
		obj := rc.object(ns, name)
		obj.SetLabels(map[string]string{"run": run, "color": color, "index": string(rune('0' + i))})
		if _, err := client.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		names = append(names, name)
	}
	for _, tc := range []struct {
		labels, fields string
		want           []string
	}{
		{labels: "run=" + run + ",color=red", want: names[:2]},
		{labels: "run=" + run + ",color!=red", want: names[2:]},
		{labels: "run=" + run + ",color in (red,blue),index notin (0)", want: names[1:]},
		{labels: "run=" + run + ",!color"},
		{labels: "run=" + run, fields: "metadata.name=" + names[1], want: names[1:2]},
		{labels: "run=" + run, fields: "metadata.name!=" + names[1], want: []string{names[0], names[2]}},
	} {
		list, err := client.List(ctx, metav1.ListOptions{LabelSelector: tc.labels, FieldSelector: tc.fields})
		if err != nil {
			t.Errorf("list labels %q fields %q: %v", tc.labels, tc.fields, err)
			continue
		}
		if diff := cmp.Diff(sorted(tc.want), sorted(itemNames(list))); diff != "" {
			t.Errorf("list labels %q fields %q (-want +got):\n%s", tc.labels, tc.fields, diff)
		}
	}
	if rc.namespaced {
		list, err := client.List(ctx, metav1.ListOptions{LabelSelector: "run=" + run, FieldSelector: "metadata.namespace=" + ns})
		if err != nil {
			t.Fatalf("list with metadata.namespace: %v", err)
		}
		if diff := cmp.Diff(sorted(names), sorted(itemNames(list))); diff != "" {
			t.Errorf("list fields metadata.namespace=%s (-want +got):\n%s", ns, diff)
		}
	}
	_, err := client.List(ctx, metav1.ListOptions{FieldSelector: "spec.noSuchField=x"})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("list with an unknown field selector: err = %v, want 400 BadRequest", err)
	}
}

func itemNames(list *unstructured.UnstructuredList) []string {
	var names []string
	for _, item := range list.Items {
		names = append(names, item.GetName())
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// poll waits until cond is true, failing the test after timeout.
func poll(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// pollErr waits until cond is true and returns the error if it never is.
func pollErr(timeout time.Duration, cond func(ctx context.Context) (bool, error)) error {
	return wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, cond)
}
