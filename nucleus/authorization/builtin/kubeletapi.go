package builtin

import (
	"context"
	"slices"

	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// KubeletAPIAdminRules are the rules of upstream's system:kubelet-api-admin
// ClusterRole: read Nodes, and use every part of the kubelet API (the
// nodes/proxy, metrics, spec, stats and log subresources, which kubelets
// ask about in their SubjectAccessReviews). nodes/checkpoint is not among
// them, as upstream.
func KubeletAPIAdminRules() []authorizer.ResourceRuleInfo {
	return []authorizer.ResourceRuleInfo{
		&authorizer.DefaultResourceRuleInfo{Verbs: []string{"get", "list", "watch", "proxy"}, APIGroups: []string{""}, Resources: []string{"nodes"}},
		&authorizer.DefaultResourceRuleInfo{Verbs: []string{"*"}, APIGroups: []string{""},
			Resources: []string{"nodes/proxy", "nodes/metrics", "nodes/spec", "nodes/stats", "nodes/log"}},
	}
}

// KubeletAPIAdmin allows user what KubeletAPIAdminRules grant, as upstream
// binds system:kubelet-api-admin to the API server's kubelet client
// (kubeadm's kube-apiserver-kubelet-client): the nucleus presents itself to
// kubelets as user, and kubelets ask the nucleus whether user may. It has
// no opinion on anything else.
func KubeletAPIAdmin(user string) authorizer.UnconditionalAuthorizer {
	rules := KubeletAPIAdminRules()
	return authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		if a.GetUser() == nil || a.GetUser().GetName() != user || !a.IsResourceRequest() {
			return authorizer.DecisionNoOpinion, "", nil
		}
		for _, r := range rules {
			if ruleAllows(r, a) {
				return authorizer.DecisionAllow, "", nil
			}
		}
		return authorizer.DecisionNoOpinion, "", nil
	})
}

// ruleAllows reports whether the resource rule r covers a, with RBAC's
// matching: "*" matches any verb, group or resource; a subresource is
// named resource/subresource.
func ruleAllows(r authorizer.ResourceRuleInfo, a authorizer.Attributes) bool {
	resource := a.GetResource()
	if a.GetSubresource() != "" {
		resource += "/" + a.GetSubresource()
	}
	matches := func(list []string, v string) bool { return slices.Contains(list, "*") || slices.Contains(list, v) }
	return matches(r.GetVerbs(), a.GetVerb()) && matches(r.GetAPIGroups(), a.GetAPIGroup()) && matches(r.GetResources(), resource) &&
		(len(r.GetResourceNames()) == 0 || slices.Contains(r.GetResourceNames(), a.GetName()))
}
