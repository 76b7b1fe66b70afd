package server

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-dev/strata/nucleus/pki"
)

// A rotated client CA and serving certificate are used without a restart:
// clients of the new CA authenticate, and clients trusting the new CA
// connect.
func TestCertificatesFollowTheirFiles(t *testing.T) {
	oldPKI, nextPKI := pki.Dir(t.TempDir()), pki.Dir(t.TempDir())
	oldCA, err := oldPKI.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	nextCA, err := nextPKI.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir  pki.Dir
		ca   *pki.CA
		user string
	}{{oldPKI, oldCA, "alice"}, {nextPKI, nextCA, "bob"}} {
		if err := c.dir.EnsureServingCert(c.ca, "kubelet", []string{"127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		if err := c.dir.WriteClientCert(c.ca, c.user, c.user, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The kubelet's files, first the old CA's.
	files := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(files, "kubelet.crt"), filepath.Join(files, "kubelet.key"), filepath.Join(files, "ca.crt")
	install := func(d pki.Dir) {
		t.Helper()
		for src, dst := range map[string]string{d.CertFile("kubelet"): certFile, d.KeyFile("kubelet"): keyFile, d.CACertFile(): caFile} {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst+".tmp", data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dst+".tmp", dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(oldPKI)

	certs, err := LoadCertificates(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	go certs.Run(t.Context())
	authn, err := NewAuthenticator(AuthenticatorConfig{ClientCA: certs.ClientCA()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, ok, err := authn.AuthenticateRequest(r)
		if err != nil || !ok {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, resp.User.GetName())
	}))
	ts.TLS = certs.TLSConfig()
	ts.StartTLS()
	defer ts.Close()

	// who asks as user of d's CA, trusting d's CA as the server's.
	who := func(d pki.Dir, user string) (string, error) {
		pem, err := os.ReadFile(d.CACertFile())
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		cert, err := tls.LoadX509KeyPair(d.CertFile(user), d.KeyFile(user))
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}},
		}}
		defer client.CloseIdleConnections()
		resp, err := client.Get(ts.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.Status + " " + string(body), nil
	}

	if got, err := who(oldPKI, "alice"); err != nil || got != "200 OK alice" {
		t.Fatalf("a client of the old CA: %q, %v; want 200 OK alice", got, err)
	}
	if _, err := who(nextPKI, "bob"); err == nil {
		t.Fatal("a client trusting only the next CA accepted the old CA's serving certificate")
	}

	install(nextPKI)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := who(nextPKI, "bob")
		if err == nil && got == "200 OK bob" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the rotation, a client of the next CA: %q, %v; want 200 OK bob", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := who(oldPKI, "alice"); err == nil {
		t.Errorf("after the rotation, a client trusting only the old CA connected: %q", got)
	}
}
