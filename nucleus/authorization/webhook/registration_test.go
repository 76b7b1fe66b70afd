package webhook

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func testCA(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func cm(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "rbac", Namespace: Namespace, Labels: map[string]string{Label: "true"}}, Data: data}
}

func TestParse(t *testing.T) {
	ca := testCA(t)
	u, _ := url.Parse("https://authz.example.com:8443/authorize")
	for _, tc := range []struct {
		name    string
		data    map[string]string
		want    *Registration
		wantErr []string
	}{
		{name: "URL with defaults", data: map[string]string{"url": "https://authz.example.com:8443/authorize"},
			want: &Registration{Name: "rbac", URL: u, Timeout: DefaultTimeout, FailurePolicy: authorizer.DecisionNoOpinion}},
		{name: "Service with everything", data: map[string]string{
			"service": "strata-system/rbac:8443", "path": "/authorize", "caBundle": ca, "timeout": "3s",
			"failurePolicy": "Deny", "order": "-5", "exemptServiceAccounts": "rbac-server, rbac-manager",
		}, want: &Registration{Name: "rbac", Service: &ServiceReference{Namespace: "strata-system", Name: "rbac", Port: 8443, Path: "/authorize"},
			CABundle: []byte(ca), Timeout: 3 * time.Second, FailurePolicy: authorizer.DecisionDeny, Order: -5,
			ExemptServiceAccounts: []string{"rbac-server", "rbac-manager"}}},
		{name: "Service port defaults to 443", data: map[string]string{"service": "ns/svc"},
			want: &Registration{Name: "rbac", Service: &ServiceReference{Namespace: "ns", Name: "svc", Port: 443}, Timeout: DefaultTimeout, FailurePolicy: authorizer.DecisionNoOpinion}},
		{name: "neither url nor service", data: map[string]string{}, wantErr: []string{"data[url]: Required value"}},
		{name: "both url and service", data: map[string]string{"url": "https://a.example.com", "service": "ns/svc"}, wantErr: []string{"data[service]: Invalid value", "exactly one of url or service"}},
		{name: "http URL", data: map[string]string{"url": "http://a.example.com"}, wantErr: []string{"data[url]", "scheme must be https"}},
		{name: "URL with user", data: map[string]string{"url": "https://u:p@a.example.com"}, wantErr: []string{"user information"}},
		{name: "URL with query", data: map[string]string{"url": "https://a.example.com/?x=1"}, wantErr: []string{"query and fragment"}},
		{name: "path with url", data: map[string]string{"url": "https://a.example.com", "path": "/x"}, wantErr: []string{"data[path]"}},
		{name: "service without namespace", data: map[string]string{"service": "svc:443"}, wantErr: []string{"data[service]", "namespace/name"}},
		{name: "service bad port", data: map[string]string{"service": "ns/svc:99999"}, wantErr: []string{"between 1 and 65535"}},
		{name: "service bad name", data: map[string]string{"service": "ns/Svc_1"}, wantErr: []string{"data[service]"}},
		{name: "relative path", data: map[string]string{"service": "ns/svc", "path": "authorize"}, wantErr: []string{"data[path]", "must start with /"}},
		{name: "bad CA", data: map[string]string{"url": "https://a.example.com", "caBundle": "not pem"}, wantErr: []string{"data[caBundle]"}},
		{name: "bad timeout", data: map[string]string{"url": "https://a.example.com", "timeout": "soon"}, wantErr: []string{"data[timeout]", "duration"}},
		{name: "timeout too long", data: map[string]string{"url": "https://a.example.com", "timeout": "1m"}, wantErr: []string{"at most 30s"}},
		{name: "bad failure policy", data: map[string]string{"url": "https://a.example.com", "failurePolicy": "Allow"}, wantErr: []string{"data[failurePolicy]: Unsupported value"}},
		{name: "bad order", data: map[string]string{"url": "https://a.example.com", "order": "first"}, wantErr: []string{"data[order]"}},
		{name: "bad exempt account", data: map[string]string{"url": "https://a.example.com", "exemptServiceAccounts": "Bad_Name"}, wantErr: []string{"data[exemptServiceAccounts]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(cm(tc.data))
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("registration (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsRegistration(t *testing.T) {
	c := cm(nil)
	if !IsRegistration(c) {
		t.Error("labelled ConfigMap of kube-system is not a registration")
	}
	c.Namespace = "default"
	if IsRegistration(c) {
		t.Error("ConfigMap of another namespace is a registration")
	}
	c = cm(nil)
	c.Labels[Label] = "false"
	if IsRegistration(c) {
		t.Error("ConfigMap labelled false is a registration")
	}
}

func TestSort(t *testing.T) {
	regs := []*Registration{{Name: "b", Order: 1}, {Name: "c"}, {Name: "a", Order: 1}, {Name: "d", Order: -1}}
	Sort(regs)
	var got []string
	for _, r := range regs {
		got = append(got, r.Name)
	}
	if diff := cmp.Diff([]string{"d", "c", "a", "b"}, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
