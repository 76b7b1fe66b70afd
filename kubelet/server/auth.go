package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/klog/v2"
)

// Defaults of the delegated authentication and authorization, upstream's
// KubeletConfiguration defaults (authentication.webhook.cacheTTL,
// authorization.webhook.cacheAuthorizedTTL and cacheUnauthorizedTTL).
const (
	DefaultTokenCacheTTL        = 2 * time.Minute
	DefaultAuthorizedCacheTTL   = 5 * time.Minute
	DefaultUnauthorizedCacheTTL = 30 * time.Second
)

// webhookRetryBackoff is how TokenReviews and SubjectAccessReviews are
// retried when the API server cannot be reached (k8s.io/apiserver's
// DefaultAuthWebhookRetryBackoff, which upstream's kubelet uses).
func webhookRetryBackoff() *wait.Backoff {
	return &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
}

// AuthenticatorConfig configures NewAuthenticator.
type AuthenticatorConfig struct {
	// ClientCA holds the CAs that sign client certificates (see
	// Certificates.ClientCA): a client presenting one is the certificate's
	// CN, in the groups of its O.
	ClientCA dynamiccertificates.CAContentProvider
	// TokenReviews checks bearer tokens (TokenReview); without it bearer
	// tokens are not accepted.
	TokenReviews authenticationv1client.AuthenticationV1Interface
	// TokenCacheTTL is how long a token's review is cached
	// (DefaultTokenCacheTTL if zero).
	TokenCacheTTL time.Duration
}

// NewAuthenticator authenticates requests as upstream's kubelet does with
// --client-ca-file, --authentication-token-webhook and
// --anonymous-auth=false: a client certificate signed by the client CA, or
// a bearer token (Authorization header or WebSocket protocol) the API
// server's TokenReview accepts. Authenticated users are also in
// system:authenticated. Anything else is not authenticated (401).
func NewAuthenticator(cfg AuthenticatorConfig) (authenticator.Request, error) {
	if cfg.ClientCA == nil {
		return nil, errors.New("no client CA for the kubelet API (--client-ca-file)")
	}
	ttl := cfg.TokenCacheTTL
	if ttl == 0 {
		ttl = DefaultTokenCacheTTL
	}
	factory := authenticatorfactory.DelegatingAuthenticatorConfig{
		ClientCertificateCAContentProvider: cfg.ClientCA,
		CacheTTL:                           ttl,
		WebhookRetryBackoff:                webhookRetryBackoff(),
	}
	if cfg.TokenReviews != nil {
		factory.TokenAccessReviewClient = cfg.TokenReviews
	}
	authn, _, err := factory.New()
	if err != nil {
		return nil, fmt.Errorf("the kubelet API's authenticator: %w", err)
	}
	return authn, nil
}

// AuthorizerConfig configures NewAuthorizer.
type AuthorizerConfig struct {
	// SubjectAccessReviews asks the API server.
	SubjectAccessReviews authorizationv1client.AuthorizationV1Interface
	// AllowCacheTTL and DenyCacheTTL are how long answers are cached
	// (DefaultAuthorizedCacheTTL and DefaultUnauthorizedCacheTTL if zero).
	AllowCacheTTL, DenyCacheTTL time.Duration
}

// NewAuthorizer authorizes as upstream's kubelet does with
// --authorization-mode=Webhook: each request's attributes (see
// RequestAttributes) are a SubjectAccessReview to the API server, whose
// answers are cached.
func NewAuthorizer(cfg AuthorizerConfig) (authorizer.Authorizer, error) {
	if cfg.SubjectAccessReviews == nil {
		return nil, errors.New("the kubelet API's authorizer needs a client of the API server")
	}
	allow, deny := cfg.AllowCacheTTL, cfg.DenyCacheTTL
	if allow == 0 {
		allow = DefaultAuthorizedCacheTTL
	}
	if deny == 0 {
		deny = DefaultUnauthorizedCacheTTL
	}
	authz, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: cfg.SubjectAccessReviews,
		AllowCacheTTL:             allow,
		DenyCacheTTL:              deny,
		WebhookRetryBackoff:       webhookRetryBackoff(),
	}.New()
	if err != nil {
		return nil, fmt.Errorf("the kubelet API's authorizer: %w", err)
	}
	return authz, nil
}

// Kubelet API paths with a subresource of their own.
const (
	statsPath       = "/stats/"
	metricsPath     = "/metrics"
	logsPath        = "/logs/"
	checkpointPath  = "/checkpoint/"
	podsPath        = "/pods"
	runningPodsPath = "/runningpods/"
	healthzPath     = "/healthz"
	configzPath     = "/configz"
	statuszPath     = "/statusz"
)

