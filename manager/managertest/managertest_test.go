/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package managertest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/apis/scheme"
	_ "github.com/strata-dev/strata/manager/layers"
	"github.com/strata-dev/strata/manager/managertest"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestAppsLayer installs the apps layer's CRDs into a nucleus with
// testenv.InstallCRDs, runs its manager with Start, and sees its webhooks
// answer: a Deployment is defaulted, a bad one refused with 422.
func TestAppsLayer(t *testing.T) {
	env := testenv.Start(t)
	if err := env.InstallCRDs(t.Context(), "../../config/crd/bases"); err != nil {
		t.Fatal(err)
	}
	o := managertest.Start(t, env.Config, "apps")
	if !strings.HasPrefix(o.WebhookURL, "https://127.0.0.1:") {
		t.Errorf("WebhookURL = %q, want a loopback URL", o.WebhookURL)
	}

	cfg := rest.CopyConfig(env.Config)
	cfg.ContentType = "application/json"
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: metav1.NamespaceDefault}}
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
	d.Spec.Template.Labels = labels
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: "web:1"}}
	if err := c.Create(t.Context(), d); err != nil {
		t.Fatalf("creating a Deployment: %v", err)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != "RollingUpdate" {
		t.Errorf("created Deployment: replicas %v, strategy %q; want the defaulting webhook's 1 and RollingUpdate", d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	bad := d.DeepCopy()
	bad.ObjectMeta = metav1.ObjectMeta{Name: "bad", Namespace: metav1.NamespaceDefault}
	bad.Spec.Template.Labels = map[string]string{"app": "other"}
	if err := c.Create(t.Context(), bad); !apierrors.IsInvalid(err) {
		t.Errorf("creating a Deployment whose selector misses its template: %v, want 422 Invalid from the validating webhook", err)
	}
}

// TestInstallCRDsErrors: what InstallCRDs cannot read fails before it
// asks the server (there is none here).
func TestInstallCRDsErrors(t *testing.T) {
	env := &testenv.Env{Config: &rest.Config{Host: "https://127.0.0.1:1"}}
	dir := t.TempDir()
	notACRD := filepath.Join(dir, "configmap.yaml")
	if err := os.WriteFile(notACRD, []byte("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing"), "no such file or directory"},
		{t.TempDir(), "no *.yaml file in"},
		{notACRD, "is not a CustomResourceDefinition"},
	} {
		if err := env.InstallCRDs(t.Context(), tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("InstallCRDs(%s) = %v, want an error saying %q", tt.path, err, tt.want)
		}
	}
}
