package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "valid", data: `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: https://issuer.example.com
    audiences: [api]
  claimMappings:
    username:
      claim: sub
      prefix: "oidc:"
`},
		{name: "issuer not https", data: `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: http://issuer.example.com
    audiences: [api]
  claimMappings:
    username: {claim: sub, prefix: ""}
`, wantErr: "jwt[0].issuer.url"},
		{name: "no audiences", data: `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: https://issuer.example.com
  claimMappings:
    username: {claim: sub, prefix: ""}
`, wantErr: "jwt[0].issuer.audiences"},
		{name: "service account issuer", data: `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: https://kubernetes.default.svc.cluster.local
    audiences: [api]
  claimMappings:
    username: {claim: sub, prefix: ""}
`, wantErr: "jwt[0].issuer.url"},
		{name: "unknown field", data: `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwts: []
`, wantErr: "unknown field"},
		{name: "wrong kind", data: `apiVersion: apiserver.config.k8s.io/v1
kind: AuthorizationConfiguration
authorizers: []
`, wantErr: "expected AuthenticationConfiguration"},
		{name: "not yaml", data: "{{{", wantErr: "decoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.data), []string{"https://kubernetes.default.svc.cluster.local"})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load() = %v; want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authn.yaml")
	if err := os.WriteFile(path, []byte("kind: Nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("LoadFile() = %v; want the path in the error", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing"), nil); err == nil || !strings.Contains(err.Error(), "--authentication-config") {
		t.Fatalf("LoadFile(missing) = %v", err)
	}
}
