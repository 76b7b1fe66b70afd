package charts

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const appsChart = "apps"

// renderApps renders charts/apps into strata-system.
func renderApps(t *testing.T, values map[string]any) ([]*unstructured.Unstructured, map[string]string) {
	t.Helper()
	rendered, err := Render(appsChart, Options{Release: "apps", Namespace: "strata-system", Values: values})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Objects(rendered)
	if err != nil {
		t.Fatal(err)
	}
	return objs, rendered
}

func managerCommand(t *testing.T, pod *unstructured.Unstructured) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(pod.Object, "spec", "containers")
	return toStrings(containers[0].(map[string]any)["command"])
}

func TestAppsChartObjects(t *testing.T) {
	crds := []string{"CustomResourceDefinition/deployments.apps", "CustomResourceDefinition/replicasets.apps"}
	rest := []string{"ServiceAccount/strata-apps", "Service/strata-apps-webhook", "MutatingWebhookConfiguration/strata-apps", "ValidatingWebhookConfiguration/strata-apps"}
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{{
		name: "defaults: one manager pod, the unserve hook",
		want: []string{"Pod/strata-apps-crds-unserve", "Pod/strata-apps-manager"},
	}, {
		name:   "three replicas: the first keeps its name",
		values: map[string]any{"replicas": 3},
		want:   []string{"Pod/strata-apps-crds-unserve", "Pod/strata-apps-manager", "Pod/strata-apps-manager-1", "Pod/strata-apps-manager-2"},
	}, {
		name:   "CRDs deleted on uninstall: no hook",
		values: map[string]any{"crds": map[string]any{"keepOnUninstall": false}},
		want:   []string{"Pod/strata-apps-manager"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, _ := renderApps(t, tt.values)
			var pods, others []string
			for _, k := range kinds(objs) {
				if strings.HasPrefix(k, "Pod/") {
					pods = append(pods, k)
				} else if !strings.HasPrefix(k, "CustomResourceDefinition/") {
					others = append(others, k)
				}
			}
			if diff := cmp.Diff(tt.want, pods); diff != "" {
				t.Errorf("pods (-want +got):\n%s", diff)
			}
			var gotCRDs []string
			for _, k := range kinds(objs) {
				if strings.HasPrefix(k, "CustomResourceDefinition/") {
					gotCRDs = append(gotCRDs, k)
				}
			}
			if diff := cmp.Diff(crds, gotCRDs); diff != "" {
				t.Errorf("CRDs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(rest, sortedLike(rest, others)); diff != "" {
				t.Errorf("other objects (-want +got):\n%s", diff)
			}
		})
	}
}

// sortedLike returns got ordered as want where they share elements.
func sortedLike(want, got []string) []string {
	var out []string
	for _, w := range want {
		for _, g := range got {
			if g == w {
				out = append(out, g)
			}
		}
	}
	for _, g := range got {
		found := false
		for _, w := range want {
			found = found || g == w
		}
		if !found {
			out = append(out, g)
		}
	}
	return out
}

func TestAppsChartManagers(t *testing.T) {
	objs, _ := renderApps(t, map[string]any{"replicas": 2, "logLevel": 3})
	svc := Find(objs, "Service", "strata-apps-webhook")
	selector, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	for _, name := range []string{"strata-apps-manager", "strata-apps-manager-1"} {
		pod := Find(objs, "Pod", name)
		if pod == nil {
			t.Fatalf("no Pod %s", name)
		}
		cmd := managerCommand(t, pod)
		for _, want := range []string{"--leader-elect", "--v=3"} {
			if !contains(cmd, want) {
				t.Errorf("pod %s runs %v, without %s", name, cmd, want)
			}
		}
		for k, v := range selector {
			if pod.GetLabels()[k] != v {
				t.Errorf("pod %s lacks the label %s=%s the webhook Service selects", name, k, v)
			}
		}
	}
	// The default log level is 0.
	objs, _ = renderApps(t, nil)
	if cmd := managerCommand(t, Find(objs, "Pod", "strata-apps-manager")); !contains(cmd, "--v=0") {
		t.Errorf("the manager runs %v, want --v=0 by default", cmd)
	}
}

func TestAppsChartRefuses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"two replicas without leader election", map[string]any{"replicas": 2, "leaderElection": false}, "replicas is 2 but leaderElection is false"},
		{"no replica", map[string]any{"replicas": 0}, "replicas"},
		{"a negative log level", map[string]any{"logLevel": -1}, "logLevel"},
		{"an unknown crds key", map[string]any{"crds": map[string]any{"keep": true}}, "crds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(appsChart, Options{Release: "apps", Namespace: "strata-system", Values: tt.values})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("rendering with %v: error %v, want one naming %q", tt.values, err, tt.want)
			}
		})
	}
	// One replica without leader election is fine.
	if _, err := Render(appsChart, Options{Release: "apps", Namespace: "strata-system", Values: map[string]any{"leaderElection": false}}); err != nil {
		t.Errorf("one replica without leader election: %v", err)
	}
}

