// Package authentication assembles the nucleus' authenticators: X.509
// client certificates, static bearer tokens, ServiceAccount tokens, JWT
// (OIDC) issuers from the structured authentication configuration, then
// anonymous.
package authentication

import (
	"context"
	"crypto"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	api "k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	tokenunion "k8s.io/apiserver/pkg/authentication/token/union"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/plugin/pkg/authenticator/token/oidc"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/authentication/serviceaccount"
)

// Config is what the authenticators are built from.
type Config struct {
	// ClientCA verifies client certificates.
	ClientCA dynamiccertificates.CAContentProvider
	// TokenAuthFile is a static token CSV file (optional).
	TokenAuthFile string
	// ServiceAccounts configures ServiceAccount tokens.
	ServiceAccounts ServiceAccountConfig
	// AuthenticationConfig holds the JWT issuers (optional).
	AuthenticationConfig *api.AuthenticationConfiguration
	// Getter finds the objects ServiceAccount tokens are bound to.
	Getter serviceaccount.Getter
}

// ServiceAccountConfig configures ServiceAccount tokens.
type ServiceAccountConfig struct {
	// Issuer is the "iss" of issued tokens and the one accepted.
	Issuer string
	// Key signs tokens; its public key verifies them.
	Key crypto.Signer
	// JWKSURI is published in the discovery document.
	JWKSURI string
	// APIAudiences are the audiences the API accepts, and the default
	// audiences of requested tokens.
	APIAudiences []string
	// MaxExpiration caps requested token lifetimes (0: no cap).
	MaxExpiration time.Duration
	// ExtendExpiration lets pod-bound tokens requested for the kubelet's
	// default lifetime live a year, with a warnafter claim.
	ExtendExpiration bool
}

// Authentication is the assembled authentication of the nucleus.
type Authentication struct {
	// Request authenticates API requests (anonymous last).
	Request authenticator.Request
	// Token authenticates bearer tokens only, for TokenReview.
	Token authenticator.Request
	// APIAudiences are the audiences of the API.
	APIAudiences authenticator.Audiences
	// ServiceAccounts issues tokens for the TokenRequest API.
	ServiceAccounts *TokenIssuance
	// Discovery serves the issuer discovery documents; nil when the
	// issuer is not an https URL.
	Discovery *serviceaccount.Discovery
}

// TokenIssuance is what the TokenRequest API needs.
type TokenIssuance struct {
	Issuer           *serviceaccount.Issuer
	APIAudiences     authenticator.Audiences
	MaxExpiration    time.Duration
	ExtendExpiration bool
	Getter           serviceaccount.Getter
}

// signingAlgorithms are the JOSE algorithms accepted from JWT issuers.
var signingAlgorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}

// New builds the authenticators. ctx bounds the JWT issuers' background
// key fetching.
func New(ctx context.Context, c Config) (*Authentication, error) {
	sa := c.ServiceAccounts
	auds := authenticator.Audiences(sa.APIAudiences)
	issuer, err := serviceaccount.NewIssuer(sa.Issuer, sa.Key)
	if err != nil {
		return nil, err
	}
	tokens := []authenticator.Token{
		serviceaccount.NewAuthenticator(sa.Issuer, []crypto.PublicKey{sa.Key.Public()}, auds, c.Getter),
	}
	if c.TokenAuthFile != "" {
		tf, err := tokenfile.NewCSV(c.TokenAuthFile)
		if err != nil {
			return nil, fmt.Errorf("--token-auth-file: %w", err)
		}
		tokens = append(tokens, authenticator.WrapAudienceAgnosticToken(auds, tf))
	}
	if c.AuthenticationConfig != nil {
		for i, j := range c.AuthenticationConfig.JWT {
			var ca oidc.CAContentProvider
			if j.Issuer.CertificateAuthority != "" {
				ca, err = dynamiccertificates.NewStaticCAContent(fmt.Sprintf("jwt-authenticator-%d", i), []byte(j.Issuer.CertificateAuthority))
				if err != nil {
					return nil, fmt.Errorf("jwt[%d].issuer.certificateAuthority: %w", i, err)
				}
			}
			a, err := oidc.New(ctx, oidc.Options{
				JWTAuthenticator:     j,
				CAContentProvider:    ca,
				SupportedSigningAlgs: signingAlgorithms,
				DisallowedIssuers:    []string{sa.Issuer},
			})
			if err != nil {
				return nil, fmt.Errorf("jwt[%d] (issuer %s): %w", i, j.Issuer.URL, err)
			}
			tokens = append(tokens, authenticator.WrapAudienceAgnosticToken(auds, a))
		}
	}
	bearer := bearertoken.New(tokenunion.New(tokens...))
	certs := x509request.NewDynamic(c.ClientCA.VerifyOptions, x509request.CommonNameUserConversion)

	request := group.NewAuthenticatedGroupAdder(union.New(certs, bearer))
	if anon := anonymousAuthenticator(c.AuthenticationConfig); anon != nil {
		// As upstream: a presented but invalid credential fails the
		// request; only requests without any become system:anonymous.
		request = union.NewFailOnError(request, anon)
	}
	out := &Authentication{
		Request:      request,
		Token:        group.NewAuthenticatedGroupAdder(bearer),
		APIAudiences: auds,
		ServiceAccounts: &TokenIssuance{
			Issuer:           issuer,
			APIAudiences:     auds,
			MaxExpiration:    sa.MaxExpiration,
			ExtendExpiration: sa.ExtendExpiration,
			Getter:           c.Getter,
		},
	}
	d, err := serviceaccount.NewDiscovery(sa.Issuer, sa.JWKSURI, []jose.JSONWebKey{issuer.JWK()})
	if err != nil {
		klog.FromContext(ctx).Info("Not serving ServiceAccount issuer discovery", "reason", err.Error())
	} else {
		out.Discovery = d
	}
	return out, nil
}

// anonymousAuthenticator is the last authenticator of the chain: enabled
// unless the configuration disables it, limited to its conditions (paths)
// if it names any.
func anonymousAuthenticator(c *api.AuthenticationConfiguration) authenticator.Request {
	if c == nil || c.Anonymous == nil {
		return anonymous.NewAuthenticator(nil)
	}
	if !c.Anonymous.Enabled {
		return nil
	}
	return anonymous.NewAuthenticator(c.Anonymous.Conditions)
}

// Handle registers the discovery documents on mux, if served.
func (a *Authentication) Handle(mux interface {
	Handle(pattern string, handler http.Handler)
}) {
	if a == nil || a.Discovery == nil {
		return
	}
	mux.Handle(serviceaccount.OpenIDConfigurationPath, a.Discovery.ConfigurationHandler())
	mux.Handle(serviceaccount.JWKSPath, a.Discovery.JWKSHandler())
}
