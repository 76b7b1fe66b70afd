package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// crd returns a namespaced CRD with one served version v1 whose spec keeps
// unknown fields, with the status and scale subresources.
func crd(group, plural, kind string) *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind, ListKind: kind + "List", Singular: strings.ToLower(kind)},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {Type: "object", XPreserveUnknownFields: &preserve, Properties: map[string]apiextensionsv1.JSONSchemaProps{
							"replicas": {Type: "integer"},
						}},
						"status": {Type: "object", XPreserveUnknownFields: &preserve, Properties: map[string]apiextensionsv1.JSONSchemaProps{
							"replicas": {Type: "integer"},
						}},
					},
				}},
				Subresources: &apiextensionsv1.CustomResourceSubresources{
					Status: &apiextensionsv1.CustomResourceSubresourceStatus{},
					Scale:  &apiextensionsv1.CustomResourceSubresourceScale{SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas"},
				},
			}},
		},
	}
}

// createEstablishedCRD creates (or reuses, if it exists with the same
// spec) a CRD and waits until it is Established and its resource is served.
func createEstablishedCRD(t testing.TB, cfg *rest.Config, def *apiextensionsv1.CustomResourceDefinition) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	ctx := context.Background()
	client, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	created, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, def, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating CRD %s: %v", def.Name, err)
	}
	poll(t, time.Minute, "CRD "+def.Name+" to be established", func(ctx context.Context) (bool, error) {
		got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, def.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				created = got
				return true, nil
			}
		}
		return false, nil
	})
	// Established means the handler serves it; discovery follows shortly.
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gv := def.Spec.Group + "/" + def.Spec.Versions[0].Name
	poll(t, time.Minute, gv+" "+def.Spec.Names.Plural+" in discovery", func(ctx context.Context) (bool, error) {
		list, err := dc.ServerResourcesForGroupVersion(gv)
		if err != nil {
			return false, nil
		}
		for _, r := range list.APIResources {
			if r.Name == def.Spec.Names.Plural {
				return true, nil
			}
		}
		return false, nil
	})
	return created
}

func deployment(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]interface{}{"name": name, "namespace": ns},
		"spec": map[string]interface{}{
			"replicas": int64(2),
			"selector": map[string]interface{}{"matchLabels": map[string]interface{}{"app": name}},
			"template": map[string]interface{}{
				"metadata": map[string]interface{}{"labels": map[string]interface{}{"app": name}},
				"spec": map[string]interface{}{"containers": []interface{}{
					container("app", "app:1"), container("sidecar", "sidecar:1"),
				}},
			},
		},
	}}
}

// containerImages returns name → image of spec.template.spec.containers.
func containerImages(t testing.TB, u *unstructured.Unstructured) map[string]string {
	t.Helper()
	containers, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ctr := range containers {
		m := ctr.(map[string]interface{})
		out[m["name"].(string)], _ = m["image"].(string)
	}
	return out
}

func TestCRDInBuiltinGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	created := createEstablishedCRD(t, c.config, crd("apps", "deployments", "Deployment"))
	crds, err := apiextensionsclient.NewForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("helm upgrade", func(t *testing.T) {
		// An update of the CRD, as `helm upgrade` sends it, is accepted.
		poll(t, 30*time.Second, "the CRD update to succeed", func(ctx context.Context) (bool, error) {
			cur, err := crds.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, created.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			cur.Labels = map[string]string{"app.kubernetes.io/managed-by": "Helm"}
			cur.Spec.Names.ShortNames = []string{"deploy"}
			cur.Spec.Names.Categories = []string{"all"}
			_, err = crds.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, cur, metav1.UpdateOptions{})
			if apierrors.IsConflict(err) {
				return false, nil // the status controllers wrote in between
			}
			return err == nil, err
		})
		// And so is an apply of the whole manifest.
		manifest := crd("apps", "deployments", "Deployment")
		manifest.TypeMeta = metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}
		manifest.Spec.Names.ShortNames = []string{"deploy"}
		manifest.Spec.Names.Categories = []string{"all"}
		body, err := json.Marshal(manifest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := crds.ApiextensionsV1().CustomResourceDefinitions().Patch(ctx, manifest.Name, types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: "helm", Force: ptr(true)}); err != nil {
			t.Errorf("server-side apply of the apps CRD: %v", err)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		resp := c.do(t, http.MethodGet, "/apis", "", nil)
		var groups metav1.APIGroupList
		if err := json.Unmarshal(resp.body, &groups); err != nil {
			t.Fatalf("GET /apis: %v %s", err, resp.body)
		}
		var apps *metav1.APIGroup
		for i := range groups.Groups {
			if groups.Groups[i].Name == "apps" {
				apps = &groups.Groups[i]
			}
		}
		if apps == nil || apps.PreferredVersion.GroupVersion != "apps/v1" {
			t.Errorf("/apis group apps = %+v, want it with preferred version apps/v1", apps)
		}
		resp = c.do(t, http.MethodGet, "/apis/apps", "", nil)
		if resp.status != http.StatusOK {
			t.Errorf("GET /apis/apps: %d %s", resp.status, resp.body)
		}

		dc, err := discovery.NewDiscoveryClientForConfig(c.config)
		if err != nil {
			t.Fatal(err)
		}
		_, resources, err := dc.ServerGroupsAndResources()
		if err != nil {
			t.Fatalf("ServerGroupsAndResources: %v", err)
		}
		found := map[string]bool{}
		for _, list := range resources {
			if list.GroupVersion == "apps/v1" {
				for _, r := range list.APIResources {
					found[r.Name] = true
				}
			}
		}
		for _, want := range []string{"deployments", "deployments/status", "deployments/scale"} {
			if !found[want] {
				t.Errorf("client-go discovery of apps/v1 lacks %s (has %v)", want, keys(found))
			}
		}
	})

	t.Run("strategic merge patch", func(t *testing.T) {
		ns := newNamespace(t)
		deployments := c.dynamic.Resource(gvr("apps", "v1", "deployments")).Namespace(ns)
		if _, err := deployments.Create(ctx, deployment(ns, "web"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating the Deployment: %v", err)
		}
		patch := `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2"}]}}}}`
		patched, err := deployments.Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("strategic merge patch of the Deployment: %v", err)
		}
		want := map[string]string{"app": "app:2", "sidecar": "sidecar:1"}
		if diff := cmp.Diff(want, containerImages(t, patched)); diff != "" {
			t.Errorf("containers after the patch (-want +got):\n%s", diff)
		}
		got, err := deployments.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, containerImages(t, got)); diff != "" {
			t.Errorf("stored containers after the patch (-want +got):\n%s", diff)
		}

		// kubectl rollout restart: a strategic merge patch adding an annotation.
		restart := `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}}}}}`
		if _, err := deployments.Patch(ctx, "web", types.StrategicMergePatchType, []byte(restart), metav1.PatchOptions{}); err != nil {
			t.Errorf("rollout-restart patch: %v", err)
		}
		// A strategic merge patch with a stale resourceVersion conflicts.
		stale := `{"metadata":{"resourceVersion":"` + got.GetResourceVersion() + `"},"spec":{"replicas":5}}`
		if _, err := deployments.Patch(ctx, "web", types.StrategicMergePatchType, []byte(stale), metav1.PatchOptions{}); !apierrors.IsConflict(err) {
			t.Errorf("strategic merge patch pinned to a stale resourceVersion: err = %v, want 409 Conflict", err)
		}
		// The status subresource takes strategic merge patches too.
		status := `{"status":{"replicas":2}}`
		if _, err := deployments.Patch(ctx, "web", types.StrategicMergePatchType, []byte(status), metav1.PatchOptions{}, "status"); err != nil {
			t.Errorf("strategic merge patch of the status: %v", err)
		}
		// Scale works through the scale subresource.
		scale, err := deployments.Get(ctx, "web", metav1.GetOptions{}, "scale")
		if err != nil {
			t.Fatalf("getting the scale: %v", err)
		}
		if replicas, _, _ := unstructured.NestedInt64(scale.Object, "spec", "replicas"); replicas != 2 {
			t.Errorf("scale spec.replicas = %d, want 2", replicas)
		}
	})

	t.Run("scale and status subresources through the typed client", func(t *testing.T) {
		ns := newNamespace(t)
		deployments := c.dynamic.Resource(gvr("apps", "v1", "deployments")).Namespace(ns)
		if _, err := deployments.Create(ctx, deployment(ns, "scaled"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating the Deployment: %v", err)
		}
		scale, err := c.kube.AppsV1().Deployments(ns).GetScale(ctx, "scaled", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("GetScale: %v", err)
		}
		scale.Spec.Replicas = 4
		if _, err := c.kube.AppsV1().Deployments(ns).UpdateScale(ctx, "scaled", scale, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("UpdateScale: %v", err)
		}
		d, err := c.kube.AppsV1().Deployments(ns).Get(ctx, "scaled", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("typed get of the Deployment custom resource: %v", err)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 4 {
			t.Errorf("replicas after UpdateScale = %v, want 4", d.Spec.Replicas)
		}
		if len(d.Spec.Template.Spec.Containers) != 2 {
			t.Errorf("typed Deployment containers = %v, want 2", d.Spec.Template.Spec.Containers)
		}
	})
}

func TestCRDGroupWithoutDot(t *testing.T) {
	t.Parallel()
	client, err := apiextensionsclient.NewForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.ApiextensionsV1().CustomResourceDefinitions().Create(context.Background(), crd("foo", "bars", "Bar"), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "should be a domain with at least one dot") {
		t.Errorf("CRD in group foo: err = %v, want 422 mentioning \"should be a domain with at least one dot\"", err)
	}
	if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), "bars.foo", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused CRD exists: err = %v", err)
	}
}

func TestCRDStrategicMergePatchUnsupported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	createEstablishedCRD(t, c.config, crd("example.com", "widgets", "Widget"))
	ns := newNamespace(t)
	widgets := c.dynamic.Resource(gvr("example.com", "v1", "widgets")).Namespace(ns)
	w := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]interface{}{"name": "w"},
		"spec":     map[string]interface{}{"replicas": int64(1), "color": "red"},
	}}
	if _, err := widgets.Create(ctx, w, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a Widget: %v", err)
	}
	_, err := widgets.Patch(ctx, "w", types.StrategicMergePatchType, []byte(`{"spec":{"color":"blue"}}`), metav1.PatchOptions{})
	if !apierrors.IsUnsupportedMediaType(err) {
		t.Errorf("strategic merge patch of a Widget: err = %v, want 415 UnsupportedMediaType", err)
	}
	patched, err := widgets.Patch(ctx, "w", types.MergePatchType, []byte(`{"spec":{"color":"blue"}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("merge patch of a Widget: %v", err)
	}
	if color, _, _ := unstructured.NestedString(patched.Object, "spec", "color"); color != "blue" {
		t.Errorf("spec.color after the merge patch = %q, want blue", color)
	}
	// Custom resources validate against the schema.
	bad := w.DeepCopy()
	bad.SetName("bad")
	_ = unstructured.SetNestedField(bad.Object, "three", "spec", "replicas")
	if _, err := widgets.Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("Widget with spec.replicas \"three\": err = %v, want 422 Invalid", err)
	}
}
