/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"testing"
)

// TestDeploymentCustomResource installs the application layer's apps/v1
// Deployment CRD and uses an unmodified upstream manifest with it.
func TestDeploymentCustomResource(t *testing.T) {
	mustContain(t, run(t, "apply", "-f", "../../config/crd/bases/apps_deployments.yaml"),
		"customresourcedefinition.apiextensions.k8s.io/deployments.apps")
	waitEstablished(t, "deployments.apps")
	mustContain(t, run(t, "get", "crd", "deployments.apps"), "deployments.apps")
	// Discovery shows the kind in its upstream group.
	row := rowOf(t, run(t, "api-resources", "--api-group", "apps"), "deployments")
	if len(row) != 5 || row[1] != "deploy" || row[2] != "apps/v1" || row[3] != "true" || row[4] != "Deployment" {
		t.Errorf("api-resources row of deployments is %v, want deployments deploy apps/v1 true Deployment", row)
	}

	ns := createNamespace(t, "e2e-deployment")
	// The nginx-deployment example of the Kubernetes documentation.
	mustContain(t, run(t, "apply", "-n", ns, "-f", "testdata/deployment.yaml"), "deployment.apps/nginx-deployment created")

	out := run(t, "get", "-n", ns, "deployments")
	mustHaveHeaders(t, out, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")
	rowOf(t, out, "nginx-deployment")
	out = run(t, "get", "-n", ns, "deploy", "-o", "wide")
	mustHaveHeaders(t, out, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES")
	mustContain(t, out, "nginx:1.14.2")
	// The pod template's labels are kept (not pruned).
	if got := jsonpath(t, "{.spec.template.metadata.labels.app}", "get", "-n", ns, "deployment", "nginx-deployment"); got != "nginx" {
		t.Errorf(".spec.template.metadata.labels.app = %q, want nginx", got)
	}
	// Deployments are in the "all" category.
	mustContain(t, run(t, "get", "all", "-n", ns), "deployment.apps/nginx-deployment")

	t.Run("scale", func(t *testing.T) {
		mustContain(t, run(t, "scale", "-n", ns, "deployment/nginx-deployment", "--replicas=5"), "deployment.apps/nginx-deployment scaled")
		if got := jsonpath(t, "{.spec.replicas}", "get", "-n", ns, "deployment", "nginx-deployment"); got != "5" {
			t.Errorf(".spec.replicas = %q, want 5", got)
		}
	})

	t.Run("set image", func(t *testing.T) {
		// kubectl sends a strategic merge patch for this.
		mustContain(t, run(t, "set", "image", "-n", ns, "deployment/nginx-deployment", "nginx=nginx:1.27"),
			"deployment.apps/nginx-deployment image updated")
		if got := jsonpath(t, "{.spec.template.spec.containers[0].name}={.spec.template.spec.containers[0].image}",
			"get", "-n", ns, "deployment", "nginx-deployment"); got != "nginx=nginx:1.27" {
			t.Errorf("container nginx = %q, want nginx=nginx:1.27", got)
		}
	})

	t.Run("apply again", func(t *testing.T) {
		// The manifest says 3 replicas and nginx:1.14.2 again.
		mustContain(t, run(t, "apply", "-n", ns, "-f", "testdata/deployment.yaml"), "deployment.apps/nginx-deployment configured")
		if got := jsonpath(t, "{.spec.replicas} {.spec.template.spec.containers[0].image}", "get", "-n", ns, "deploy", "nginx-deployment"); got != "3 nginx:1.14.2" {
			t.Errorf("after apply: %q, want %q", got, "3 nginx:1.14.2")
		}
	})

	t.Run("delete", func(t *testing.T) {
		run(t, "delete", "-n", ns, "-f", "testdata/deployment.yaml", "--wait", "--timeout=30s")
		mustContain(t, kubectl{}.runFails(t, "get", "-n", ns, "deployment", "nginx-deployment"), "not found")
	})
}
