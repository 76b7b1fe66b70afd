/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestConfigMapLifecycle drives one ConfigMap through the everyday
// imperative commands.
func TestConfigMapLifecycle(t *testing.T) {
	ns := createNamespace(t, "e2e-configmap")
	inNS := func(args ...string) []string { return append(args, "-n", ns) }

	mustContain(t, run(t, inNS("create", "configmap", "app-config", "--from-literal=color=blue", "--from-literal=size=large")...),
		"configmap/app-config created")
	mustContain(t, kubectl{}.runFails(t, inNS("create", "configmap", "app-config", "--from-literal=a=b")...),
		`configmaps "app-config" already exists`)

	t.Run("get", func(t *testing.T) {
		out := run(t, inNS("get", "configmaps")...)
		mustHaveHeaders(t, out, "NAME", "DATA", "AGE")
		if row := rowOf(t, out, "app-config"); row[1] != "2" {
			t.Errorf("DATA of app-config is %s, want 2", row[1])
		}
		// Every namespace has the root CA bundle, as upstream, once a
		// controller publishes it; do not depend on it here.
		mustHaveHeaders(t, run(t, inNS("get", "configmap", "app-config", "-o", "wide")...), "NAME", "DATA", "AGE")

		out = run(t, inNS("get", "configmap", "app-config", "-o", "yaml")...)
		mustContain(t, out, "apiVersion: v1", "kind: ConfigMap", "color: blue", "size: large",
			"name: app-config", "namespace: "+ns, "resourceVersion:", "uid:", "creationTimestamp:")

		var cm struct {
			Kind     string            `json:"kind"`
			Data     map[string]string `json:"data"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(run(t, inNS("get", "configmap", "app-config", "-o", "json")...)), &cm); err != nil {
			t.Fatalf("-o json is not JSON: %v", err)
		}
		if cm.Kind != "ConfigMap" || cm.Metadata.Name != "app-config" || cm.Data["color"] != "blue" {
			t.Errorf("-o json gave %+v", cm)
		}
		if got := jsonpath(t, "{.data.size}", inNS("get", "cm", "app-config")...); got != "large" {
			t.Errorf("jsonpath .data.size = %q, want large", got)
		}
	})

	t.Run("describe", func(t *testing.T) {
		out := run(t, inNS("describe", "configmap", "app-config")...)
		mustContain(t, out, "Name:", "app-config", "Namespace:", ns, "Data", "color:", "blue", "size:", "large")
	})

	t.Run("label and annotate", func(t *testing.T) {
		mustContain(t, run(t, inNS("label", "configmap", "app-config", "tier=frontend")...), "configmap/app-config labeled")
		out := run(t, inNS("get", "configmaps", "-l", "tier=frontend", "--show-labels")...)
		mustContain(t, out, "app-config", "tier=frontend")
		if out := run(t, inNS("get", "configmaps", "-l", "tier=backend")...); strings.Contains(out, "app-config") {
			t.Errorf("label selector tier=backend matched app-config:\n%s", out)
		}
		mustContain(t, kubectl{}.runFails(t, inNS("label", "configmap", "app-config", "tier=backend")...), "already has a value (frontend)")
		run(t, inNS("label", "configmap", "app-config", "tier=backend", "--overwrite")...)
		run(t, inNS("label", "configmap", "app-config", "tier-")...)
		if got := jsonpath(t, "{.metadata.labels}", inNS("get", "cm", "app-config")...); strings.Contains(got, "tier") {
			t.Errorf("label tier was not removed: %s", got)
		}

		mustContain(t, run(t, inNS("annotate", "configmap", "app-config", "owner=team-a")...), "configmap/app-config annotated")
		if got := jsonpath(t, "{.metadata.annotations.owner}", inNS("get", "cm", "app-config")...); got != "team-a" {
			t.Errorf("annotation owner = %q, want team-a", got)
		}
	})

	t.Run("patch", func(t *testing.T) {
		mustContain(t, run(t, inNS("patch", "configmap", "app-config", "--type", "merge", "-p", `{"data":{"color":"green"}}`)...),
			"configmap/app-config patched")
		mustContain(t, run(t, inNS("patch", "configmap", "app-config", "--type", "json",
			"-p", `[{"op":"add","path":"/data/shape","value":"round"},{"op":"remove","path":"/data/size"}]`)...),
			"configmap/app-config patched")
		mustContain(t, run(t, inNS("patch", "configmap", "app-config", "--type", "strategic", "-p", `{"metadata":{"labels":{"patched":"yes"}}}`)...),
			"configmap/app-config patched")
		// The default type is strategic.
		run(t, inNS("patch", "configmap", "app-config", "-p", `{"data":{"weight":"light"}}`)...)
		out := run(t, inNS("get", "configmap", "app-config", "-o", "jsonpath={.data.color} {.data.shape} {.data.size} {.data.weight} {.metadata.labels.patched}")...)
		if out != "green round  light yes" {
			t.Errorf("after the patches: %q, want %q", out, "green round  light yes")
		}
		// A JSON patch test that fails is a 422 with kubectl's message.
		kubectl{}.runFails(t, inNS("patch", "configmap", "app-config", "--type", "json", "-p", `[{"op":"test","path":"/data/color","value":"red"}]`)...)
		// A patch that does not change anything says so.
		mustContain(t, run(t, inNS("patch", "configmap", "app-config", "--type", "merge", "-p", `{"data":{"color":"green"}}`)...),
			"configmap/app-config patched (no change)")
	})

	t.Run("edit", func(t *testing.T) {
		// KUBE_EDITOR is run with the temporary file as its last argument.
		editor := writeFile(t, "editor.sh", "#!/bin/sh\nsed -i 's/color: green/color: purple/' \"$1\"\n")
		k := kubectl{env: []string{"KUBE_EDITOR=sh " + editor}}
		mustContain(t, k.run(t, inNS("edit", "configmap", "app-config")...), "configmap/app-config edited")
		if got := jsonpath(t, "{.data.color}", inNS("get", "cm", "app-config")...); got != "purple" {
			t.Errorf("after edit color = %q, want purple", got)
		}
	})

	t.Run("delete", func(t *testing.T) {
		mustContain(t, run(t, inNS("delete", "configmap", "app-config", "--wait", "--timeout=30s")...), `configmap "app-config" deleted`)
		mustContain(t, kubectl{}.runFails(t, inNS("get", "configmap", "app-config")...), `configmaps "app-config" not found`)
		if out := run(t, inNS("delete", "configmap", "app-config", "--ignore-not-found")...); out != "" {
			t.Errorf("delete --ignore-not-found of a missing object printed %q, want nothing", out)
		}
	})
}
