package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilptr "k8s.io/utils/ptr"

	"github.com/strata-dev/strata/manager/webhookcerts"
)

// TestAppsWebhookConfigurations: the manager created the layer's webhook
// configurations, pointed at its URL with its CA.
func TestAppsWebhookConfigurations(t *testing.T) {
	a := appsEnv(t)
	ctx := context.Background()
	m, err := a.kube.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "strata-apps", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "strata-apps", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Labels["strata.io/layer"] != "apps" {
		t.Errorf("labels = %v, want strata.io/layer=apps", m.Labels)
	}
	var names []string
	check := func(name string, cc admissionregistrationv1.WebhookClientConfig, fp *admissionregistrationv1.FailurePolicyType) {
		names = append(names, name)
		if !strings.HasPrefix(utilptr.Deref(cc.URL, ""), a.opts.WebhookURL+"/") || len(cc.CABundle) == 0 {
			t.Errorf("webhook %s: url %v, %d bytes of CA bundle", name, utilptr.Deref(cc.URL, ""), len(cc.CABundle))
		}
		if utilptr.Deref(fp, "") != admissionregistrationv1.Fail {
			t.Errorf("webhook %s: failurePolicy %v, want Fail", name, utilptr.Deref(fp, ""))
		}
	}
	for _, w := range m.Webhooks {
		check(w.Name, w.ClientConfig, w.FailurePolicy)
	}
	for _, w := range v.Webhooks {
		check(w.Name, w.ClientConfig, w.FailurePolicy)
	}
	for _, want := range []string{"mdeployment-v1.apps.strata.io", "vdeployment-v1.apps.strata.io", "mreplicaset-v1.apps.strata.io", "vreplicaset-v1.apps.strata.io"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("webhook %s missing; have %v", want, names)
		}
	}
}

// TestAppsValidationThroughTheWebhook: bad Deployments are refused with
// upstream's messages and field paths.
func TestAppsValidationThroughTheWebhook(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	ctx := context.Background()

	mismatched := makeDeployment(ns, "mismatch").Obj()
	mismatched.Spec.Template.Labels = map[string]string{"app": "other"}
	negative := makeDeployment(ns, "negative").Replicas(-1).Obj()
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"selector does not match template", a.client.Create(ctx, mismatched),
			"spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"},
		{"negative replicas", a.client.Create(ctx, negative), "spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !apierrors.IsInvalid(tt.err) {
				t.Fatalf("error = %v, want 422 Invalid", tt.err)
			}
			if !strings.Contains(tt.err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", tt.err, tt.want)
			}
		})
	}
	t.Run("selector is immutable", func(t *testing.T) {
		a.create(t, makeDeployment(ns, "immutable").Obj())
		d := a.deployment(t, ns, "immutable")
		d.Spec.Selector.MatchLabels = map[string]string{"app": "immutable", "tier": "x"}
		d.Spec.Template.Labels = d.Spec.Selector.MatchLabels
		err := a.client.Update(ctx, d)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.selector") || !strings.Contains(err.Error(), "field is immutable") {
			t.Errorf("error = %v, want 422 spec.selector ... field is immutable", err)
		}
	})
}

// TestAppsWebhookDownFailsClosed: with the manager stopped the webhooks'
// failurePolicy Fail refuses Deployments instead of admitting them
// unvalidated; with it back they are admitted again.
func TestAppsWebhookDownFailsClosed(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.stopManager()
	restarted := false
	defer func() {
		if !restarted {
			if err := a.startManager(); err != nil {
				t.Errorf("restarting the manager: %v", err)
			}
		}
	}()
	err := a.client.Create(context.Background(), makeDeployment(ns, "down").Obj())
	if err == nil || !strings.Contains(err.Error(), `failed calling webhook "mdeployment-v1.apps.strata.io"`) {
		t.Fatalf("create with the webhook down: %v; want failed calling webhook", err)
	}
	if err := a.startManager(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	a.create(t, makeDeployment(ns, "down").Obj())
	a.waitComplete(t, ns, "down", time.Minute)
}

// TestAppsWebhookCertificateRotation runs the manager with serving
// certificates that live a few seconds: the webhook server serves the
// renewed ones and admission keeps working throughout.
func TestAppsWebhookCertificateRotation(t *testing.T) {
	a := appsEnv(t)
	ns := a.newNamespace(t)
	a.stopManager()
	saved := a.opts
	a.opts.CertLifetimes = webhookcerts.Lifetimes{CA: time.Hour, Serving: 4 * time.Second, RenewBefore: 2 * time.Second}
	a.opts.CertCheckInterval = 500 * time.Millisecond
	// Without its Secret the manager issues a new CA and certificate, with
	// the short lifetimes.
	if err := a.kube.CoreV1().Secrets(a.opts.Namespace).Delete(context.Background(), a.opts.Name()+"-webhook-cert", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		a.stopManager()
		a.opts = saved
		if err := a.startManager(); err != nil {
			t.Errorf("restarting the manager: %v", err)
		}
	}()
	if err := a.startManager(); err != nil {
		t.Fatal(err)
	}
	serials := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; len(serials) < 3 && time.Now().Before(deadline); i++ {
		serials[servedSerial(t, a.opts.WebhookPort)] = true
		a.create(t, makeDeployment(ns, fmt.Sprintf("rot-%d", i)).Replicas(0).Obj())
		time.Sleep(500 * time.Millisecond)
	}
	if len(serials) < 3 {
		t.Fatalf("the webhook server served %d certificates in 20s, want it to renew them (>= 3)", len(serials))
	}
}

func servedSerial(t testing.TB, port int) string {
	t.Helper()
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only reads the certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}
