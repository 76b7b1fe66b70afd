/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package webhookcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

// Bundle is what the manager keeps in its Secret: a CA and the serving
// certificate it signed, PEM encoded.
type Bundle struct {
	CACert, CAKey    []byte
	ServingCert, Key []byte
}

// Hosts are the names the serving certificate must be valid for: the DNS
// names of the webhook Service and, out of cluster, the host of the URL.
type Hosts struct {
	DNSNames []string
	IPs      []net.IP
}

// Lifetimes says how long certificates live and when they are renewed.
type Lifetimes struct {
	CA, Serving time.Duration
	// RenewBefore renews a certificate once it has less than this left.
	RenewBefore time.Duration
}

// DefaultLifetimes: a CA for ten years, serving certificates for 90 days
// renewed 30 days before they expire.
var DefaultLifetimes = Lifetimes{CA: 10 * 365 * 24 * time.Hour, Serving: 90 * 24 * time.Hour, RenewBefore: 30 * 24 * time.Hour}

// Plan is what must happen to a bundle at a point in time.
type Plan int

const (
	// Keep the bundle as it is.
	Keep Plan = iota
	// RenewServing issues a new serving certificate from the same CA.
	RenewServing
	// RenewAll creates a new CA and a serving certificate.
	RenewAll
)

func (p Plan) String() string {
	return [...]string{"keep", "renew serving certificate", "renew CA and serving certificate"}[p]
}

// PlanFor decides what to do with b at now: the CA is replaced when it is
// missing, unparsable or about to expire; the serving certificate when it is
// not signed by the CA, expires soon or does not cover hosts.
func PlanFor(b Bundle, hosts Hosts, l Lifetimes, now time.Time) Plan {
	ca, _, err := parsePair(b.CACert, b.CAKey)
	if err != nil || !ca.IsCA || expiresSoon(ca, l.RenewBefore, now) {
		return RenewAll
	}
	leaf, _, err := parsePair(b.ServingCert, b.Key)
	if err != nil || expiresSoon(leaf, l.RenewBefore, now) || leaf.CheckSignatureFrom(ca) != nil || !covers(leaf, hosts) {
		return RenewServing
	}
	return Keep
}

// Apply carries out plan p on b, returning the new bundle.
func Apply(p Plan, b Bundle, hosts Hosts, l Lifetimes, now time.Time, caName string) (Bundle, error) {
	switch p {
	case Keep:
		return b, nil
	case RenewAll:
		certPEM, keyPEM, err := newCA(caName, l.CA, now)
		if err != nil {
			return Bundle{}, err
		}
		b = Bundle{CACert: certPEM, CAKey: keyPEM}
	}
	ca, caKey, err := parsePair(b.CACert, b.CAKey)
	if err != nil {
		return Bundle{}, fmt.Errorf("reading the CA: %w", err)
	}
	b.ServingCert, b.Key, err = newServing(ca, caKey, hosts, l.Serving, now)
	return b, err
}

func expiresSoon(c *x509.Certificate, renewBefore time.Duration, now time.Time) bool {
	return now.Before(c.NotBefore) || !now.Add(renewBefore).Before(c.NotAfter)
}

func covers(c *x509.Certificate, hosts Hosts) bool {
	for _, name := range hosts.DNSNames {
		if !slices.Contains(c.DNSNames, name) {
			return false
		}
	}
	for _, ip := range hosts.IPs {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func newCA(name string, validity time.Duration, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", name, now.Unix())},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the CA certificate: %w", err)
	}
	return encode(der, key)
}

func newServing(ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts Hosts, validity time.Duration, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	cn := "webhook"
	if len(hosts.DNSNames) > 0 {
		cn = hosts.DNSNames[0]
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     hosts.DNSNames,
		IPAddresses:  hosts.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing the serving certificate: %w", err)
	}
	return encode(der, key)
}

func encode(der []byte, key *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("missing PEM data")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, errors.New("key does not match certificate")
	}
	return cert, key, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}
