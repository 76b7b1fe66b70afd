// Package builtin holds the authorizers every nucleus runs first: members of
// system:masters may do anything; a few non-resource paths are open to
// everyone (health, version, issuer discovery) or to every authenticated user
// (API discovery), as upstream's system:public-info-viewer and
// system:discovery roles grant; and every authenticated user may ask who they
// are and what they may do (self reviews), as upstream's system:basic-user
// role grants.
package builtin

import (
	"context"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// PublicPaths are the non-resource paths anyone, even unauthenticated, may
// read: health, version and the ServiceAccount issuer discovery documents.
var PublicPaths = []string{"/healthz", "/livez", "/readyz", "/version", "/.well-known/openid-configuration", "/openid/v1/jwks"}

// DiscoveryPaths are the non-resource paths every authenticated user may
// read (and /version, which is public).
var DiscoveryPaths = []string{"/api", "/apis", "/openapi"}

// Masters allows every request of a member of system:masters and has no
// opinion on the others.
var Masters = authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if IsMaster(a.GetUser()) {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
})

// SelfReviews are the resources every authenticated user may create to
// learn who they are and what they may do, as upstream's system:basic-user
// role grants: group → resources.
var SelfReviews = map[string][]string{
	"authorization.k8s.io":  {"selfsubjectaccessreviews", "selfsubjectrulesreviews"},
	"authentication.k8s.io": {"selfsubjectreviews"},
}

// Public allows reading the public paths to everyone, the discovery paths to
// authenticated users, and creating self reviews to authenticated users; it
// has no opinion on anything else.
var Public = authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.IsResourceRequest() {
		if a.GetVerb() == "create" && a.GetSubresource() == "" && IsAuthenticated(a.GetUser()) {
			for _, r := range SelfReviews[a.GetAPIGroup()] {
				if r == a.GetResource() {
					return authorizer.DecisionAllow, "", nil
				}
			}
		}
		return authorizer.DecisionNoOpinion, "", nil
	}
	if a.GetVerb() != "get" {
		return authorizer.DecisionNoOpinion, "", nil
	}
	if MatchesPath(a.GetPath(), PublicPaths) {
		return authorizer.DecisionAllow, "", nil
	}
	if IsAuthenticated(a.GetUser()) && MatchesPath(a.GetPath(), DiscoveryPaths) {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
})

// MastersRules are the rules of a member of system:masters: everything.
func MastersRules() ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo) {
	return []authorizer.ResourceRuleInfo{&authorizer.DefaultResourceRuleInfo{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
		[]authorizer.NonResourceRuleInfo{&authorizer.DefaultNonResourceRuleInfo{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}
}

// SelfReviewRules are the resource rules Public grants u.
func SelfReviewRules(u user.Info) []authorizer.ResourceRuleInfo {
	if !IsAuthenticated(u) {
		return nil
	}
	var rules []authorizer.ResourceRuleInfo
	for _, g := range []string{"authentication.k8s.io", "authorization.k8s.io"} {
		rules = append(rules, &authorizer.DefaultResourceRuleInfo{Verbs: []string{"create"}, APIGroups: []string{g}, Resources: SelfReviews[g]})
	}
	return rules
}

// PublicRules are the non-resource rules Public grants u.
func PublicRules(u user.Info) []authorizer.NonResourceRuleInfo {
	paths := pathRules(PublicPaths)
	if IsAuthenticated(u) {
		paths = append(paths, pathRules(DiscoveryPaths)...)
	}
	return []authorizer.NonResourceRuleInfo{&authorizer.DefaultNonResourceRuleInfo{Verbs: []string{"get"}, NonResourceURLs: paths}}
}

func pathRules(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, p, p+"/*")
	}
	return out
}

// IsMaster reports whether u is in system:masters.
func IsMaster(u user.Info) bool { return inGroup(u, user.SystemPrivilegedGroup) }

// IsAuthenticated reports whether u is in system:authenticated.
func IsAuthenticated(u user.Info) bool { return inGroup(u, user.AllAuthenticated) }

func inGroup(u user.Info, group string) bool {
	if u == nil {
		return false
	}
	for _, g := range u.GetGroups() {
		if g == group {
			return true
		}
	}
	return false
}

// MatchesPath reports whether path is one of prefixes or below one of them.
func MatchesPath(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}
