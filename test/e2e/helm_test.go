/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
)

// helmBin is upstream helm (`make helm`); HELM_BIN chooses another. The
// tests that need it are skipped when it is missing.
var helmBin = binary("HELM_BIN", "../../bin/helm")

const (
	appsChart = "../../charts/apps"
	// layersNamespace is the namespace the layer charts install into.
	layersNamespace = "strata-system"
	helmTimeout     = 2 * time.Minute
)

// helm runs bin/helm against the cluster.
type helm struct {
	// stdin, if set, is helm's standard input.
	stdin string
}

func requireHelm(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(helmBin); err != nil {
		t.Skipf("SKIP: %s is missing: run `make helm` (or `make test-e2e`, which builds it) or set HELM_BIN", helmBin)
	}
}

// environ is the environment of every helm run: the admin kubeconfig, the
// kubectl runs' HOME (helm keeps its cache and config below it) and none of
// the caller's HELM_* settings.
func (helm) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "KUBECONFIG" || name == "HOME" || strings.HasPrefix(name, "HELM_") || strings.HasPrefix(name, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "KUBECONFIG="+cluster.kubeconfig(), "HOME="+cluster.home)
}

func (h helm) try(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), helmTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, helmBin, args...)
	cmd.Env = h.environ()
	if h.stdin != "" {
		cmd.Stdin = strings.NewReader(h.stdin)
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("$ helm %s", strings.Join(args, " "))
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func (h helm) run(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := h.try(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// renderedObject is an object of helm template's output.
type renderedObject struct {
	*unstructured.Unstructured
	raw []byte
}

// objectsOf splits helm template's output into its objects.
func objectsOf(t *testing.T, manifest string) []renderedObject {
	t.Helper()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	var objs []renderedObject
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("reading helm template's output: %v", err)
		}
		json, err := utilyaml.ToJSON(doc)
		if err != nil {
			t.Fatalf("reading helm template's output: %v\n%s", err, doc)
		}
		if len(bytes.TrimSpace(json)) == 0 || string(bytes.TrimSpace(json)) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(json); err != nil {
			t.Fatalf("reading helm template's output: %v\n%s", err, doc)
		}
		objs = append(objs, renderedObject{Unstructured: u, raw: json})
	}
}

// kindsAndNames lists objs as "Kind/name".
func kindsAndNames(objs []renderedObject) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

// decode converts the object of kind and name in objs into into.
func decode(t *testing.T, objs []renderedObject, kind, name string, into runtime.Object) {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, into, true); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return
		}
	}
	t.Fatalf("no %s %s in %v", kind, name, kindsAndNames(objs))
}

var rbacKinds = []string{
	"ClusterRole/strata-apps-manager", "ClusterRoleBinding/strata-apps-manager",
	"Role/strata-apps-manager", "RoleBinding/strata-apps-manager",
}

