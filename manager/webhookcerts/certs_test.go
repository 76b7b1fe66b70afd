/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package webhookcerts

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

func TestPlanFor(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	l := Lifetimes{CA: 365 * 24 * time.Hour, Serving: 30 * 24 * time.Hour, RenewBefore: 10 * 24 * time.Hour}
	hosts := Hosts{DNSNames: []string{"strata-apps-webhook.strata-system.svc"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}
	fresh, err := Apply(RenewAll, Bundle{}, hosts, l, now, "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	other, err := Apply(RenewAll, Bundle{}, hosts, l, now, "other-ca")
	if err != nil {
		t.Fatal(err)
	}
	mixed := fresh
	mixed.ServingCert, mixed.Key = other.ServingCert, other.Key

	tests := []struct {
		name  string
		b     Bundle
		hosts Hosts
		at    time.Time
		want  Plan
	}{
		{"empty secret", Bundle{}, hosts, now, RenewAll},
		{"fresh bundle", fresh, hosts, now, Keep},
		{"serving certificate renewed before it expires", fresh, hosts, now.Add(21 * 24 * time.Hour), RenewServing},
		{"still valid a day earlier", fresh, hosts, now.Add(19 * 24 * time.Hour), Keep},
		{"CA about to expire", fresh, hosts, now.Add(356 * 24 * time.Hour), RenewAll},
		{"serving certificate of another CA", mixed, hosts, now, RenewServing},
		{"new host name", fresh, Hosts{DNSNames: []string{"other.strata-system.svc"}}, now, RenewServing},
		{"serving certificate missing", Bundle{CACert: fresh.CACert, CAKey: fresh.CAKey}, hosts, now, RenewServing},
		{"garbage CA", Bundle{CACert: []byte("x"), CAKey: []byte("y")}, hosts, now, RenewAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlanFor(tt.b, tt.hosts, l, tt.at); got != tt.want {
				t.Errorf("PlanFor = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServingCertificateVerifiesAgainstCA(t *testing.T) {
	now := time.Now()
	hosts := Hosts{DNSNames: []string{"svc.ns.svc"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}
	b, err := Apply(RenewAll, Bundle{}, hosts, DefaultLifetimes, now, "ca")
	if err != nil {
		t.Fatal(err)
	}
	// Renewing the serving certificate keeps the CA.
	renewed, err := Apply(RenewServing, b, hosts, DefaultLifetimes, now, "ca")
	if err != nil {
		t.Fatal(err)
	}
	if string(renewed.CACert) != string(b.CACert) || string(renewed.ServingCert) == string(b.ServingCert) {
		t.Fatal("RenewServing must keep the CA and replace the serving certificate")
	}
	pair, err := tls.X509KeyPair(renewed.ServingCert, renewed.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.CACert)
	for _, name := range []string{"svc.ns.svc", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("verifying for %s: %v", name, err)
		}
	}
}
