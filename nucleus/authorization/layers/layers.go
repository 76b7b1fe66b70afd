// Package layers holds the layer bootstrap rule: before an authorizer of
// its own (the governance layer's RBAC) is registered, a cluster must still
// let each layer's manager do its job. The rule grants everything to the
// ServiceAccounts of one namespace, the layers' namespace (strata-system by
// default), and to nobody else:
//
//   - while no webhook authorizer is registered, every ServiceAccount of the
//     layers' namespace is allowed;
//   - once one is registered, only the ServiceAccounts a registration names
//     as exempt keep the grant (so an authorizer can always read its own
//     policy, even when it denies everything else); the others are decided by
//     the registered authorizers, i.e. by the charts' RBAC objects;
//   - until the registrations have been read once, nobody is allowed by this
//     rule, so a starting nucleus never opens a window.
//
// Creating a ServiceAccount or a pod in the layers' namespace is, before an
// RBAC layer exists, itself reserved to system:masters, so the rule does not
// let anyone else in. See docs/authorization.md.
package layers

import (
	"context"

	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// DefaultNamespace is where layer managers run.
const DefaultNamespace = "strata-system"

// Registry tells the state of the webhook authorizer registrations.
type Registry interface {
	// Synced reports whether the registrations have been read.
	Synced() bool
	// Registered reports whether a webhook authorizer is registered.
	Registered() bool
	// Exempt reports whether a registration names the ServiceAccount of
	// the layers' namespace as exempt.
	Exempt(name string) bool
}

// Authorizer is the layer bootstrap rule.
type Authorizer struct {
	// Namespace is the layers' namespace.
	Namespace string
	Webhooks  Registry
}

// Applies reports whether the rule grants u everything now.
func (a *Authorizer) Applies(u user.Info) bool {
	if u == nil || a.Namespace == "" {
		return false
	}
	ns, name, err := serviceaccount.SplitUsername(u.GetName())
	if err != nil || ns != a.Namespace {
		return false
	}
	if !a.Webhooks.Synced() {
		return false
	}
	return !a.Webhooks.Registered() || a.Webhooks.Exempt(name)
}

// Authorize allows what Applies grants and has no opinion on the rest.
func (a *Authorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.Applies(attrs.GetUser()) {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}