// TestHelmChartApps lints the apps layer's chart, checks what it renders,
// dry-runs it against the nucleus, and installs, upgrades and uninstalls it
// with the real helm.
func TestHelmChartApps(t *testing.T) {
	requireHelm(t)
	h := helm{}
	mustContain(t, h.run(t, "version", "--short"), "v4.3.1")

	t.Run("lint", func(t *testing.T) {
		mustContain(t, h.run(t, "lint", "--strict", appsChart), "1 chart(s) linted, 0 chart(s) failed")
		// values.schema.json refuses what the API server would.
		_, errOut, err := h.try(t, "template", "apps", appsChart, "--set", "webhook.failurePolicy=Never")
		if err == nil {
			t.Errorf("helm template with webhook.failurePolicy=Never succeeded, want the schema to refuse it")
		}
		mustContain(t, errOut, "/webhook/failurePolicy")
	})

	t.Run("template", func(t *testing.T) {
		objs := objectsOf(t, h.run(t, "template", "apps", appsChart, "-n", layersNamespace))
		// In Helm's install order; the pre-delete hook last.
		want := []string{
			"ServiceAccount/strata-apps",
			"CustomResourceDefinition/deployments.apps", "CustomResourceDefinition/replicasets.apps",
			"Service/strata-apps-webhook", "Pod/strata-apps-manager",
			"MutatingWebhookConfiguration/strata-apps", "ValidatingWebhookConfiguration/strata-apps",
			"Pod/strata-apps-crds-unserve",
		}
		if diff := cmp.Diff(want, kindsAndNames(objs)); diff != "" {
			t.Errorf("helm template rendered (-want +got):\n%s", diff)
		}
		// The CRDs are templates (so helm upgrade updates them) with
		// config/crd/bases' spec (make manifests writes them), kept by
		// helm uninstall.
		for _, name := range []string{"deployments", "replicasets"} {
			var base, chart apiextensionsv1.CustomResourceDefinition
			decode(t, objectsOf(t, readFile(t, "../../config/crd/bases/apps_"+name+".yaml")), "CustomResourceDefinition", name+".apps", &base)
			decode(t, objs, "CustomResourceDefinition", name+".apps", &chart)
			if diff := cmp.Diff(base.Spec, chart.Spec); diff != "" {
				t.Errorf("the chart's CRD %s.apps differs from config/crd/bases (run make manifests) (-base +chart):\n%s", name, diff)
			}
			if got := chart.Annotations["helm.sh/resource-policy"]; got != "keep" {
				t.Errorf("CRD %s.apps: helm.sh/resource-policy %q, want keep", name, got)
			}
		}
		// With crds.keepOnUninstall=false they are ordinary objects of the
		// release and no hook unserves them.
		for _, o := range objectsOf(t, h.run(t, "template", "apps", appsChart, "-n", layersNamespace, "--set", "crds.keepOnUninstall=false")) {
			if o.GetAnnotations()["helm.sh/resource-policy"] != "" || o.GetName() == "strata-apps-crds-unserve" {
				t.Errorf("with crds.keepOnUninstall=false the chart renders %s %s with annotations %v", o.GetKind(), o.GetName(), o.GetAnnotations())
			}
		}

		var pod corev1.Pod
		decode(t, objs, "Pod", "strata-apps-manager", &pod)
		wantCommand := []string{"strata", "manager", "--layers", "apps", "--namespace", "$(POD_NAMESPACE)", "--leader-elect",
			"--metrics-bind-address", ":8080", "--health-probe-bind-address", ":8081",
			"--webhook-port", "9443", "--webhook-service", "strata-apps-webhook", "--v=0"}
		if diff := cmp.Diff(wantCommand, pod.Spec.Containers[0].Command); diff != "" {
			t.Errorf("the manager's command (-want +got):\n%s", diff)
		}
		if got := pod.Spec.Containers[0].Image; got != "strata:0.1.0-dev" {
			t.Errorf("the manager's image is %q, want strata:0.1.0-dev (the chart's appVersion)", got)
		}
		var svc corev1.Service
		decode(t, objs, "Service", "strata-apps-webhook", &svc)
		for k, v := range svc.Spec.Selector {
			if pod.Labels[k] != v {
				t.Errorf("the Service selects %s=%s, which the manager pod does not carry (%v)", k, v, pod.Labels)
			}
		}

		service := func(path string) admissionregistrationv1.WebhookClientConfig {
			return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: layersNamespace, Name: "strata-apps-webhook", Path: ptr.To(path), Port: ptr.To[int32](443)}}
		}
		rules := func(resource string) []admissionregistrationv1.RuleWithOperations {
			return []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{resource}},
			}}
		}
		mutating := func(name, path, resource string) admissionregistrationv1.MutatingWebhook {
			return admissionregistrationv1.MutatingWebhook{
				Name: name, ClientConfig: service(path), Rules: rules(resource),
				FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
				SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
				TimeoutSeconds:          ptr.To[int32](10),
				AdmissionReviewVersions: []string{"v1"},
			}
		}
		validating := func(name, path, resource string) admissionregistrationv1.ValidatingWebhook {
			m := mutating(name, path, resource)
			return admissionregistrationv1.ValidatingWebhook{
				Name: m.Name, ClientConfig: m.ClientConfig, Rules: m.Rules, FailurePolicy: m.FailurePolicy,
				SideEffects: m.SideEffects, TimeoutSeconds: m.TimeoutSeconds, AdmissionReviewVersions: m.AdmissionReviewVersions,
			}
		}
		var mwc admissionregistrationv1.MutatingWebhookConfiguration
		decode(t, objs, "MutatingWebhookConfiguration", "strata-apps", &mwc)
		if diff := cmp.Diff([]admissionregistrationv1.MutatingWebhook{
			mutating("mdeployment-v1.apps.strata.io", "/mutate-apps-v1-deployment", "deployments"),
			mutating("mreplicaset-v1.apps.strata.io", "/mutate-apps-v1-replicaset", "replicasets"),
		}, mwc.Webhooks); diff != "" {
			t.Errorf("mutating webhooks (-want +got):\n%s", diff)
		}
		var vwc admissionregistrationv1.ValidatingWebhookConfiguration
		decode(t, objs, "ValidatingWebhookConfiguration", "strata-apps", &vwc)
		if diff := cmp.Diff([]admissionregistrationv1.ValidatingWebhook{
			validating("vdeployment-v1.apps.strata.io", "/validate-apps-v1-deployment", "deployments"),
			validating("vreplicaset-v1.apps.strata.io", "/validate-apps-v1-replicaset", "replicasets"),
		}, vwc.Webhooks); diff != "" {
			t.Errorf("validating webhooks (-want +got):\n%s", diff)
		}
		// And they are the webhooks controller-gen generates from the
		// markers (config/webhook/manifests.yaml), which the manager
		// re-creates when missing, pointed at the chart's Service.
		generated := objectsOf(t, readFile(t, "../../config/webhook/manifests.yaml"))
		var genM admissionregistrationv1.MutatingWebhookConfiguration
		decode(t, generated, "MutatingWebhookConfiguration", "mutating-webhook-configuration", &genM)
		// Only the apps layer's: layers scaffolded with kubebuilder add theirs
		// to the same file (docs/write-your-own-layer.md).
		genM.Webhooks = slices.DeleteFunc(genM.Webhooks, func(w admissionregistrationv1.MutatingWebhook) bool { return !appsRules(w.Rules) })
		for i, w := range genM.Webhooks {
			genM.Webhooks[i].ClientConfig = service(*w.ClientConfig.Service.Path)
			genM.Webhooks[i].TimeoutSeconds = ptr.To[int32](10)
		}
		if diff := cmp.Diff(genM.Webhooks, mwc.Webhooks); diff != "" {
			t.Errorf("mutating webhooks differ from config/webhook/manifests.yaml (-generated +chart):\n%s", diff)
		}
		var genV admissionregistrationv1.ValidatingWebhookConfiguration
		decode(t, generated, "ValidatingWebhookConfiguration", "validating-webhook-configuration", &genV)
		genV.Webhooks = slices.DeleteFunc(genV.Webhooks, func(w admissionregistrationv1.ValidatingWebhook) bool { return !appsRules(w.Rules) })
		for i, w := range genV.Webhooks {
			genV.Webhooks[i].ClientConfig = service(*w.ClientConfig.Service.Path)
			genV.Webhooks[i].TimeoutSeconds = ptr.To[int32](10)
		}
		if diff := cmp.Diff(genV.Webhooks, vwc.Webhooks); diff != "" {
			t.Errorf("validating webhooks differ from config/webhook/manifests.yaml (-generated +chart):\n%s", diff)
		}
		for _, labels := range []map[string]string{mwc.Labels, vwc.Labels} {
			if labels["strata.io/layer"] != "apps" {
				t.Errorf("a webhook configuration is labelled %v, want strata.io/layer=apps among them", labels)
			}
		}
	})

	t.Run("RBAC only where it is served", func(t *testing.T) {
		for _, tc := range []struct {
			args     []string
			wantRBAC bool
		}{
			// helm template's default capabilities name every group/version
			// client-go knows but no kinds: no RBAC.
			{nil, false},
			{[]string{"--api-versions", "rbac.authorization.k8s.io/v1/ClusterRole"}, true},
			{[]string{"--set", "rbac.force=true"}, true},
			{[]string{"--api-versions", "rbac.authorization.k8s.io/v1/ClusterRole", "--set", "rbac.create=false"}, false},
		} {
			got := kindsAndNames(objectsOf(t, h.run(t, append([]string{"template", "apps", appsChart, "-n", layersNamespace}, tc.args...)...)))
			for _, kind := range rbacKinds {
				if slices.Contains(got, kind) != tc.wantRBAC {
					t.Errorf("helm template %v: %s rendered = %t, want %t", tc.args, kind, !tc.wantRBAC, tc.wantRBAC)
				}
			}
		}
		// The nucleus serves no RBAC yet, so an install against it renders
		// none (checked on the release below).
		for _, o := range objectsOf(t, h.run(t, "template", "apps", appsChart, "-n", layersNamespace, "--set", "rbac.force=true")) {
			if o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "RoleBinding" {
				continue
			}
			// Both kinds have the same subjects and roleRef.
			var rb rbacv1.RoleBinding
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &rb); err != nil {
				t.Fatal(err)
			}
			want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "strata-apps", Namespace: layersNamespace}}
			if diff := cmp.Diff(want, rb.Subjects); diff != "" {
				t.Errorf("%s %s subjects (-want +got):\n%s", o.GetKind(), o.GetName(), diff)
			}
			if rb.RoleRef.Name != "strata-apps-manager" {
				t.Errorf("%s %s binds %v, want strata-apps-manager", o.GetKind(), o.GetName(), rb.RoleRef)
			}
		}
	})

	t.Run("RBAC grants what the markers ask for", func(t *testing.T) {
		// config/rbac/role.yaml is generated from the +kubebuilder:rbac
		// markers of the controllers and the manager; the chart's roles
		// must allow every rule in it.
		var granted []rbacv1.PolicyRule
		for _, o := range objectsOf(t, h.run(t, "template", "apps", appsChart, "-n", layersNamespace, "--set", "rbac.force=true")) {
			if o.GetKind() == "ClusterRole" || o.GetKind() == "Role" {
				var r rbacv1.ClusterRole
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
					t.Fatal(err)
				}
				granted = append(granted, r.Rules...)
			}
		}
		for _, o := range objectsOf(t, readFile(t, "../../config/rbac/role.yaml")) {
			var r rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			for _, rule := range r.Rules {
				for _, g := range rule.APIGroups {
					for _, res := range rule.Resources {
						for _, verb := range rule.Verbs {
							if !slices.ContainsFunc(granted, func(p rbacv1.PolicyRule) bool {
								return slices.Contains(p.APIGroups, g) && slices.Contains(p.Resources, res) && slices.Contains(p.Verbs, verb)
							}) {
								t.Errorf("the chart does not grant %s %q %s, which config/rbac/role.yaml asks for", verb, g, res)
							}
						}
					}
				}
			}
		}
	})

	t.Run("server dry-run", func(t *testing.T) {
		ensureNamespace(t, layersNamespace)
		// Upstream's ServiceAccount admission refuses a pod whose
		// ServiceAccount does not exist, and a dry run creates nothing: the
		// ServiceAccount is created for real for the pod's dry run, and
		// deleted before the install.
		sa := h.run(t, "template", "apps", appsChart, "-n", layersNamespace, "--show-only", "templates/serviceaccount.yaml")
		mustContain(t, kubectl{stdin: sa}.run(t, "apply", "-f", "-"), "serviceaccount/strata-apps created")
		defer run(t, "delete", "-n", layersNamespace, "serviceaccount", "strata-apps", "--ignore-not-found")

		manifest := h.run(t, "template", "apps", appsChart, "-n", layersNamespace)
		out := kubectl{stdin: manifest}.run(t, "apply", "--dry-run=server", "-f", "-")
		for _, want := range []string{
			// Other tests may have installed the CRDs already.
			`customresourcedefinition.apiextensions.k8s.io/deployments.apps (created|configured|unchanged) \(server dry run\)`,
			`customresourcedefinition.apiextensions.k8s.io/replicasets.apps (created|configured|unchanged) \(server dry run\)`,
			`serviceaccount/strata-apps unchanged \(server dry run\)`,
			`service/strata-apps-webhook created \(server dry run\)`,
			`pod/strata-apps-manager created \(server dry run\)`,
			`pod/strata-apps-crds-unserve created \(server dry run\)`,
			`mutatingwebhookconfiguration.admissionregistration.k8s.io/strata-apps created \(server dry run\)`,
			`validatingwebhookconfiguration.admissionregistration.k8s.io/strata-apps created \(server dry run\)`,
		} {
			if !regexp.MustCompile("(?m)^" + want + "$").MatchString(out) {
				t.Errorf("kubectl apply --dry-run=server printed no line matching %s:\n%s", want, out)
			}
		}
		// Nothing but the ServiceAccount was created.
		mustContain(t, kubectl{}.runFails(t, "get", "-n", layersNamespace, "pod", "strata-apps-manager"), "not found")
		mustContain(t, kubectl{}.runFails(t, "get", "mutatingwebhookconfiguration", "strata-apps"), "not found")
	})

	t.Run("install, upgrade, uninstall", func(t *testing.T) {
		t.Cleanup(func() {
			// Webhooks left behind with failurePolicy Fail and no manager
			// would refuse every Deployment of the later tests.
			_, _, _ = h.try(t, "uninstall", "apps", "-n", layersNamespace, "--ignore-not-found")
			run(t, "delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", "strata-apps", "--ignore-not-found")
		})
		// Earlier tests applied the CRDs with kubectl: Helm takes them over
		// only when told to (--take-ownership).
		if _, _, err := (kubectl{}).try(t, "get", "crd", "deployments.apps"); err == nil && !helmOwned(t, "deployments.apps") {
			_, errOut, err := h.try(t, "install", "apps", appsChart, "-n", layersNamespace, "--create-namespace")
			if err == nil {
				t.Fatalf("helm install succeeded over CRDs Helm does not own")
			}
			mustContain(t, errOut, "exists and cannot be imported into the current release")
		}
		out := h.run(t, "install", "apps", appsChart, "-n", layersNamespace, "--create-namespace", "--take-ownership")
		mustContain(t, out, "NAMESPACE: "+layersNamespace, "STATUS: deployed", "REVISION: 1",
			// The notes say what the layer adds and what uninstall keeps.
			"It adds the APIs Deployment and ReplicaSet (apps/v1)", "keeps their CRDs unserved",
			// The nucleus serves no RBAC: the notes say how the manager is
			// authorized meanwhile.
			"No RBAC objects were installed", "layer bootstrap rule")
		row := rowOf(t, h.run(t, "list", "-n", layersNamespace), "apps")
		if !slices.Contains(row, "deployed") || !slices.Contains(row, "apps-0.1.0") || !slices.Contains(row, "0.1.0-dev") {
			t.Errorf("helm list row of apps is %v, want it deployed with chart apps-0.1.0, app version 0.1.0-dev", row)
		}
		manifest := h.run(t, "get", "manifest", "apps", "-n", layersNamespace)
		for _, kind := range rbacKinds {
			if slices.Contains(kindsAndNames(objectsOf(t, manifest)), kind) {
				t.Errorf("the release holds %s, but the nucleus serves no RBAC", kind)
			}
		}

		// The CRDs are served and the objects exist.
		waitEstablished(t, "deployments.apps")
		waitEstablished(t, "replicasets.apps")
		run(t, "get", "-n", layersNamespace, "serviceaccount/strata-apps", "service/strata-apps-webhook", "pod/strata-apps-manager")
		if got := jsonpath(t, "{.webhooks[*].name}", "get", "mutatingwebhookconfiguration", "strata-apps"); got != "mdeployment-v1.apps.strata.io mreplicaset-v1.apps.strata.io" {
			t.Errorf("mutating webhooks: %q", got)
		}
		if got := jsonpath(t, "{.webhooks[*].name}", "get", "validatingwebhookconfiguration", "strata-apps"); got != "vdeployment-v1.apps.strata.io vreplicaset-v1.apps.strata.io" {
			t.Errorf("validating webhooks: %q", got)
		}

		// No manager runs (no image, no node to run it), so with
		// failurePolicy Fail the webhooks refuse Deployments: proof the
		// configurations are live.
		ns := createNamespace(t, "e2e-helm")
		errOut := kubectl{}.runFails(t, "apply", "-n", ns, "-f", "testdata/deployment.yaml")
		mustContain(t, errOut, `failed calling webhook "mdeployment-v1.apps.strata.io"`)

		// An upgrade with the same chart changes nothing the nucleus refuses
		// (the pod's spec is immutable).
		mustContain(t, h.run(t, "upgrade", "apps", appsChart, "-n", layersNamespace), "STATUS: deployed", "REVISION: 2")

		for _, crd := range []string{"deployments.apps", "replicasets.apps"} {
			if !helmOwned(t, crd) {
				t.Errorf("CRD %s does not carry the release's meta.helm.sh annotations", crd)
			}
			if got := jsonpath(t, `{.metadata.annotations.helm\.sh/resource-policy}`, "get", "crd", crd); got != "keep" {
				t.Errorf("CRD %s: helm.sh/resource-policy %q, want keep", crd, got)
			}
		}

		// No node can run the pre-delete hook here: --no-hooks skips it,
		// so the CRDs are kept and stay served (TestAppsLayerLifecycle
		// runs it on a real node).
		mustContain(t, h.run(t, "uninstall", "apps", "-n", layersNamespace, "--no-hooks"), `release "apps" uninstalled`)
		for _, obj := range []string{"mutatingwebhookconfiguration/strata-apps", "validatingwebhookconfiguration/strata-apps"} {
			mustContain(t, kubectl{}.runFails(t, "get", obj), "not found")
		}
		for _, obj := range []string{"service/strata-apps-webhook", "serviceaccount/strata-apps"} {
			mustContain(t, kubectl{}.runFails(t, "get", "-n", layersNamespace, obj), "not found")
		}
		if out, _, _ := h.try(t, "list", "-n", layersNamespace, "-q"); strings.TrimSpace(out) != "" {
			t.Errorf("helm list after uninstall: %q, want nothing", out)
		}
		// Helm keeps the CRDs (and so every Deployment) on uninstall; with
		// the webhooks gone Deployments are admitted again.
		for _, crd := range []string{"deployments.apps", "replicasets.apps"} {
			if got := jsonpath(t, "{.spec.versions[*].served}", "get", "crd", crd); got != "true" {
				t.Errorf("CRD %s after helm uninstall --no-hooks: served %q, want true", crd, got)
			}
		}
		mustContain(t, run(t, "apply", "-n", ns, "-f", "testdata/deployment.yaml"), "deployment.apps/nginx-deployment created")

		// What the hook runs, run from here: the APIs go, the objects stay.
		uid := run(t, "get", "deployment", "nginx-deployment", "-n", ns, "-o", "jsonpath={.metadata.uid}")
		t.Cleanup(func() {
			_, _ = exec.Command(strataBin, "crds", "serve", "deployments.apps", "replicasets.apps", "--kubeconfig", cluster.kubeconfig()).CombinedOutput()
		})
		crds := func(verb string) {
			t.Helper()
			out, err := exec.Command(strataBin, "crds", verb, "deployments.apps", "replicasets.apps", "--kubeconfig", cluster.kubeconfig()).CombinedOutput()
			if err != nil {
				t.Fatalf("strata crds %s: %v\n%s", verb, err, out)
			}
			mustContain(t, string(out), `"Set served on every version" crd="deployments.apps"`, `crd="replicasets.apps"`, `outcome="changed"`)
		}
		crds("unserve")
		// kubectl's discovery cache still lists deployments: the list
		// itself answers 404 ...
		mustContain(t, kubectl{}.runFails(t, "get", "deployments", "-n", ns), "the server could not find the requested resource")
		// ... until the cache is refreshed.
		if out := run(t, "api-resources", "--api-group=apps", "--no-headers"); strings.TrimSpace(out) != "" {
			t.Errorf("kubectl api-resources --api-group=apps with the CRDs unserved:\n%s", out)
		}
		mustContain(t, kubectl{}.runFails(t, "get", "deployments", "-n", ns), `the server doesn't have a resource type "deployments"`)
		crds("serve")
		if got := run(t, "get", "deployment", "nginx-deployment", "-n", ns, "-o", "jsonpath={.metadata.uid}"); got != uid {
			t.Errorf("nginx-deployment came back with UID %s, want %s", got, uid)
		}
		run(t, "delete", "-n", ns, "-f", "testdata/deployment.yaml", "--wait", "--timeout=30s")
	})
}

// helmOwned reports whether the CRD carries the meta.helm.sh annotations of
// the release apps in strata-system, which let helm install adopt it.
func helmOwned(t *testing.T, crd string) bool {
	t.Helper()
	out, _, err := kubectl{}.try(t, "get", "crd", crd, "-o", `jsonpath={.metadata.annotations.meta\.helm\.sh/release-name}/{.metadata.annotations.meta\.helm\.sh/release-namespace}/{.metadata.labels.app\.kubernetes\.io/managed-by}`)
	return err == nil && out == "apps/"+layersNamespace+"/Helm"
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// ensureNamespace creates the namespace unless it exists.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	kubectl{stdin: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n"}.run(t, "apply", "-f", "-")
}

// appsRules reports whether webhook rules name only the apps group.
func appsRules(rules []admissionregistrationv1.RuleWithOperations) bool {
	for _, r := range rules {
		if !slices.Equal(r.APIGroups, []string{"apps"}) {
			return false
		}
	}
	return len(rules) > 0
}
