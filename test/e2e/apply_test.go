/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"strings"
	"testing"
)

const settingsV1 = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    app: shop
data:
  mode: fast
  retries: "3"
`

const settingsV2 = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    app: shop
data:
  mode: safe
`

func TestClientSideApply(t *testing.T) {
	ns := createNamespace(t, "e2e-apply")
	v1 := writeFile(t, "settings.yaml", settingsV1)
	v2 := writeFile(t, "settings.yaml", settingsV2)

	mustContain(t, run(t, "apply", "-n", ns, "-f", v1), "configmap/settings created")
	mustContain(t, run(t, "apply", "-n", ns, "-f", v1), "configmap/settings unchanged")
	mustContain(t, jsonpath(t, "{.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}", "get", "-n", ns, "cm", "settings"),
		`"mode":"fast"`)

	// A field set by another writer survives apply; a field removed from
	// the manifest is removed from the object.
	run(t, "label", "-n", ns, "cm", "settings", "touched-by=hand")
	mustContain(t, run(t, "apply", "-n", ns, "-f", v2), "configmap/settings configured")
	got := jsonpath(t, "{.data.mode},{.data.retries},{.metadata.labels.touched-by}", "get", "-n", ns, "cm", "settings")
	if got != "safe,,hand" {
		t.Errorf("after applying v2: mode,retries,touched-by = %q, want %q", got, "safe,,hand")
	}

	// apply from standard input, and diff against the live object.
	k := kubectl{stdin: settingsV1}
	mustContain(t, k.run(t, "apply", "-n", ns, "-f", "-"), "configmap/settings configured")
	out, _, err := kubectl{}.try(t, "diff", "-n", ns, "-f", v2)
	if err == nil {
		t.Errorf("kubectl diff found no difference between v1 live and v2")
	}
	mustContain(t, out, "-  mode: fast", "+  mode: safe")
}

func TestServerSideApply(t *testing.T) {
	ns := createNamespace(t, "e2e-ssa")
	v1 := writeFile(t, "settings.yaml", settingsV1)
	v2 := writeFile(t, "settings.yaml", settingsV2)

	mustContain(t, run(t, "apply", "--server-side", "-n", ns, "-f", v1), "configmap/settings serverside-applied")
	managers := jsonpath(t, "{.metadata.managedFields[*].manager} {.metadata.managedFields[*].operation}", "get", "-n", ns, "cm", "settings")
	mustContain(t, managers, "kubectl", "Apply")

	// Removing a field from the applied configuration removes it.
	run(t, "apply", "--server-side", "-n", ns, "-f", v2)
	if got := jsonpath(t, "{.data.mode},{.data.retries}", "get", "-n", ns, "cm", "settings"); got != "safe," {
		t.Errorf("after applying v2: mode,retries = %q, want %q", got, "safe,")
	}

	// Another manager applying a field kubectl owns is a conflict...
	errOut := kubectl{}.runFails(t, "apply", "--server-side", "--field-manager", "other", "-n", ns, "-f",
		writeFile(t, "other.yaml", strings.Replace(settingsV2, "mode: safe", "mode: other", 1)))
	mustContain(t, errOut, "conflict", ".data.mode")
	// ...unless it forces.
	run(t, "apply", "--server-side", "--force-conflicts", "--field-manager", "other", "-n", ns, "-f",
		writeFile(t, "other.yaml", strings.Replace(settingsV2, "mode: safe", "mode: other", 1)))
	if got := jsonpath(t, "{.data.mode}", "get", "-n", ns, "cm", "settings"); got != "other" {
		t.Errorf("after a forced apply mode = %q, want other", got)
	}
	out := run(t, "get", "-n", ns, "cm", "settings", "-o", "yaml", "--show-managed-fields")
	mustContain(t, out, "managedFields:", "manager: other", "f:mode: {}")
}
