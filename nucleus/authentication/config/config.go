// Package config loads and validates the structured authentication
// configuration (apiserver.config.k8s.io AuthenticationConfiguration) given
// with --authentication-config.
package config

import (
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	api "k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/apis/apiserver/install"
	"k8s.io/apiserver/pkg/apis/apiserver/validation"
	authenticationcel "k8s.io/apiserver/pkg/authentication/cel"
)

var (
	scheme = runtime.NewScheme()
	codecs = serializer.NewCodecFactory(scheme, serializer.EnableStrict)
)

func init() {
	install.Install(scheme)
}

// LoadFile reads the configuration at path. disallowedIssuers are issuers
// JWT authenticators may not use (the ServiceAccount issuer).
func LoadFile(path string, disallowedIssuers []string) (*api.AuthenticationConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --authentication-config: %w", err)
	}
	c, err := Load(data, disallowedIssuers)
	if err != nil {
		return nil, fmt.Errorf("--authentication-config %s: %w", path, err)
	}
	return c, nil
}

// Load decodes (strictly: unknown fields are errors) and validates a
// configuration.
func Load(data []byte, disallowedIssuers []string) (*api.AuthenticationConfiguration, error) {
	obj, gvk, err := codecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	c, ok := obj.(*api.AuthenticationConfiguration)
	if !ok {
		return nil, fmt.Errorf("expected AuthenticationConfiguration, got %s", gvk)
	}
	if errs := validation.ValidateAuthenticationConfiguration(authenticationcel.NewDefaultCompiler(), c, disallowedIssuers); len(errs) > 0 {
		return nil, fmt.Errorf("invalid: %w", errs.ToAggregate())
	}
	return c, nil
}
