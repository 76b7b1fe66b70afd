/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"testing"
)

// TestKubectlCreateDeployment runs kubectl's typed `create deployment`,
// which sends the Deployment as protobuf with strict field validation, against
// the application layer's Deployment custom resource.
func TestKubectlCreateDeployment(t *testing.T) {
	run(t, "apply", "-f", "../../config/crd/bases/apps_deployments.yaml")
	waitEstablished(t, "deployments.apps")
	ns := createNamespace(t, "e2e-protobuf")
	t.Cleanup(func() { run(t, "delete", "namespace", ns, "--wait=false") })

	mustContain(t, run(t, "create", "deployment", "proto-dry-run", "--image=nginx", "-n", ns, "--dry-run=server"),
		"deployment.apps/proto-dry-run created (server dry run)")
	mustContain(t, run(t, "create", "deployment", "proto", "--image=nginx", "--replicas=2", "-n", ns),
		"deployment.apps/proto created")
	if got := jsonpath(t, "{.spec.replicas} {.spec.template.spec.containers[0].image}", "get", "-n", ns, "deployment", "proto"); got != "2 nginx" {
		t.Errorf("created deployment: %q, want %q", got, "2 nginx")
	}
	mustContain(t, kubectl{}.runFails(t, "get", "-n", ns, "deployment", "proto-dry-run"), "not found")
}
