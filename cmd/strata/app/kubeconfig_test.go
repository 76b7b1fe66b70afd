package app

import (
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/strata-dev/strata/nucleus/pki"
)

func TestKubeconfigSignsUserAndGroups(t *testing.T) {
	dataDir := t.TempDir()
	dir := pki.Dir(filepath.Join(dataDir, "pki"))
	ca, err := dir.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	o := &kubeconfigOptions{dataDir: dataDir, user: "jane", groups: []string{"dev", "qa"}, server: "https://10.0.0.1:6443"}
	data, err := o.run()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if got := cfg.Clusters[ctx.Cluster].Server; got != "https://10.0.0.1:6443" {
		t.Errorf("server = %q", got)
	}
	block, _ := pem.Decode(cfg.AuthInfos[ctx.AuthInfo].ClientCertificateData)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "jane" {
		t.Errorf("CN = %q", cert.Subject.CommonName)
	}
	if diff := cmp.Diff([]string{"dev", "qa"}, cert.Subject.Organization); diff != "" {
		t.Errorf("O (-want +got)\n%s", diff)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("certificate not signed by the CA: %v", err)
	}
}

func TestKubeconfigWithoutCA(t *testing.T) {
	dataDir := t.TempDir()
	_, err := (&kubeconfigOptions{dataDir: dataDir, user: "jane"}).run()
	want := "no CA in " + filepath.Join(dataDir, "pki") + ": start `strata nucleus --data-dir " + dataDir + "` first"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v; want %q", err, want)
	}
	if _, err := (&kubeconfigOptions{dataDir: dataDir}).run(); err == nil || !strings.Contains(err.Error(), "--user is required") {
		t.Errorf("error without --user = %v", err)
	}
}
