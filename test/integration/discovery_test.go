package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// anonymousGet sends a request without credentials.
func anonymousGet(t testing.TB, path string) (int, []byte) {
	t.Helper()
	cfg := rest.AnonymousClientConfig(c.config)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(c.url + path)
	if err != nil {
		t.Fatalf("anonymous GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("anonymous GET %s: reading the answer: %v", path, err)
	}
	return resp.StatusCode, body
}

func TestAnonymousAccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path    string
		refused bool
	}{
		{path: "/api/v1/namespaces", refused: true},
		{path: "/api/v1/namespaces/default/configmaps", refused: true},
		{path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", refused: true},
		{path: "/apis", refused: true},
		{path: "/version"},
		{path: "/readyz"},
		{path: "/livez"},
		{path: "/healthz"},
	} {
		status, body := anonymousGet(t, tc.path)
		switch {
		case tc.refused && status != http.StatusUnauthorized && status != http.StatusForbidden:
			t.Errorf("anonymous GET %s: status %d, want 401 or 403; body %.300s", tc.path, status, body)
		case !tc.refused && status != http.StatusOK:
			t.Errorf("anonymous GET %s: status %d, want 200; body %.300s", tc.path, status, body)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	status, body := anonymousGet(t, "/version")
	if status != http.StatusOK {
		t.Fatalf("GET /version: %d %s", status, body)
	}
	var info apimachineryversion.Info
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("decoding /version %s: %v", body, err)
	}
	v, err := version.ParseSemantic(info.GitVersion)
	if err != nil {
		t.Fatalf("gitVersion %q is not semver: %v", info.GitVersion, err)
	}
	if v.Major() != 1 || v.Minor() != 37 {
		t.Errorf("gitVersion %s, want 1.37.x", info.GitVersion)
	}
	if info.Major != "1" || !strings.HasPrefix(info.Minor, "37") {
		t.Errorf("major %q minor %q, want 1 and 37", info.Major, info.Minor)
	}
	sv, err := c.kube.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("client-go ServerVersion: %v", err)
	}
	if sv.GitVersion != info.GitVersion {
		t.Errorf("client-go ServerVersion %s, /version %s", sv.GitVersion, info.GitVersion)
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	resp := c.do(t, http.MethodGet, "/api", "", nil)
	var versions metav1.APIVersions
	if err := json.Unmarshal(resp.body, &versions); err != nil || resp.status != http.StatusOK {
		t.Fatalf("GET /api: %d %v %s", resp.status, err, resp.body)
	}
	if !contains(versions.Versions, "v1") {
		t.Errorf("/api versions %v, want v1", versions.Versions)
	}

	resp = c.do(t, http.MethodGet, "/apis", "", nil)
	var groups metav1.APIGroupList
	if err := json.Unmarshal(resp.body, &groups); err != nil || resp.status != http.StatusOK {
		t.Fatalf("GET /apis: %d %v %s", resp.status, err, resp.body)
	}
	var names []string
	for _, g := range groups.Groups {
		names = append(names, g.Name)
	}
	for _, want := range []string{"apiextensions.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "admissionregistration.k8s.io"} {
		if !contains(names, want) {
			t.Errorf("/apis groups %v, want %s", names, want)
		}
	}

	resp = c.do(t, http.MethodGet, "/api/v1", "", nil)
	var v1 metav1.APIResourceList
	if err := json.Unmarshal(resp.body, &v1); err != nil || resp.status != http.StatusOK {
		t.Fatalf("GET /api/v1: %d %v %s", resp.status, err, resp.body)
	}
	for _, r := range v1.APIResources {
		if r.Name == "configmaps" {
			if !r.Namespaced || r.Kind != "ConfigMap" || !contains(r.ShortNames, "cm") || !contains(r.Verbs, "watch") || !contains(r.Verbs, "patch") {
				t.Errorf("/api/v1 configmaps = %+v, want namespaced kind ConfigMap, short name cm, verbs with watch and patch", r)
			}
		}
	}

	// client-go uses aggregated discovery.
	dc, err := discovery.NewDiscoveryClientForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	apiGroups, resources, err := dc.ServerGroupsAndResources()
	if err != nil {
		t.Fatalf("ServerGroupsAndResources: %v", err)
	}
	var groupNames []string
	for _, g := range apiGroups {
		groupNames = append(groupNames, g.Name)
	}
	if !contains(groupNames, "") || !contains(groupNames, "apiextensions.k8s.io") {
		t.Errorf("aggregated discovery groups %v, want the core group and apiextensions.k8s.io", groupNames)
	}
	found := map[string]bool{}
	for _, list := range resources {
		for _, r := range list.APIResources {
			found[list.GroupVersion+"/"+r.Name] = true
		}
	}
	for _, want := range []string{"v1/configmaps", "apiextensions.k8s.io/v1/customresourcedefinitions", "apiextensions.k8s.io/v1/customresourcedefinitions/status"} {
		if !found[want] {
			t.Errorf("aggregated discovery lacks %s", want)
		}
	}
	// Every resource served under /api/v1 is in aggregated discovery.
	for _, r := range v1.APIResources {
		if !found["v1/"+r.Name] {
			t.Errorf("aggregated discovery lacks v1/%s, which /api/v1 lists", r.Name)
		}
	}
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ path, want string }{
		{"/openapi/v2", `"io.k8s.api.core.v1.ConfigMap"`},
		{"/openapi/v2", `"io.k8s.api.core.v1.Pod"`},
		{"/openapi/v3/api/v1", `"io.k8s.api.core.v1.Pod"`},
		{"/openapi/v3/api/v1", `"io.k8s.api.core.v1.ConfigMap"`},
		{"/openapi/v3/apis/apiextensions.k8s.io/v1", `"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"`},
	} {
		resp := c.do(t, http.MethodGet, tc.path, "", nil)
		if resp.status != http.StatusOK {
			t.Errorf("GET %s: status %d %.300s", tc.path, resp.status, resp.body)
			continue
		}
		if !strings.Contains(string(resp.body), tc.want) {
			t.Errorf("GET %s lacks %s", tc.path, tc.want)
		}
	}
	resp := c.do(t, http.MethodGet, "/openapi/v3", "", nil)
	var paths struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(resp.body, &paths); err != nil || resp.status != http.StatusOK {
		t.Fatalf("GET /openapi/v3: %d %v", resp.status, err)
	}
	if _, ok := paths.Paths["api/v1"]; !ok {
		t.Errorf("/openapi/v3 paths lack api/v1: %v", keys(paths.Paths))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}
