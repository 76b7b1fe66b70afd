/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package webhookcerts

import (
	"bytes"
	"net/url"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/utils/ptr"
)

// Target is where the API server sends the layer's admission reviews: the
// webhook Service in cluster, or a URL when the manager runs outside it
// (`make run`, tests).
type Target struct {
	// ServiceNamespace and ServiceName name the webhook Service, on port 443.
	ServiceNamespace, ServiceName string
	// URL, when set, replaces the Service: the webhook's path is appended to it.
	URL string
}

// path returns the HTTP path a client config sends reviews to.
func path(cc admissionregistrationv1.WebhookClientConfig) string {
	if cc.Service != nil {
		return ptr.Deref(cc.Service.Path, "/")
	}
	if cc.URL != nil {
		if u, err := url.Parse(*cc.URL); err == nil {
			return u.Path
		}
	}
	return "/"
}

// clientConfigFor returns cc pointed at t, with caBundle, keeping its path.
func clientConfigFor(cc admissionregistrationv1.WebhookClientConfig, t Target, caBundle []byte) admissionregistrationv1.WebhookClientConfig {
	p := path(cc)
	out := admissionregistrationv1.WebhookClientConfig{CABundle: caBundle}
	if t.URL != "" {
		out.URL = ptr.To(strings.TrimSuffix(t.URL, "/") + p)
		return out
	}
	out.Service = &admissionregistrationv1.ServiceReference{
		Namespace: t.ServiceNamespace,
		Name:      t.ServiceName,
		Path:      ptr.To(p),
		Port:      ptr.To[int32](443),
	}
	return out
}

// sameClientConfig reports whether two client configs send reviews to the
// same place with the same trust.
func sameClientConfig(a, b admissionregistrationv1.WebhookClientConfig) bool {
	if !bytes.Equal(a.CABundle, b.CABundle) || ptr.Deref(a.URL, "") != ptr.Deref(b.URL, "") || (a.Service == nil) != (b.Service == nil) {
		return false
	}
	if a.Service == nil {
		return true
	}
	return a.Service.Namespace == b.Service.Namespace && a.Service.Name == b.Service.Name &&
		ptr.Deref(a.Service.Path, "") == ptr.Deref(b.Service.Path, "") && ptr.Deref(a.Service.Port, 443) == ptr.Deref(b.Service.Port, 443)
}

// PointMutating points every webhook of c at t with caBundle and reports
// whether anything changed.
func PointMutating(c *admissionregistrationv1.MutatingWebhookConfiguration, t Target, caBundle []byte) bool {
	return pointAll(c.Webhooks, func(w *admissionregistrationv1.MutatingWebhook) *admissionregistrationv1.WebhookClientConfig {
		return &w.ClientConfig
	}, t, caBundle)
}

// PointValidating is PointMutating for validating webhooks.
func PointValidating(c *admissionregistrationv1.ValidatingWebhookConfiguration, t Target, caBundle []byte) bool {
	return pointAll(c.Webhooks, func(w *admissionregistrationv1.ValidatingWebhook) *admissionregistrationv1.WebhookClientConfig {
		return &w.ClientConfig
	}, t, caBundle)
}

func pointAll[W any](webhooks []W, clientConfig func(*W) *admissionregistrationv1.WebhookClientConfig, t Target, caBundle []byte) bool {
	changed := false
	for i := range webhooks {
		cc := clientConfig(&webhooks[i])
		if want := clientConfigFor(*cc, t, caBundle); !sameClientConfig(*cc, want) {
			*cc, changed = want, true
		}
	}
	return changed
}
