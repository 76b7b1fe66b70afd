package options

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/client-go/kubernetes"

	"github.com/strata-dev/strata/nucleus/authentication"
	authnconfig "github.com/strata-dev/strata/nucleus/authentication/config"
	"github.com/strata-dev/strata/nucleus/authentication/serviceaccount"
)

// AuthenticationOptions are the flags of the nucleus' authenticators.
type AuthenticationOptions struct {
	// TokenAuthFile is a static bearer token CSV file.
	TokenAuthFile string
	// ServiceAccountIssuer is the "iss" of ServiceAccount tokens.
	ServiceAccountIssuer string
	// ServiceAccountKeyFile signs ServiceAccount tokens; empty means
	// <data-dir>/pki/sa.key, created on first start.
	ServiceAccountKeyFile string
	// ServiceAccountJWKSURI overrides the jwks_uri of the discovery document.
	ServiceAccountJWKSURI string
	// APIAudiences are the audiences the API accepts (default: the issuer).
	APIAudiences []string
	// ServiceAccountMaxTokenExpiration caps requested token lifetimes.
	ServiceAccountMaxTokenExpiration time.Duration
	// ServiceAccountExtendTokenExpiration extends pod-bound tokens of the
	// kubelet's default lifetime, as upstream.
	ServiceAccountExtendTokenExpiration bool
	// AuthenticationConfig is a structured AuthenticationConfiguration file.
	AuthenticationConfig string
}

// NewAuthenticationOptions returns the defaults.
func NewAuthenticationOptions() AuthenticationOptions {
	return AuthenticationOptions{
		ServiceAccountIssuer:                "https://kubernetes.default.svc.cluster.local",
		ServiceAccountExtendTokenExpiration: true,
	}
}

// AddFlags registers the flags.
func (o *AuthenticationOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.TokenAuthFile, "token-auth-file", o.TokenAuthFile, "File of static bearer tokens, one per line: token,user,uid[,\"group1,group2\"] (upstream's CSV format).")
	fs.StringVar(&o.ServiceAccountIssuer, "service-account-issuer", o.ServiceAccountIssuer, "Issuer (iss claim) of ServiceAccount tokens. An https URL enables issuer discovery at /.well-known/openid-configuration.")
	fs.StringVar(&o.ServiceAccountKeyFile, "service-account-key-file", o.ServiceAccountKeyFile, "PEM private key (RSA or ECDSA) signing ServiceAccount tokens. Default: <data-dir>/pki/sa.key, created on first start.")
	fs.StringVar(&o.ServiceAccountJWKSURI, "service-account-jwks-uri", o.ServiceAccountJWKSURI, "jwks_uri published in the discovery document. Default: https://<advertise-address>:<secure-port>/openid/v1/jwks.")
	fs.StringSliceVar(&o.APIAudiences, "api-audiences", o.APIAudiences, "Audiences the API accepts in tokens; also the default audiences of requested ServiceAccount tokens. Default: the service account issuer.")
	fs.DurationVar(&o.ServiceAccountMaxTokenExpiration, "service-account-max-token-expiration", o.ServiceAccountMaxTokenExpiration, "Longest lifetime of a requested ServiceAccount token; longer requests are shortened. 0 means no limit.")
	fs.BoolVar(&o.ServiceAccountExtendTokenExpiration, "service-account-extend-token-expiration", o.ServiceAccountExtendTokenExpiration, "Let pod-bound tokens requested for 3607 seconds (the kubelet's default) live a year, warning after the requested lifetime, as upstream.")
	fs.StringVar(&o.AuthenticationConfig, "authentication-config", o.AuthenticationConfig, "AuthenticationConfiguration file (apiserver.config.k8s.io/v1) with JWT (OIDC) issuers.")
}

// Validate checks the flags.
func (o *AuthenticationOptions) Validate() error {
	if o.ServiceAccountIssuer == "" {
		return fmt.Errorf("--service-account-issuer must not be empty")
	}
	if o.ServiceAccountMaxTokenExpiration != 0 && o.ServiceAccountMaxTokenExpiration < 10*time.Minute {
		return fmt.Errorf("--service-account-max-token-expiration must be at least 10m, or 0 for no limit")
	}
	return nil
}

// applyAuthentication sets the request authenticator of c and returns the
// pieces the API needs (TokenRequest, TokenReview, issuer discovery).
func (o *Options) applyAuthentication(ctx context.Context, c *genericapiserver.RecommendedConfig, clientCA dynamiccertificates.CAContentProvider, client kubernetes.Interface) (*authentication.Authentication, error) {
	a := o.Authentication
	keyFile := a.ServiceAccountKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(string(o.PKIDir()), "sa.key")
	}
	key, err := serviceaccount.EnsureSigningKey(keyFile)
	if err != nil {
		return nil, err
	}
	auds := a.APIAudiences
	if len(auds) == 0 {
		auds = []string{a.ServiceAccountIssuer}
	}
	jwksURI := a.ServiceAccountJWKSURI
	if jwksURI == "" {
		jwksURI = "https://" + net.JoinHostPort(o.AdvertiseAddress, strconv.Itoa(o.SecurePort)) + serviceaccount.JWKSPath
	}
	cfg := authentication.Config{
		ClientCA:      clientCA,
		TokenAuthFile: a.TokenAuthFile,
		ServiceAccounts: authentication.ServiceAccountConfig{
			Issuer:           a.ServiceAccountIssuer,
			Key:              key,
			JWKSURI:          jwksURI,
			APIAudiences:     auds,
			MaxExpiration:    a.ServiceAccountMaxTokenExpiration,
			ExtendExpiration: a.ServiceAccountExtendTokenExpiration,
		},
		Getter: serviceaccount.NewGetter(client, c.SharedInformerFactory),
	}
	if a.AuthenticationConfig != "" {
		if cfg.AuthenticationConfig, err = authnconfig.LoadFile(a.AuthenticationConfig, []string{a.ServiceAccountIssuer}); err != nil {
			return nil, err
		}
	}
	authn, err := authentication.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.Authentication.Authenticator = authn.Request
	c.Authentication.APIAudiences = authn.APIAudiences
	return authn, nil
}
