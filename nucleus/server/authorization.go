package server

import (
	"context"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// publicPaths are the non-resource paths anyone, even unauthenticated, may
// read: health, version and the ServiceAccount issuer discovery documents.
var publicPaths = []string{"/healthz", "/livez", "/readyz", "/version", "/.well-known/openid-configuration", "/openid/v1/jwks"}

// discoveryPaths are the non-resource paths every authenticated user may
// read, as upstream's system:discovery and system:public-info-viewer roles
// grant.
var discoveryPaths = []string{"/api", "/apis", "/openapi"}

// BootstrapAuthorizer is the nucleus' authorization until a chain of
// authorizers is configured: members of system:masters may do anything,
// everyone may read the public paths, authenticated users may read
// discovery, and everything else is denied.
var BootstrapAuthorizer = authorizer.AuthorizerFunc(bootstrapAuthorize)

func bootstrapAuthorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionDeny, "no user", nil
	}
	for _, g := range u.GetGroups() {
		if g == user.SystemPrivilegedGroup {
			return authorizer.DecisionAllow, "", nil
		}
	}
	if isAuthenticated(u) && isSelfReview(a) {
		return authorizer.DecisionAllow, "", nil
	}
	if !a.IsResourceRequest() && a.GetVerb() == "get" {
		if matchesPath(a.GetPath(), publicPaths) {
			return authorizer.DecisionAllow, "", nil
		}
		if isAuthenticated(u) && matchesPath(a.GetPath(), discoveryPaths) {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionDeny, "", nil
}

// isSelfReview reports whether a asks about the caller itself, which
// upstream's system:basic-user role grants every authenticated user:
// SelfSubjectReviews (`kubectl auth whoami`) and SelfSubjectAccessReviews
// and SelfSubjectRulesReviews (`kubectl auth can-i`).
func isSelfReview(a authorizer.Attributes) bool {
	if !a.IsResourceRequest() || a.GetVerb() != "create" || a.GetSubresource() != "" {
		return false
	}
	switch a.GetAPIGroup() + "/" + a.GetResource() {
	case "authentication.k8s.io/selfsubjectreviews",
		"authorization.k8s.io/selfsubjectaccessreviews",
		"authorization.k8s.io/selfsubjectrulesreviews":
		return true
	}
	return false
}

func isAuthenticated(u user.Info) bool {
	for _, g := range u.GetGroups() {
		if g == user.AllAuthenticated {
			return true
		}
	}
	return false
}

// matchesPath reports whether path is one of prefixes or below one of them.
func matchesPath(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}
