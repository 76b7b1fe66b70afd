package authentication

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	api "k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"

	"github.com/strata-dev/strata/nucleus/pki"
)

func newTestAuthentication(t *testing.T, authnConfig *api.AuthenticationConfiguration) *Authentication {
	t.Helper()
	dir := t.TempDir()
	if _, err := pki.Dir(dir).EnsureCA(); err != nil {
		t.Fatal(err)
	}
	clientCA, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca", pki.Dir(dir).CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte("s3cr3t,jane,jane-uid,\"dev\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Config{
		ClientCA:      clientCA,
		TokenAuthFile: tokens,
		ServiceAccounts: ServiceAccountConfig{
			Issuer:       "https://kubernetes.default.svc.cluster.local",
			Key:          key,
			JWKSURI:      "https://127.0.0.1:6443/openid/v1/jwks",
			APIAudiences: []string{"https://kubernetes.default.svc.cluster.local"},
		},
		AuthenticationConfig: authnConfig,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRequestChain(t *testing.T) {
	tests := []struct {
		name     string
		config   *api.AuthenticationConfiguration
		path     string
		token    string
		wantUser user.Info
		wantErr  bool
	}{
		{name: "static token", token: "s3cr3t", wantUser: &user.DefaultInfo{Name: "jane", UID: "jane-uid", Groups: []string{"dev", "system:authenticated"}}},
		{name: "unknown token fails, no anonymous fallback", token: "nope", wantErr: true},
		{name: "JWT of another issuer fails", token: "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", wantErr: true},
		{name: "no credential is anonymous", wantUser: &user.DefaultInfo{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}}},
		{name: "anonymous disabled", config: &api.AuthenticationConfiguration{Anonymous: &api.AnonymousAuthConfig{Enabled: false}}},
		{name: "anonymous outside its conditions", path: "/api", config: &api.AuthenticationConfiguration{Anonymous: &api.AnonymousAuthConfig{Enabled: true, Conditions: []api.AnonymousAuthCondition{{Path: "/livez"}}}}},
		{name: "anonymous within its conditions", path: "/livez", config: &api.AuthenticationConfiguration{Anonymous: &api.AnonymousAuthConfig{Enabled: true, Conditions: []api.AnonymousAuthCondition{{Path: "/livez"}}}},
			wantUser: &user.DefaultInfo{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAuthentication(t, tt.config)
			path := tt.path
			if path == "" {
				path = "/api"
			}
			req, _ := http.NewRequest(http.MethodGet, "https://127.0.0.1:6443"+path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, ok, err := a.Request.AuthenticateRequest(req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("AuthenticateRequest() error = %v; want error %v", err, tt.wantErr)
			}
			if tt.wantUser == nil {
				if ok {
					t.Fatalf("AuthenticateRequest() authenticated %v; want nothing", resp.User)
				}
				return
			}
			if !ok {
				t.Fatal("AuthenticateRequest() did not authenticate")
			}
			if diff := cmp.Diff(tt.wantUser, resp.User); diff != "" {
				t.Errorf("user (-want +got)\n%s", diff)
			}
		})
	}
}

func TestDiscoveryNeedsHTTPSIssuer(t *testing.T) {
	a := newTestAuthentication(t, nil)
	if a.Discovery == nil {
		t.Error("no discovery for an https issuer")
	}
}
