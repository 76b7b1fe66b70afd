/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"regexp"
	"testing"
)

func TestVersion(t *testing.T) {
	out := run(t, "version")
	mustContain(t, out, "Client Version: v1.37.2")
	if !regexp.MustCompile(`(?m)^Server Version: v1\.37\.\d+`).MatchString(out) {
		t.Errorf("kubectl version does not report a v1.37 server:\n%s", out)
	}
}

func TestAPIResources(t *testing.T) {
	out := run(t, "api-resources")
	mustHaveHeaders(t, out, "NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND")
	for _, r := range []struct{ name, shortName, version, kind string }{
		{"configmaps", "cm", "v1", "ConfigMap"},
		{"namespaces", "ns", "v1", "Namespace"},
		{"customresourcedefinitions", "crd,crds", "apiextensions.k8s.io/v1", "CustomResourceDefinition"},
	} {
		row := rowOf(t, out, r.name)
		if len(row) != 5 || row[1] != r.shortName || row[2] != r.version || row[4] != r.kind {
			t.Errorf("api-resources row of %s is %v, want %s %s … %s", r.name, row, r.shortName, r.version, r.kind)
		}
	}
	names := run(t, "api-resources", "-o", "name")
	for _, r := range []string{"pods", "services"} {
		if !regexp.MustCompile(`(?m)^` + r + `$`).MatchString(names) {
			t.Logf("NOTE: the nucleus does not serve %s yet", r)
		}
	}
}

func TestSystemNamespaces(t *testing.T) {
	out := run(t, "get", "namespaces")
	mustHaveHeaders(t, out, "NAME", "STATUS", "AGE")
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if row := rowOf(t, out, ns); row[1] != "Active" {
			t.Errorf("namespace %s is %s, want Active", ns, row[1])
		}
	}
}

func TestExplain(t *testing.T) {
	requireResource(t, "pods")
	out := run(t, "explain", "pods.spec")
	mustContain(t, out, "KIND:", "Pod", "VERSION:", "v1", "FIELD: spec <PodSpec>", "containers", "<[]Container> -required-")
	out = run(t, "explain", "configmaps")
	mustContain(t, out, "KIND:", "ConfigMap", "FIELDS:", "data", "binaryData")
}
