package charts

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const dnsChart = "dns"

// renderDNS renders charts/dns into strata-system.
func renderDNS(t *testing.T, values map[string]any, apiVersions ...string) []*unstructured.Unstructured {
	t.Helper()
	rendered, err := Render(dnsChart, Options{Release: "dns", Namespace: "strata-system", Values: values, APIVersions: apiVersions})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Objects(rendered)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

func corefile(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	cm := Find(objs, "ConfigMap", "coredns")
	if cm == nil {
		t.Fatal("no ConfigMap coredns")
	}
	s, _, _ := unstructured.NestedString(cm.Object, "data", "Corefile")
	return s
}

const (
	appsServed = "apps/v1/Deployment"
	rbacServed = "rbac.authorization.k8s.io/v1/ClusterRole"
)

func TestDNSChartObjects(t *testing.T) {
	tests := []struct {
		name        string
		values      map[string]any
		apiVersions []string
		want        []string
	}{{
		name: "a bare nucleus: a Pod, no RBAC",
		want: []string{"ConfigMap/coredns", "Service/kube-dns", "ServiceAccount/coredns", "Pod/coredns"},
	}, {
		name:        "with the apps layer: a Deployment",
		apiVersions: []string{appsServed},
		want:        []string{"ConfigMap/coredns", "Service/kube-dns", "ServiceAccount/coredns", "Deployment/coredns"},
	}, {
		name:        "a Pod asked for although Deployments are served",
		values:      map[string]any{"workload": "Pod"},
		apiVersions: []string{appsServed},
		want:        []string{"ConfigMap/coredns", "Service/kube-dns", "ServiceAccount/coredns", "Pod/coredns"},
	}, {
		name:        "with the RBAC layer: the ClusterRole and its binding",
		apiVersions: []string{rbacServed},
		want:        []string{"ConfigMap/coredns", "ClusterRole/system:coredns", "ClusterRoleBinding/system:coredns", "Service/kube-dns", "ServiceAccount/coredns", "Pod/coredns"},
	}, {
		name:        "RBAC served but rbac.create false",
		values:      map[string]any{"rbac": map[string]any{"create": false}},
		apiVersions: []string{rbacServed},
		want:        []string{"ConfigMap/coredns", "Service/kube-dns", "ServiceAccount/coredns", "Pod/coredns"},
	}, {
		name:   "rbac.force without a cluster",
		values: map[string]any{"rbac": map[string]any{"force": true}},
		want:   []string{"ConfigMap/coredns", "ClusterRole/system:coredns", "ClusterRoleBinding/system:coredns", "Service/kube-dns", "ServiceAccount/coredns", "Pod/coredns"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kinds(renderDNS(t, tt.values, tt.apiVersions...))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDNSChartService(t *testing.T) {
	svc := Find(renderDNS(t, nil), "Service", "kube-dns")
	if svc == nil {
		t.Fatal("no Service kube-dns")
	}
	if got := svc.GetNamespace(); got != "strata-system" {
		t.Errorf("namespace %q, want the release namespace", got)
	}
	ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP")
	if ip != "10.96.0.10" {
		t.Errorf("clusterIP %q, want 10.96.0.10", ip)
	}
	selector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	if diff := cmp.Diff(map[string]string{"k8s-app": "kube-dns"}, selector); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	var got []string
	for _, p := range ports {
		m := p.(map[string]any)
		got = append(got, strings.Join([]string{m["name"].(string), m["protocol"].(string), fmt.Sprint(m["port"]), fmt.Sprint(m["targetPort"])}, " "))
	}
	want := []string{"dns UDP 53 dns", "dns-tcp TCP 53 dns-tcp", "metrics TCP 9153 metrics"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}

	svc = Find(renderDNS(t, map[string]any{"clusterIP": "10.96.0.53"}), "Service", "kube-dns")
	if ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP"); ip != "10.96.0.53" {
		t.Errorf("clusterIP %q, want the value 10.96.0.53", ip)
	}
}

func TestDNSChartPod(t *testing.T) {
	for _, tt := range []struct {
		name        string
		apiVersions []string
		kind        string
		path        []string
	}{
		{"Pod", nil, "Pod", []string{"spec"}},
		{"Deployment", []string{appsServed}, "Deployment", []string{"spec", "template", "spec"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obj := Find(renderDNS(t, nil, tt.apiVersions...), tt.kind, "coredns")
			if obj == nil {
				t.Fatalf("no %s coredns", tt.kind)
			}
			spec, _, _ := unstructured.NestedMap(obj.Object, tt.path...)
			containers := spec["containers"].([]any)
			c := containers[0].(map[string]any)
			got := map[string]any{
				"serviceAccountName": spec["serviceAccountName"],
				"dnsPolicy":          spec["dnsPolicy"],
				"image":              c["image"],
				"args":               c["args"],
			}
			want := map[string]any{
				"serviceAccountName": "coredns",
				"dnsPolicy":          "Default",
				"image":              "strata.local/coredns:1.15.0",
				"args":               []any{"-conf", "/etc/coredns/Corefile"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pod spec (-want +got):\n%s", diff)
			}
			labels, _, _ := unstructured.NestedStringMap(obj.Object, append(tt.path[:len(tt.path)-1:len(tt.path)-1], "metadata", "labels")...)
			if tt.kind == "Pod" {
				labels = obj.GetLabels()
			}
			if labels["k8s-app"] != "kube-dns" {
				t.Errorf("pod labels %v: no k8s-app=kube-dns, the Service's selector", labels)
			}
		})
	}
}

func TestDNSChartRBACRules(t *testing.T) {
	for _, tt := range []struct {
		pods string
		want []string
	}{
		{"insecure", []string{"/services list,watch", "/namespaces list,watch", "discovery.k8s.io/endpointslices list,watch"}},
		{"verified", []string{"/services list,watch", "/namespaces list,watch", "/pods list,watch", "discovery.k8s.io/endpointslices list,watch"}},
	} {
		t.Run(tt.pods, func(t *testing.T) {
			objs := renderDNS(t, map[string]any{"pods": tt.pods}, rbacServed)
			role := Find(objs, "ClusterRole", "system:coredns")
			rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
			var got []string
			for _, r := range rules {
				m := r.(map[string]any)
				verbs := strings.Join(toStrings(m["verbs"]), ",")
				for _, g := range toStrings(m["apiGroups"]) {
					for _, res := range toStrings(m["resources"]) {
						got = append(got, g+"/"+res+" "+verbs)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			binding := Find(objs, "ClusterRoleBinding", "system:coredns")
			subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
			wantSubjects := []any{map[string]any{"kind": "ServiceAccount", "name": "coredns", "namespace": "strata-system"}}
			if diff := cmp.Diff(wantSubjects, subjects); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
		})
	}
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestDNSChartCorefile(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{{
		name: "defaults",
		want: `.:53 {
    errors
    health :8080 {
        lameduck 5s
    }
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30 {
        disable success cluster.local
        disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`,
	}, {
		name: "everything set",
		values: map[string]any{
			"clusterDomain":         "strata.test",
			"upstreams":             []any{"10.0.0.2", "10.0.0.3:5353"},
			"ttl":                   5,
			"cacheSeconds":          0,
			"pods":                  "verified",
			"ports":                 map[string]any{"dns": 1053, "health": 18080, "ready": 18181, "metrics": 19153},
			"extraKubernetesConfig": "namespaces default\nendpoint_pod_names\n",
			"extraConfig":           "log\n",
		},
		want: `.:1053 {
    errors
    health :18080 {
        lameduck 5s
    }
    ready :18181
    kubernetes strata.test in-addr.arpa ip6.arpa {
        pods verified
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
        namespaces default
        endpoint_pod_names
    }
    prometheus :19153
    forward . 10.0.0.2 10.0.0.3:5353 {
        max_concurrent 1000
    }
    loop
    reload
    loadbalance
    log
}
`,
	}, {
		name:   "no upstreams: no forward",
		values: map[string]any{"upstreams": []any{}, "cacheSeconds": 0},
		want: `.:53 {
    errors
    health :8080 {
        lameduck 5s
    }
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    loop
    reload
    loadbalance
}
`,
	}, {
		name:   "a Corefile of one's own",
		values: map[string]any{"corefile": ".:53 {\n    whoami\n}\n"},
		want:   ".:53 {\n    whoami\n}\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := corefile(t, renderDNS(t, tt.values))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Corefile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDNSChartRejectsBadValues(t *testing.T) {
	for _, values := range []map[string]any{
		{"workload": "DaemonSet"},
		{"pods": "sometimes"},
		{"ttl": 7200},
		{"ports": map[string]any{"dns": 0}},
		{"clusterDomain": "Cluster.Local."},
	} {
		if _, err := Render(dnsChart, Options{Namespace: "strata-system", Values: values}); err == nil {
			t.Errorf("values %v: rendered, want a schema error", values)
		}
	}
}

// TestDNSChartAppVersion keeps the chart's appVersion, the tag of the image,
// at the CoreDNS version hack/tools/coredns builds.
func TestDNSChartAppVersion(t *testing.T) {
	goMod, err := os.ReadFile("../hack/tools/coredns/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^(?:require)?\s*github\.com/coredns/coredns (v\S+)`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("hack/tools/coredns/go.mod requires no github.com/coredns/coredns")
	}
	chart, err := os.ReadFile(dnsChart + "/Chart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := "appVersion: \"" + strings.TrimPrefix(string(m[1]), "v") + "\""
	if !strings.Contains(string(chart), want) {
		t.Errorf("charts/dns/Chart.yaml has no %s (the CoreDNS version of hack/tools/coredns/go.mod)", want)
	}
}

func TestDNSChartNotes(t *testing.T) {
	rendered, err := Render(dnsChart, Options{Release: "dns", Namespace: "strata-system", Values: map[string]any{"clusterIP": "10.96.0.53"}})
	if err != nil {
		t.Fatal(err)
	}
	notes := rendered["dns/templates/NOTES.txt"]
	for _, want := range []string{
		"installed in strata-system", "behind the Service kube-dns at 10.96.0.53",
		"nslookup kubernetes.default.svc.cluster.local", "It should answer from 10.96.0.53",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
}