// RequestAttributes are what a request to the kubelet API of node must be
// allowed, as upstream's kubelet (with fine-grained authorization, GA
// since 1.36) asks: the nodes resource named node, the verb of the HTTP
// method, and a subresource by path:
//
//	/stats/*                       stats
//	/metrics/*                     metrics
//	/logs/*                        log
//	/checkpoint/*                  checkpoint
//	/pods, /runningpods/           pods, then proxy
//	/healthz/*                     healthz, then proxy
//	/configz, /statusz             configz, statusz, then proxy
//	anything else (exec, attach,   proxy
//	portForward, containerLogs …)
//
// The request is allowed when any of the attributes is.
func RequestAttributes(node string, u user.Info, r *http.Request) []authorizer.Attributes {
	path := r.URL.Path
	var subresources []string
	switch {
	case isSubpath(path, podsPath):
		subresources = append(subresources, "pods")
	case isSubpath(path, healthzPath):
		subresources = append(subresources, "healthz")
	case isSubpath(path, configzPath):
		subresources = append(subresources, "configz")
	case isSubpath(path, statuszPath):
		subresources = append(subresources, "statusz")
	case isSubpath(path, runningPodsPath):
		subresources = append(subresources, "pods")
	}
	switch {
	case isSubpath(path, statsPath):
		subresources = append(subresources, "stats")
	case isSubpath(path, metricsPath):
		subresources = append(subresources, "metrics")
	case isSubpath(path, logsPath):
		subresources = append(subresources, "log")
	case isSubpath(path, checkpointPath):
		subresources = append(subresources, "checkpoint")
	default:
		subresources = append(subresources, "proxy")
	}
	attrs := make([]authorizer.Attributes, len(subresources))
	for i, sub := range subresources {
		attrs[i] = authorizer.AttributesRecord{
			User:            u,
			Verb:            apiVerb(r.Method),
			APIVersion:      "v1",
			Resource:        "nodes",
			Subresource:     sub,
			Name:            node,
			ResourceRequest: true,
			Path:            path,
		}
	}
	return attrs
}

// apiVerb is the verb of an HTTP method, as upstream's kubelet names it:
// methods it does not name (HEAD, OPTIONS …) have no verb. WebSocket
// upgrades of exec, attach and portForward are GETs, so get.
func apiVerb(method string) string {
	switch method {
	case http.MethodGet:
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return ""
}

// isSubpath reports whether path is prefix (without a trailing slash) or
// below it.
func isSubpath(path, prefix string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// withAuth authenticates and authorizes each request before next serves
// it, answering as upstream's kubelet: 401 Unauthorized for clients that
// are not authenticated, 403 naming the user, verb and subresources when
// no attribute is allowed, 500 when the authorizer fails.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := klog.FromContext(r.Context())
		if s.cfg.Authenticator == nil {
			writeError(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		resp, ok, err := s.cfg.Authenticator.AuthenticateRequest(r)
		if err != nil {
			log.V(2).Info("Unable to authenticate the request", "err", err)
		}
		if err != nil || !ok {
			writeError(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		attrs := RequestAttributes(s.cfg.NodeName, resp.User, r)
		subresources := make([]string, 0, len(attrs))
		allowed := false
		for _, a := range attrs {
			subresources = append(subresources, a.GetSubresource())
			if s.cfg.Authorizer == nil {
				continue
			}
			decision, reason, err := s.cfg.Authorizer.Authorize(r.Context(), a)
			if err != nil {
				log.Error(err, "Authorization error", "user", resp.User.GetName(), "verb", a.GetVerb(), "resource", a.GetResource(), "subresource", a.GetSubresource())
				writeError(w, fmt.Sprintf("Authorization error (user=%s, verb=%s, resource=%s, subresource=%s)",
					resp.User.GetName(), a.GetVerb(), a.GetResource(), a.GetSubresource()), http.StatusInternalServerError)
				return
			}
			if decision == authorizer.DecisionAllow {
				allowed = true
				break
			}
			log.V(4).Info("Not allowed", "user", resp.User.GetName(), "verb", a.GetVerb(), "subresource", a.GetSubresource(), "reason", reason)
		}
		if !allowed {
			log.V(2).Info("Forbidden", "user", resp.User.GetName(), "verb", attrs[0].GetVerb(), "resource", attrs[0].GetResource(), "subresources", subresources)
			writeError(w, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=%s, subresource(s)=%v)\n",
				resp.User.GetName(), attrs[0].GetVerb(), attrs[0].GetResource(), subresources), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
