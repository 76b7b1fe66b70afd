// Package authorization assembles the nucleus' authorization chain. Each
// authorizer in turn may allow, deny or pass; the first to allow or deny
// decides, and when all pass the default decision applies:
//
//  1. system:masters is allowed everything; the public paths are open to
//     everyone, API discovery to every authenticated user; the nucleus'
//     kubelet client may use the kubelet API (package builtin);
//  2. nodes may do what their kubelet needs (package node);
//  3. the layer bootstrap rule (package layers);
//  4. the webhook authorizers layers register at run time (package webhook);
//  5. the default: refuse, or allow every authenticated, non-anonymous
//     request with --authorization-default=allow.
//
// The same chain answers SubjectAccessReviews, and lists rules for
// SelfSubjectRulesReviews as far as it can.
package authorization

import (
	"context"
	"errors"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/informers"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/authorization/builtin"
	"github.com/strata-dev/strata/nucleus/authorization/layers"
	"github.com/strata-dev/strata/nucleus/authorization/node"
	"github.com/strata-dev/strata/nucleus/authorization/webhook"
	"github.com/strata-dev/strata/nucleus/kubeletclient"
)

// Config configures the chain.
type Config struct {
	// DefaultAllow allows authenticated, non-anonymous requests no
	// authorizer decided on. Only for single-user development clusters.
	DefaultAllow bool
	// LayersNamespace is the namespace of the layer bootstrap rule.
	LayersNamespace string
	// Webhook tunes the webhook authorizers.
	Webhook webhook.Options
	// Informers feed the node authorizer and the webhook registrations.
	Informers informers.SharedInformerFactory
}

// Link is one authorizer of the chain, by name.
type Link struct {
	Name       string
	Authorizer authorizer.UnconditionalAuthorizer
}

// Chain is the authorization chain. It implements authorizer.Authorizer and
// authorizer.RuleResolver.
type Chain struct {
	links        []Link
	defaultAllow bool
	node         *node.Authorizer
	layers       *layers.Authorizer
	webhooks     interface{ Registered() bool }
}

var (
	_ authorizer.Authorizer   = &Chain{}
	_ authorizer.RuleResolver = &Chain{}
)

// New builds the chain; call it before cfg.Informers is started.
func New(cfg Config) (*Chain, error) {
	graph, err := node.NewInformerGraph(cfg.Informers)
	if err != nil {
		return nil, err
	}
	webhooks, err := webhook.NewManager(cfg.Informers, cfg.Webhook)
	if err != nil {
		return nil, err
	}
	return NewChain(cfg.DefaultAllow, node.New(graph), &layers.Authorizer{Namespace: cfg.LayersNamespace, Webhooks: webhooks}, webhooks), nil
}

// NewChain builds a chain of the given parts.
func NewChain(defaultAllow bool, n *node.Authorizer, l *layers.Authorizer, webhooks interface {
	authorizer.UnconditionalAuthorizer
	Registered() bool
}) *Chain {
	return &Chain{
		links: []Link{
			{"masters", builtin.Masters},
			{"public", builtin.Public},
			{"kubelet-api-admin", builtin.KubeletAPIAdmin(kubeletclient.ClientUser)},
			{"node", n},
			{"layers", l},
			{"webhook", webhooks},
		},
		defaultAllow: defaultAllow,
		node:         n,
		layers:       l,
		webhooks:     webhooks,
	}
}

// Authorize asks each authorizer in turn. Errors of authorizers that pass
// are logged, not returned: a failing webhook with failure policy NoOpinion
// must not turn every request into a 500.
func (c *Chain) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	var reasons []string
	for _, l := range c.links {
		decision, reason, err := l.Authorizer.Authorize(ctx, a)
		if err != nil {
			klog.FromContext(ctx).V(2).Info("Authorizer failed", "authorizer", l.Name, "err", err)
		}
		switch decision {
		case authorizer.DecisionAllow:
			return decision, reason, nil
		case authorizer.DecisionDeny:
			return decision, reason, nil
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
	}
	if c.defaultAllow && allowedByDefault(a.GetUser()) {
		return authorizer.DecisionAllow, "allowed by --authorization-default=allow", nil
	}
	// As upstream, "nobody allowed it" is NoOpinion, which the server
	// refuses: a SubjectAccessReview says allowed: false, denied: false.
	return authorizer.DecisionNoOpinion, strings.Join(reasons, ", "), nil
}

// ConditionsAwareAuthorize is Authorize: the chain has no conditions.
func (c *Chain) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(c.Authorize(ctx, a))
}

// EvaluateConditions is not supported.
func (c *Chain) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// allowedByDefault reports whether the default allow applies to u: never to
// anonymous requests, which reach only the public paths whatever the
// default.
func allowedByDefault(u user.Info) bool {
	if u == nil || u.GetName() == user.Anonymous {
		return false
	}
	for _, g := range u.GetGroups() {
		if g == user.AllUnauthenticated {
			return false
		}
	}
	return builtin.IsAuthenticated(u)
}

// ErrWebhookRules is the evaluation error of rule lists when webhook
// authorizers are registered.
var ErrWebhookRules = errors.New("webhook authorizers cannot enumerate rules: the list may be incomplete")

// ErrNodeRules is the evaluation error of a node's rule list.
var ErrNodeRules = errors.New("a node may also list and watch the pods bound to it (with a spec.nodeName field selector), which no rule can express")

// RulesFor lists what u may do in namespace, as far as the chain can tell.
func (c *Chain) RulesFor(_ context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	if builtin.IsMaster(u) || c.layers.Applies(u) || (c.defaultAllow && allowedByDefault(u)) {
		res, nonRes := builtin.MastersRules()
		return res, nonRes, false, nil
	}
	resources := builtin.SelfReviewRules(u)
	nonResources := builtin.PublicRules(u)
	var errs []error
	if u.GetName() == kubeletclient.ClientUser {
		resources = append(resources, builtin.KubeletAPIAdminRules()...)
	}
	if name, ok := node.NodeName(u); ok {
		resources = append(resources, c.node.RulesFor(name, namespace)...)
		errs = append(errs, ErrNodeRules)
	}
	if c.webhooks.Registered() {
		errs = append(errs, ErrWebhookRules)
	}
	return resources, nonResources, len(errs) > 0, errors.Join(errs...)
}
