/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package manager

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-dev/strata/config"
)

func TestWebhookConfigurationsOfALayer(t *testing.T) {
	apps := Layer{Name: "apps", Groups: []string{"apps"}}
	m, v, err := webhookConfigurations(config.WebhookManifests, apps)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(v) != 1 {
		t.Fatalf("%d mutating and %d validating configurations, want one of each", len(m), len(v))
	}
	var names []string
	for _, w := range m[0].Webhooks {
		names = append(names, w.Name)
	}
	for _, w := range v[0].Webhooks {
		names = append(names, w.Name)
	}
	want := []string{"mdeployment-v1.apps.strata.io", "mreplicaset-v1.apps.strata.io", "vdeployment-v1.apps.strata.io", "vreplicaset-v1.apps.strata.io"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}
	if m[0].Name != "strata-apps" || v[0].Name != "strata-apps" || m[0].Labels[LayerLabel] != "apps" {
		t.Errorf("configurations %q/%q labels %v, want strata-apps with %s=apps", m[0].Name, v[0].Name, m[0].Labels, LayerLabel)
	}

	// A layer of other groups gets none of them.
	m, v, err = webhookConfigurations(config.WebhookManifests, Layer{Name: "batch", Groups: []string{"batch"}})
	if err != nil || len(m)+len(v) != 0 {
		t.Errorf("batch layer: %d + %d configurations, err %v; want none", len(m), len(v), err)
	}
	if _, _, err := webhookConfigurations([]byte("kind: MutatingWebhookConfiguration\nwebhooks: 3\n"), apps); err == nil {
		t.Error("a malformed manifest was accepted")
	}
}

func TestSelectedLayers(t *testing.T) {
	Register(Layer{Name: "test-only", Groups: []string{"example.com"}})
	defer delete(layers, "test-only")
	got, err := selected([]string{"test-only", "test-only"})
	if err != nil || len(got) != 1 {
		t.Errorf("selected twice: %v, %v; want the layer once", got, err)
	}
	if _, err := selected([]string{"nope"}); err == nil || !strings.Contains(err.Error(), `unknown layer "nope"; known layers: `) {
		t.Errorf("unknown layer: %v", err)
	}
	if _, err := selected(nil); err == nil {
		t.Error("no layer selected was accepted")
	}
}