func TestAppsChartCRDs(t *testing.T) {
	for _, keep := range []bool{true, false} {
		objs, notes := renderApps(t, map[string]any{"crds": map[string]any{"keepOnUninstall": keep}})
		for _, name := range []string{"deployments", "replicasets"} {
			crd := Find(objs, "CustomResourceDefinition", name+".apps")
			if crd == nil {
				t.Fatalf("no CRD %s.apps", name)
			}
			if got := crd.GetAnnotations()["helm.sh/resource-policy"] == "keep"; got != keep {
				t.Errorf("keepOnUninstall=%t: CRD %s.apps annotated helm.sh/resource-policy: keep = %t", keep, name, got)
			}
			if crd.GetLabels()["strata.io/layer"] != "apps" {
				t.Errorf("CRD %s.apps labels %v, want strata.io/layer=apps among them", name, crd.GetLabels())
			}
			// The spec is config/crd/bases' (make manifests writes the template).
			raw, err := os.ReadFile("../config/crd/bases/apps_" + name + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			var base map[string]any
			if err := yaml.Unmarshal(raw, &base); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(base["spec"], crd.Object["spec"]); diff != "" {
				t.Errorf("CRD %s.apps differs from config/crd/bases (run make manifests) (-base +chart):\n%s", name, diff)
			}
		}
		text := notes["apps/templates/NOTES.txt"]
		if keep {
			if !strings.Contains(text, "keeps their CRDs unserved") {
				t.Errorf("NOTES.txt does not say what uninstall keeps:\n%s", text)
			}
		} else if !strings.Contains(text, "WARNING: crds.keepOnUninstall is false") {
			t.Errorf("NOTES.txt does not warn that uninstall deletes every Deployment:\n%s", text)
		}
	}
}

func TestAppsChartUnserveHook(t *testing.T) {
	objs, _ := renderApps(t, map[string]any{"image": map[string]any{"repository": "strata.local/strata", "tag": "1.2.3", "pullPolicy": "Never"}})
	hook := Find(objs, "Pod", "strata-apps-crds-unserve")
	if hook == nil {
		t.Fatal("no hook Pod strata-apps-crds-unserve")
	}
	wantAnnotations := map[string]string{
		"helm.sh/hook":               "pre-delete",
		"helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
	}
	if diff := cmp.Diff(wantAnnotations, hook.GetAnnotations()); diff != "" {
		t.Errorf("hook annotations (-want +got):\n%s", diff)
	}
	containers, _, _ := unstructured.NestedSlice(hook.Object, "spec", "containers")
	c := containers[0].(map[string]any)
	if diff := cmp.Diff([]string{"strata", "crds", "unserve", "deployments.apps", "replicasets.apps", "--v=0"}, toStrings(c["command"])); diff != "" {
		t.Errorf("hook command (-want +got):\n%s", diff)
	}
	if c["image"] != "strata.local/strata:1.2.3" || c["imagePullPolicy"] != "Never" {
		t.Errorf("hook image %v (%v), want the manager's strata.local/strata:1.2.3 (Never)", c["image"], c["imagePullPolicy"])
	}
	spec, _, _ := unstructured.NestedMap(hook.Object, "spec")
	if spec["restartPolicy"] != "Never" || spec["serviceAccountName"] != "strata-apps" {
		t.Errorf("hook restartPolicy %v, serviceAccountName %v; want Never (Helm waits for Succeeded) and strata-apps", spec["restartPolicy"], spec["serviceAccountName"])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
