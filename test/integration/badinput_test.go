package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// status decodes a Status answer.
func (r rawResponse) decodeStatus(t testing.TB) metav1.Status {
	t.Helper()
	var s metav1.Status
	if err := json.Unmarshal(r.body, &s); err != nil || s.Kind != "Status" {
		t.Fatalf("answer %d is not a Status: %v: %s", r.status, err, r.body)
	}
	return s
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	path := "/api/v1/namespaces/" + ns + "/configmaps"
	existing := mustCreateConfigMap(t, c.kube, ns, "existing", nil, map[string]string{"v": "original"})

	bigValue := strings.Repeat("x", 3*1024*1024+1024)
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		wantStatus  int
		// wantCause is a field path that details.causes must name.
		wantCause string
		// created is the name that must not exist afterwards.
		created string
	}{
		{name: "malformed JSON", method: http.MethodPost, path: path, contentType: "application/json",
			body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"malformed"`, wantStatus: http.StatusBadRequest, created: "malformed"},
		{name: "JSON of the wrong shape", method: http.MethodPost, path: path, contentType: "application/json",
			body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"wrong-shape"},"data":["not","a","map"]}`, wantStatus: http.StatusBadRequest, created: "wrong-shape"},
		{name: "malformed YAML", method: http.MethodPost, path: path, contentType: "application/yaml",
			body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad-yaml\n data: [unclosed\n", wantStatus: http.StatusBadRequest, created: "bad-yaml"},
		{name: "kind mismatch", method: http.MethodPost, path: path, contentType: "application/json",
			body: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"kind-mismatch"}}`, wantStatus: http.StatusBadRequest, created: "kind-mismatch"},
		{name: "invalid key", method: http.MethodPost, path: path, contentType: "application/json",
			body:       `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"invalid-key"},"data":{"bad key!":"v"}}`,
			wantStatus: http.StatusUnprocessableEntity, wantCause: "data[bad key!]", created: "invalid-key"},
		{name: "invalid name", method: http.MethodPost, path: path, contentType: "application/json",
			body:       `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_A_DNS_Name"}}`,
			wantStatus: http.StatusUnprocessableEntity, wantCause: "metadata.name", created: "Not_A_DNS_Name"},
		{name: "namespace mismatch", method: http.MethodPost, path: path, contentType: "application/json",
			body:       `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ns-mismatch","namespace":"other"}}`,
			wantStatus: http.StatusBadRequest, created: "ns-mismatch"},
		{name: "oversized body", method: http.MethodPost, path: path, contentType: "application/json",
			body:       `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"oversized"},"data":{"big":"` + bigValue + `"}}`,
			wantStatus: http.StatusRequestEntityTooLarge, created: "oversized"},
		{name: "stale resourceVersion on update", method: http.MethodPut, path: path + "/existing", contentType: "application/json",
			body:       `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"existing","resourceVersion":"1"},"data":{"v":"changed"}}`,
			wantStatus: http.StatusConflict},
		{name: "name mismatch on update", method: http.MethodPut, path: path + "/existing", contentType: "application/json",
			body:       `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"},"data":{"v":"changed"}}`,
			wantStatus: http.StatusBadRequest},
		{name: "unsupported patch content type", method: http.MethodPatch, path: path + "/existing", contentType: "text/plain",
			body: `{"data":{"v":"changed"}}`, wantStatus: http.StatusUnsupportedMediaType},
		{name: "malformed merge patch", method: http.MethodPatch, path: path + "/existing", contentType: "application/merge-patch+json",
			body: `{"data":`, wantStatus: http.StatusBadRequest},
		{name: "malformed JSON patch", method: http.MethodPatch, path: path + "/existing", contentType: "application/json-patch+json",
			body: `[{"op":"frobnicate","path":"/data/v"}]`, wantStatus: http.StatusUnprocessableEntity},
		{name: "invalid merge patch result", method: http.MethodPatch, path: path + "/existing", contentType: "application/merge-patch+json",
			body: `{"data":{"bad key!":"v"}}`, wantStatus: http.StatusUnprocessableEntity, wantCause: "data[bad key!]"},
		{name: "apply without field manager", method: http.MethodPatch, path: path + "/existing", contentType: "application/apply-patch+yaml",
			body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: existing\ndata:\n  v: changed\n", wantStatus: http.StatusUnprocessableEntity, wantCause: "fieldManager"},
		{name: "unsupported body content type", method: http.MethodPost, path: path, contentType: "text/plain",
			body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"text-plain"}}`, wantStatus: http.StatusUnsupportedMediaType, created: "text-plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.do(t, tc.method, tc.path, tc.contentType, []byte(tc.body))
			if resp.status != tc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body: %.500s", tc.method, tc.path, resp.status, tc.wantStatus, resp.body)
			}
			status := resp.decodeStatus(t)
			if status.Code != int32(tc.wantStatus) || status.Status != metav1.StatusFailure {
				t.Errorf("Status code %d status %q, want %d Failure", status.Code, status.Status, tc.wantStatus)
			}
			if tc.wantCause != "" {
				var fields []string
				if status.Details != nil {
					for _, cause := range status.Details.Causes {
						fields = append(fields, cause.Field)
					}
				}
				if !contains(fields, tc.wantCause) {
					t.Errorf("details.causes fields = %q, want %q among them; message %q", fields, tc.wantCause, status.Message)
				}
			}
			if tc.created != "" {
				if _, err := c.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), tc.created, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("get %s after the refused request: err = %v, want NotFound", tc.created, err)
				}
			}
			got, err := c.kube.CoreV1().ConfigMaps(ns).Get(context.Background(), "existing", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.ResourceVersion != existing.ResourceVersion || got.Data["v"] != "original" {
				t.Errorf("existing configmap changed by a refused request: rv %s data %v, want rv %s data v=original", got.ResourceVersion, got.Data, existing.ResourceVersion)
			}
		})
	}
}

func TestFieldValidation(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	cms := gvr("", "v1", "configmaps")
	withUnknown := func(name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]interface{}{"name": name, "namespace": ns},
			"data":     map[string]interface{}{"k": "v"},
			"foo":      "bar",
		}}
	}

	warnings := &warningRecorder{}
	cfg := rest.CopyConfig(c.config)
	cfg.WarningHandler = warnings
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	_, err = dyn.Resource(cms).Namespace(ns).Create(ctx, withUnknown("strict"), metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `unknown field "foo"`) {
		t.Errorf("create with an unknown field, Strict: err = %v, want 400 naming unknown field \"foo\"", err)
	}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, "strict", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the strictly refused configmap exists: err = %v", err)
	}

	if _, err := dyn.Resource(cms).Namespace(ns).Create(ctx, withUnknown("warn"), metav1.CreateOptions{FieldValidation: metav1.FieldValidationWarn}); err != nil {
		t.Fatalf("create with an unknown field, Warn: %v", err)
	}
	if w := warnings.all(); !containsSubstring(w, `unknown field "foo"`) {
		t.Errorf("warnings = %q, want one naming unknown field \"foo\"", w)
	}

	before := len(warnings.all())
	if _, err := dyn.Resource(cms).Namespace(ns).Create(ctx, withUnknown("ignore"), metav1.CreateOptions{FieldValidation: metav1.FieldValidationIgnore}); err != nil {
		t.Fatalf("create with an unknown field, Ignore: %v", err)
	}
	if w := warnings.all()[before:]; len(w) != 0 {
		t.Errorf("warnings with Ignore = %q, want none", w)
	}

	// Duplicate fields are refused by Strict as well.
	resp := c.do(t, http.MethodPost, fmt.Sprintf("/api/v1/namespaces/%s/configmaps?fieldValidation=Strict", ns), "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"k":"1"},"data":{"k":"2"}}`))
	if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), `duplicate field \"data\"`) {
		t.Errorf("duplicate field with Strict: status %d body %s, want 400 naming duplicate field \"data\"", resp.status, resp.body)
	}

	// Strict also applies to patches; upstream refuses the patched object
	// as invalid.
	mustCreateConfigMap(t, c.kube, ns, "patched", nil, nil)
	resp = c.do(t, http.MethodPatch, fmt.Sprintf("/api/v1/namespaces/%s/configmaps/patched?fieldValidation=Strict", ns), "application/merge-patch+json",
		[]byte(`{"foo":"bar"}`))
	if resp.status != http.StatusUnprocessableEntity || !strings.Contains(string(resp.body), `unknown field \"foo\"`) {
		t.Errorf("merge patch with an unknown field, Strict: status %d body %s, want 422 naming unknown field \"foo\"", resp.status, resp.body)
	}

	// Nested unknown fields are named by their path.
	requireResource(t, gvr("", "v1", "pods"))
	pod := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]interface{}{"name": "strict-pod", "namespace": ns},
		"spec": map[string]interface{}{
			"foo":        "bar",
			"containers": []interface{}{container("app", "busybox")},
		},
	}}
	_, err = dyn.Resource(gvr("", "v1", "pods")).Namespace(ns).Create(ctx, pod, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `unknown field "spec.foo"`) {
		t.Errorf("pod with spec.foo, Strict: err = %v, want 400 naming unknown field \"spec.foo\"", err)
	}
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
