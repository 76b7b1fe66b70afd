package pki

import (
	"crypto/x509"
	"os"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestCAIsCreatedOnceAndSignsLeaves(t *testing.T) {
	dir := Dir(t.TempDir())
	ca, err := dir.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	again, err := dir.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.Equal(again.Cert) {
		t.Fatal("EnsureCA created a second CA instead of loading the first")
	}

	if err := dir.EnsureServingCert(ca, "apiserver", []string{"localhost", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	serving, _, err := loadPair(dir.CertFile("apiserver"), dir.KeyFile("apiserver"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	if _, err := serving.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
		t.Errorf("serving certificate does not verify for localhost: %v", err)
	}
	if err := serving.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("serving certificate does not cover 127.0.0.1: %v", err)
	}

	// A new SAN forces a new serving certificate.
	if err := dir.EnsureServingCert(ca, "apiserver", []string{"localhost", "10.0.0.7"}); err != nil {
		t.Fatal(err)
	}
	reissued, _, _ := loadPair(dir.CertFile("apiserver"), dir.KeyFile("apiserver"))
	if reissued.VerifyHostname("10.0.0.7") != nil {
		t.Error("serving certificate was not reissued for a new SAN")
	}
}

func TestClientCertAndKubeconfig(t *testing.T) {
	dir := Dir(t.TempDir())
	ca, err := dir.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.EnsureClientCert(ca, "admin", "strata-admin", []string{"system:masters"}); err != nil {
		t.Fatal(err)
	}
	cert, _, err := loadPair(dir.CertFile("admin"), dir.KeyFile("admin"))
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "strata-admin" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "system:masters" {
		t.Errorf("client certificate subject = %v, want CN=strata-admin O=system:masters", cert.Subject)
	}
	path := string(dir) + "/admin.kubeconfig"
	if err := dir.WriteKubeconfig(path, "https://127.0.0.1:6443", "strata", "admin"); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm()&0o077 != 0 {
		t.Errorf("kubeconfig mode %v is readable by others", info.Mode().Perm())
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:6443" || len(cfg.CAData) == 0 || len(cfg.CertData) == 0 {
		t.Errorf("kubeconfig incomplete: host=%q ca=%d cert=%d", cfg.Host, len(cfg.CAData), len(cfg.CertData))
	}
}
