/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package webhookcerts gives a layer manager its webhook serving
// certificate without cert-manager: a CA and a serving certificate kept in a
// Secret of the layer's namespace (shared by every replica of the manager),
// written to the webhook server's certificate directory, renewed before they
// expire, and the CA bundle written into the layer's webhook configurations,
// which are created from the generated manifests when they do not exist.
package webhookcerts

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Keys of the Secret.
const (
	caCertKey = "ca.crt"
	caKeyKey  = "ca.key"
)

// Rotator keeps the webhook certificates and configurations current. It is a
// controller-runtime Runnable that runs on every replica (not only the
// leader), since each replica serves webhooks.
type Rotator struct {
	// Client must read from the API server, not a cache.
	Client client.Client
	// Secret holds the CA and the serving certificate.
	Secret types.NamespacedName
	// CertDir receives tls.crt and tls.key for the webhook server.
	CertDir   string
	Hosts     Hosts
	Lifetimes Lifetimes
	// Target is where the webhook configurations must point.
	Target Target
	// Mutating and Validating are the layer's webhook configurations,
	// created as they are when missing; existing ones only get their client
	// configs pointed at Target with the CA bundle.
	Mutating   []admissionregistrationv1.MutatingWebhookConfiguration
	Validating []admissionregistrationv1.ValidatingWebhookConfiguration
	// Interval is how often certificates and configurations are checked
	// (default one minute): a configuration reinstalled by `helm upgrade`
	// gets its CA bundle back within it.
	Interval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NeedLeaderElection is false: every replica serves webhooks.
func (r *Rotator) NeedLeaderElection() bool { return false }

// Start checks certificates and configurations every Interval until ctx ends.
func (r *Rotator) Start(ctx context.Context) error {
	interval := r.Interval
	if interval == 0 {
		interval = time.Minute
	}
	log := klog.FromContext(ctx).WithName("webhook-certificates")
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := r.Ensure(ctx); err != nil {
			log.Error(err, "Keeping the webhook certificates current failed; retrying", "retryIn", interval)
		}
	}, interval)
	return nil
}

// Ensure makes the Secret, the files in CertDir and the webhook
// configurations current. The manager calls it once before it starts the
// webhook server, which needs the files.
func (r *Rotator) Ensure(ctx context.Context) error {
	bundle, previousCA, err := r.ensureSecret(ctx)
	if err != nil {
		return err
	}
	// The CA bundle first: a client that trusts the new CA may then meet
	// the new serving certificate. While a CA is replaced the old one stays
	// trusted until the next check.
	caBundle := append(bytes.Clone(bundle.CACert), previousCA...)
	if err := r.ensureConfigurations(ctx, caBundle); err != nil {
		return err
	}
	return writeIfChanged(r.CertDir, map[string][]byte{"tls.crt": bundle.ServingCert, "tls.key": bundle.Key})
}

// ensureSecret returns the current bundle, renewing what needs it, and the
// CA it replaced, if any.
func (r *Rotator) ensureSecret(ctx context.Context) (Bundle, []byte, error) {
	log := klog.FromContext(ctx)
	var bundle Bundle
	var previousCA []byte
	err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		secret := &corev1.Secret{}
		err := r.Client.Get(ctx, r.Secret, secret)
		missing := apierrors.IsNotFound(err)
		if err != nil && !missing {
			return fmt.Errorf("reading Secret %s: %w", r.Secret, err)
		}
		current := bundleOf(secret)
		plan := PlanFor(current, r.Hosts, r.lifetimes(), r.now())
		if plan == Keep {
			bundle = current
			return nil
		}
		log.Info("Renewing webhook certificates", "secret", klog.KRef(r.Secret.Namespace, r.Secret.Name), "plan", plan.String())
		next, err := Apply(plan, current, r.Hosts, r.lifetimes(), r.now(), r.Secret.Name+"-ca")
		if err != nil {
			return err
		}
		secret.Name, secret.Namespace, secret.Type = r.Secret.Name, r.Secret.Namespace, corev1.SecretTypeTLS
		secret.Data = map[string][]byte{
			caCertKey: next.CACert, caKeyKey: next.CAKey,
			corev1.TLSCertKey: next.ServingCert, corev1.TLSPrivateKeyKey: next.Key,
		}
		if missing {
			err = r.Client.Create(ctx, secret)
		} else {
			err = r.Client.Update(ctx, secret)
		}
		if err != nil {
			return fmt.Errorf("writing Secret %s: %w", r.Secret, err)
		}
		bundle, previousCA = next, nil
		if plan == RenewAll {
			previousCA = current.CACert
		}
		return nil
	})
	return bundle, previousCA, err
}

func bundleOf(s *corev1.Secret) Bundle {
	return Bundle{CACert: s.Data[caCertKey], CAKey: s.Data[caKeyKey], ServingCert: s.Data[corev1.TLSCertKey], Key: s.Data[corev1.TLSPrivateKeyKey]}
}

// ensureConfigurations creates missing webhook configurations and points
// existing ones at Target with caBundle.
func (r *Rotator) ensureConfigurations(ctx context.Context, caBundle []byte) error {
	for _, tmpl := range r.Mutating {
		err := r.ensureConfiguration(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{}, tmpl.DeepCopy(),
			func(o client.Object) bool {
				return PointMutating(o.(*admissionregistrationv1.MutatingWebhookConfiguration), r.Target, caBundle)
			})
		if err != nil {
			return err
		}
	}
	for _, tmpl := range r.Validating {
		err := r.ensureConfiguration(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{}, tmpl.DeepCopy(),
			func(o client.Object) bool {
				return PointValidating(o.(*admissionregistrationv1.ValidatingWebhookConfiguration), r.Target, caBundle)
			})
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Rotator) ensureConfiguration(ctx context.Context, current, tmpl client.Object, point func(client.Object) bool) error {
	kind := fmt.Sprintf("%T", tmpl)[len("*v1."):]
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := r.Client.Get(ctx, client.ObjectKeyFromObject(tmpl), current)
		if apierrors.IsNotFound(err) {
			point(tmpl)
			klog.FromContext(ctx).Info("Creating webhook configuration", "kind", kind, "name", tmpl.GetName())
			if err := r.Client.Create(ctx, tmpl); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("creating %s %s: %w", kind, tmpl.GetName(), err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s %s: %w", kind, tmpl.GetName(), err)
		}
		if !point(current) {
			return nil
		}
		klog.FromContext(ctx).Info("Updating webhook configuration", "kind", kind, "name", current.GetName())
		if err := r.Client.Update(ctx, current); err != nil {
			return fmt.Errorf("updating %s %s: %w", kind, current.GetName(), err)
		}
		return nil
	})
}

func (r *Rotator) lifetimes() Lifetimes {
	if r.Lifetimes == (Lifetimes{}) {
		return DefaultLifetimes
	}
	return r.Lifetimes
}

func (r *Rotator) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// writeIfChanged writes files into dir, each atomically (rename), only when
// its content differs, so the webhook server's certificate watcher sees
// complete files and reloads only on real changes.
func writeIfChanged(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return nil
}
