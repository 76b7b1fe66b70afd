// Package pki creates the nucleus' certificate authority, its serving
// certificate and client credentials, and writes kubeconfig files.
//
// Everything lives as PEM files in one directory (the data dir's pki/). Files
// are created on first use and reused afterwards, so a restarted nucleus
// keeps its identity and issued kubeconfigs keep working.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/keyutil"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
)

// Dir is a directory of PEM files.
type Dir string

// CACertFile is the path of the cluster CA certificate.
func (d Dir) CACertFile() string { return filepath.Join(string(d), "ca.crt") }

// CAKeyFile is the path of the cluster CA key.
func (d Dir) CAKeyFile() string { return filepath.Join(string(d), "ca.key") }

// CertFile and KeyFile name the certificate and key of a named identity.
func (d Dir) CertFile(name string) string { return filepath.Join(string(d), name+".crt") }

// KeyFile names the key of a named identity.
func (d Dir) KeyFile(name string) string { return filepath.Join(string(d), name+".key") }

// CA is a certificate authority that can sign leaf certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// EnsureCA loads the CA from d or creates it.
func (d Dir) EnsureCA() (*CA, error) {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", d, err)
	}
	if exists(d.CACertFile()) {
		return d.loadCA()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "strata-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating CA certificate: %w", err)
	}
	if err := writePair(d.CACertFile(), d.CAKeyFile(), der, key); err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key}, nil
}

// LoadCA loads an existing CA from d; it does not create one.
func (d Dir) LoadCA() (*CA, error) {
	if !exists(d.CACertFile()) || !exists(d.CAKeyFile()) {
		return nil, fmt.Errorf("no CA in %s: %w", d, os.ErrNotExist)
	}
	return d.loadCA()
}

// IssueClientCert signs a new client certificate for user in groups
// (CN=user, O=groups) and returns it and its key as PEM, without writing
// anything.
func (ca *CA) IssueClientCert(user string, groups []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	// One RDN per group keeps the groups in the order given (a single
	// multi-valued RDN would be sorted by DER).
	subject := pkix.Name{CommonName: user}
	for _, g := range groups {
		subject.ExtraNames = append(subject.ExtraNames, pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: g})
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing client certificate for %s: %w", user, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

func (d Dir) loadCA() (*CA, error) {
	cert, key, err := loadPair(d.CACertFile(), d.CAKeyFile())
	if err != nil {
		return nil, fmt.Errorf("loading CA from %s: %w", d, err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// EnsureServingCert writes a serving certificate for hosts (DNS names and
// IPs) under name, unless one exists that already covers them.
func (d Dir) EnsureServingCert(ca *CA, name string, hosts []string) error {
	if exists(d.CertFile(name)) {
		if cert, _, err := loadPair(d.CertFile(name), d.KeyFile(name)); err == nil && covers(cert, hosts) && time.Now().Before(cert.NotAfter) {
			return nil
		}
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return d.sign(ca, name, tmpl)
}

// EnsureClientCert writes a client certificate for user in groups under
// name, unless one exists.
func (d Dir) EnsureClientCert(ca *CA, name, user string, groups []string) error {
	if exists(d.CertFile(name)) {
		return nil
	}
	return d.WriteClientCert(ca, name, user, groups)
}

// WriteClientCert writes a new client certificate for user in groups.
func (d Dir) WriteClientCert(ca *CA, name, user string, groups []string) error {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return d.sign(ca, name, tmpl)
}

func (d Dir) sign(ca *CA, name string, tmpl *x509.Certificate) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(leafValidity)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return fmt.Errorf("signing certificate %s: %w", name, err)
	}
	return writePair(d.CertFile(name), d.KeyFile(name), der, key)
}

// WriteKubeconfig writes a kubeconfig at path that reaches server with the
// client certificate stored under name, trusting the CA.
func (d Dir) WriteKubeconfig(path, server, contextName, name string) error {
	caPEM, err := os.ReadFile(d.CACertFile())
	if err != nil {
		return err
	}
	certPEM, err := os.ReadFile(d.CertFile(name))
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(d.KeyFile(name))
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[contextName] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	cfg.CurrentContext = contextName
	return clientcmd.WriteToFile(*cfg, path)
}

func writePair(certPath, keyPath string, der []byte, key crypto.Signer) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func loadPair(certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, nil, errors.New("no PEM certificate in " + certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	keyAny, err := keyutil.PrivateKeyFromFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	signer, ok := keyAny.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("key in " + keyPath + " cannot sign")
	}
	return cert, signer, nil
}

func covers(cert *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}
