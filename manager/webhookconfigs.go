/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package manager

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// LayerLabel marks the objects of a layer: its webhook configurations carry
// strata.io/layer: <name>.
const LayerLabel = "strata.io/layer"

// webhookConfigurations splits the webhooks controller-gen generated
// (config/webhook/manifests.yaml) into the layer's configurations: the
// webhooks whose rules only name the layer's groups, in configurations
// named after the layer. A layer without webhooks gets none.
func webhookConfigurations(manifests []byte, l Layer) ([]admissionregistrationv1.MutatingWebhookConfiguration, []admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	var mutating []admissionregistrationv1.MutatingWebhookConfiguration
	var validating []admissionregistrationv1.ValidatingWebhookConfiguration
	ours := func(rules []admissionregistrationv1.RuleWithOperations) bool {
		for _, r := range rules {
			for _, g := range r.APIGroups {
				if !slices.Contains(l.Groups, g) {
					return false
				}
			}
		}
		return len(rules) > 0
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifests)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the webhook manifests: %w", err)
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, nil, fmt.Errorf("reading the webhook manifests: %w", err)
		}
		switch meta.Kind {
		case "MutatingWebhookConfiguration":
			var c admissionregistrationv1.MutatingWebhookConfiguration
			if err := yaml.UnmarshalStrict(doc, &c); err != nil {
				return nil, nil, fmt.Errorf("reading a MutatingWebhookConfiguration: %w", err)
			}
			c.Webhooks = slices.DeleteFunc(c.Webhooks, func(w admissionregistrationv1.MutatingWebhook) bool { return !ours(w.Rules) })
			if len(c.Webhooks) > 0 {
				c.Name, c.Labels = l.WebhookConfigurationName(), map[string]string{LayerLabel: l.Name}
				mutating = append(mutating, c)
			}
		case "ValidatingWebhookConfiguration":
			var c admissionregistrationv1.ValidatingWebhookConfiguration
			if err := yaml.UnmarshalStrict(doc, &c); err != nil {
				return nil, nil, fmt.Errorf("reading a ValidatingWebhookConfiguration: %w", err)
			}
			c.Webhooks = slices.DeleteFunc(c.Webhooks, func(w admissionregistrationv1.ValidatingWebhook) bool { return !ours(w.Rules) })
			if len(c.Webhooks) > 0 {
				c.Name, c.Labels = l.WebhookConfigurationName(), map[string]string{LayerLabel: l.Name}
				validating = append(validating, c)
			}
		}
	}
	return mutating, validating, nil
}
