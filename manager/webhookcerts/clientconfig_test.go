/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package webhookcerts

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/utils/ptr"
)

func TestPointValidating(t *testing.T) {
	service := func(ns, name, path string, ca string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{CABundle: []byte(ca), Service: &admissionregistrationv1.ServiceReference{
			Namespace: ns, Name: name, Path: ptr.To(path), Port: ptr.To[int32](443)}}
	}
	url := func(u, ca string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{CABundle: []byte(ca), URL: ptr.To(u)}
	}
	inCluster := Target{ServiceNamespace: "strata-system", ServiceName: "strata-apps-webhook"}
	outside := Target{URL: "https://127.0.0.1:9443/"}
	tests := []struct {
		name        string
		in          admissionregistrationv1.WebhookClientConfig
		target      Target
		want        admissionregistrationv1.WebhookClientConfig
		wantChanged bool
	}{
		{"CA bundle injected", service("strata-system", "strata-apps-webhook", "/validate-apps-v1-deployment", ""), inCluster,
			service("strata-system", "strata-apps-webhook", "/validate-apps-v1-deployment", "CA"), true},
		{"already current", service("strata-system", "strata-apps-webhook", "/v", "CA"), inCluster,
			service("strata-system", "strata-apps-webhook", "/v", "CA"), false},
		{"generated manifest's service replaced", service("system", "webhook-service", "/v", ""), inCluster,
			service("strata-system", "strata-apps-webhook", "/v", "CA"), true},
		{"out of cluster: URL with the webhook's path", service("system", "webhook-service", "/validate-apps-v1-deployment", ""), outside,
			url("https://127.0.0.1:9443/validate-apps-v1-deployment", "CA"), true},
		{"back in cluster: the URL's path kept", url("https://127.0.0.1:9443/v", "CA"), inCluster,
			service("strata-system", "strata-apps-webhook", "/v", "CA"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &admissionregistrationv1.ValidatingWebhookConfiguration{Webhooks: []admissionregistrationv1.ValidatingWebhook{{ClientConfig: tt.in}}}
			changed := PointValidating(c, tt.target, []byte("CA"))
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if diff := cmp.Diff(tt.want, c.Webhooks[0].ClientConfig); diff != "" {
				t.Errorf("client config (-want +got):\n%s", diff)
			}
		})
	}
}
