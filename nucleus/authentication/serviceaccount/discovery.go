package serviceaccount

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	jose "github.com/go-jose/go-jose/v4"
)

// Paths of the issuer discovery documents.
const (
	OpenIDConfigurationPath = "/.well-known/openid-configuration"
	JWKSPath                = "/openid/v1/jwks"
)

// openIDMetadata is the subset of OpenID Provider Metadata upstream serves.
type openIDMetadata struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

// Discovery holds the serialized discovery documents.
type Discovery struct {
	config []byte
	jwks   []byte
}

// NewDiscovery builds the documents for issuer (which must be an https URL,
// as OpenID Connect discovery requires) publishing keys at jwksURI.
func NewDiscovery(issuer, jwksURI string, keys []jose.JSONWebKey) (*Discovery, error) {
	if u, err := url.Parse(issuer); err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("service account issuer %q is not an https URL: issuer discovery is not served", issuer)
	}
	if u, err := url.Parse(jwksURI); err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("JWKS URI %q is not an https URL", jwksURI)
	}
	algs := []string{}
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k.Algorithm] {
			seen[k.Algorithm] = true
			algs = append(algs, k.Algorithm)
		}
	}
	config, err := json.Marshal(openIDMetadata{
		Issuer:        issuer,
		JWKSURI:       jwksURI,
		ResponseTypes: []string{"id_token"},
		SubjectTypes:  []string{"public"},
		SigningAlgs:   algs,
	})
	if err != nil {
		return nil, err
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		return nil, err
	}
	return &Discovery{config: config, jwks: jwks}, nil
}

// ConfigurationHandler serves /.well-known/openid-configuration.
func (d *Discovery) ConfigurationHandler() http.Handler {
	return documentHandler(d.config, "application/json")
}

// JWKSHandler serves /openid/v1/jwks.
func (d *Discovery) JWKSHandler() http.Handler {
	return documentHandler(d.jwks, "application/jwk-set+json")
}

func documentHandler(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
