// Package node authorizes kubelets, as upstream's Node authorizer does: a
// node (user system:node:<name> in group system:nodes) may register and
// update its own Node (never delete one), write its own Lease, read the
// pods bound to it and only the Secrets, ConfigMaps, PersistentVolumeClaims,
// PersistentVolumes and ServiceAccount tokens those pods reference, update
// their status, evict them, create mirror pods and events, and — as
// upstream's static node rules — read Services (for the pods' environment)
// and create TokenReviews and SubjectAccessReviews (to authenticate and
// authorize the kubelet API's callers). A node also runs the service proxy
// with its identity, so it may list and watch EndpointSlices, as upstream's
// system:node-proxier role grants (Services, Nodes and Events it may
// already). On anything else it has no opinion,
// so later authorizers may still decide (and the nucleus' default is to
// deny).
//
// What a node's pods reference comes from a Graph, built from informers in
// production (see NewInformerGraph). What a node writes is checked by the
// NodeRestriction admission plugin; this package only authorizes verbs.
package node

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

const (
	// UserPrefix starts the user name of every node.
	UserPrefix = "system:node:"
	// Group is the group of every node.
	Group = "system:nodes"
	// LeaseNamespace holds the nodes' heartbeat Leases.
	LeaseNamespace = "kube-node-lease"
)

// Graph tells which pods are bound to a node and which volume a claim is
// bound to.
type Graph interface {
	// PodsOnNode returns the pods whose spec.nodeName is node.
	PodsOnNode(node string) []*corev1.Pod
	// ClaimVolume returns the name of the PersistentVolume the claim is
	// bound to, "" if it is not bound or not known.
	ClaimVolume(namespace, claim string) string
}

// Authorizer is the node authorizer.
type Authorizer struct {
	graph Graph
}

var _ authorizer.Authorizer = &Authorizer{}

// New returns a node authorizer reading relationships from g.
func New(g Graph) *Authorizer { return &Authorizer{graph: g} }

// NodeName returns the node u is, if it is one.
func NodeName(u user.Info) (string, bool) {
	if u == nil || !strings.HasPrefix(u.GetName(), UserPrefix) {
		return "", false
	}
	name := strings.TrimPrefix(u.GetName(), UserPrefix)
	if name == "" {
		return "", false
	}
	for _, g := range u.GetGroups() {
		if g == Group {
			return name, true
		}
	}
	return "", false
}

// Authorize allows what a node may do and has no opinion on the rest.
func (a *Authorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	node, ok := NodeName(attrs.GetUser())
	if !ok || !attrs.IsResourceRequest() {
		return authorizer.DecisionNoOpinion, "", nil
	}
	allowed, reason := a.decide(node, attrs)
	if allowed {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, reason, nil
}

// ConditionsAwareAuthorize is Authorize: the node authorizer has no
// conditions.
func (a *Authorizer) ConditionsAwareAuthorize(ctx context.Context, attrs authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(a.Authorize(ctx, attrs))
}

// EvaluateConditions is not supported.
func (a *Authorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

func verbIn(verb string, verbs ...string) bool {
	for _, v := range verbs {
		if v == verb {
			return true
		}
	}
	return false
}

// decide is the node authorizer's table of what node may do.
func (a *Authorizer) decide(node string, attrs authorizer.Attributes) (bool, string) {
	verb, name, ns, sub := attrs.GetVerb(), attrs.GetName(), attrs.GetNamespace(), attrs.GetSubresource()
	switch attrs.GetAPIGroup() + "/" + attrs.GetResource() {
	case "/nodes":
		switch sub {
		case "":
			switch {
			case verbIn(verb, "get", "list", "watch"):
				return true, ""
			case verb == "create":
				// The name of a created node is NodeRestriction's to check.
				return name == "" || name == node, ""
			case verbIn(verb, "update", "patch"):
				return name == node, ""
			}
		case "status":
			return verbIn(verb, "get", "update", "patch") && name == node, ""
		}
	case "coordination.k8s.io/leases":
		if ns != LeaseNamespace || sub != "" {
			return false, ""
		}
		switch {
		case verb == "create":
			return name == "" || name == node, ""
		case verbIn(verb, "get", "update", "patch", "delete"):
			return name == node, ""
		}
	case "/events", "events.k8s.io/events":
		return sub == "" && verbIn(verb, "create", "update", "patch"), ""
	case "/services":
		// Upstream's system:node ClusterRole: the kubelet's Service
		// informer for pods' environment variables (and the service
		// proxy's, as system:node-proxier grants).
		return sub == "" && verbIn(verb, "get", "list", "watch"), ""
	case "discovery.k8s.io/endpointslices":
		// Upstream's system:node-proxier ClusterRole: a node runs the
		// service proxy (`strata proxy`) with its own identity.
		return sub == "" && verbIn(verb, "list", "watch"), ""
	case "authentication.k8s.io/tokenreviews", "authorization.k8s.io/subjectaccessreviews", "authorization.k8s.io/localsubjectaccessreviews":
		return sub == "" && verb == "create", ""
	case "/pods":
		return a.decidePod(node, attrs)
	case "/secrets", "/configmaps", "/persistentvolumeclaims":
		if sub != "" || !verbIn(verb, "get", "list", "watch") || name == "" {
			return false, ""
		}
		return a.referenced(node, ns, func(r References) bool {
			switch attrs.GetResource() {
			case "secrets":
				return r.Secrets.Has(name)
			case "configmaps":
				return r.ConfigMaps.Has(name)
			default:
				return r.PersistentVolumeClaims.Has(name)
			}
		}), noRelationship(node)
	case "/persistentvolumes":
		if sub != "" || !verbIn(verb, "get", "list", "watch") || name == "" {
			return false, ""
		}
		return a.volumeReferenced(node, name), noRelationship(node)
	case "/serviceaccounts":
		if sub != "token" || verb != "create" {
			return false, ""
		}
		return a.referenced(node, ns, func(r References) bool { return r.ServiceAccounts.Has(name) }), noRelationship(node)
	}
	return false, ""
}

func (a *Authorizer) decidePod(node string, attrs authorizer.Attributes) (bool, string) {
	verb, name, ns, sub := attrs.GetVerb(), attrs.GetName(), attrs.GetNamespace(), attrs.GetSubresource()
	switch sub {
	case "":
		switch verb {
		case "create":
			// Mirror pods; their content is NodeRestriction's to check.
			return true, ""
		case "list", "watch":
			if name == "" {
				if selectsNode(attrs, node) {
					return true, ""
				}
				return false, fmt.Sprintf("can only list/watch pods with spec.nodeName=%s field selector", node)
			}
			return a.podBound(node, ns, name), noRelationship(node)
		case "get", "delete":
			return a.podBound(node, ns, name), noRelationship(node)
		}
	case "status":
		if verbIn(verb, "get", "update", "patch") {
			return a.podBound(node, ns, name), noRelationship(node)
		}
	case "eviction":
		if verb == "create" {
			return a.podBound(node, ns, name), noRelationship(node)
		}
	}
	return false, ""
}

func noRelationship(node string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", node)
}

// selectsNode reports whether the request's field selector limits it to
// pods bound to node.
func selectsNode(attrs authorizer.Attributes, node string) bool {
	reqs, err := attrs.GetFieldSelector()
	if err != nil {
		return false
	}
	for _, r := range reqs {
		if r.Field == "spec.nodeName" && (r.Operator == selection.Equals || r.Operator == selection.DoubleEquals) && r.Value == node {
			return true
		}
	}
	return false
}

func (a *Authorizer) podBound(node, ns, name string) bool {
	if name == "" {
		return false
	}
	for _, p := range a.graph.PodsOnNode(node) {
		if p.Namespace == ns && p.Name == name {
			return true
		}
	}
	return false
}

// referenced reports whether a pod of namespace ns bound to node references
// an object, as has tells.
func (a *Authorizer) referenced(node, ns string, has func(References) bool) bool {
	for _, p := range a.graph.PodsOnNode(node) {
		if p.Namespace == ns && has(ReferencedObjects(p)) {
			return true
		}
	}
	return false
}

// volumeReferenced reports whether pv is bound to a claim a pod on node
// uses.
func (a *Authorizer) volumeReferenced(node, pv string) bool {
	for _, p := range a.graph.PodsOnNode(node) {
		for claim := range ReferencedObjects(p).PersistentVolumeClaims {
			if a.graph.ClaimVolume(p.Namespace, claim) == pv {
				return true
			}
		}
	}
	return false
}

// RulesFor lists what node may do in namespace. The list/watch of pods with
// a spec.nodeName field selector cannot be written as a rule, so the list is
// incomplete.
func (a *Authorizer) RulesFor(node, namespace string) []authorizer.ResourceRuleInfo {
	rule := func(groups, resources, verbs, names []string) authorizer.ResourceRuleInfo {
		return &authorizer.DefaultResourceRuleInfo{APIGroups: groups, Resources: resources, Verbs: verbs, ResourceNames: names}
	}
	core := []string{""}
	rules := []authorizer.ResourceRuleInfo{
		rule(core, []string{"nodes"}, []string{"get", "list", "watch", "create"}, nil),
		rule(core, []string{"nodes"}, []string{"update", "patch"}, []string{node}),
		rule(core, []string{"nodes/status"}, []string{"get", "update", "patch"}, []string{node}),
		rule([]string{"", "events.k8s.io"}, []string{"events"}, []string{"create", "update", "patch"}, nil),
		rule(core, []string{"services"}, []string{"get", "list", "watch"}, nil),
		rule(core, []string{"pods"}, []string{"create"}, nil),
		rule([]string{"discovery.k8s.io"}, []string{"endpointslices"}, []string{"list", "watch"}, nil),
		rule([]string{"authentication.k8s.io"}, []string{"tokenreviews"}, []string{"create"}, nil),
		rule([]string{"authorization.k8s.io"}, []string{"subjectaccessreviews", "localsubjectaccessreviews"}, []string{"create"}, nil),
	}
	if namespace == LeaseNamespace {
		rules = append(rules,
			rule([]string{"coordination.k8s.io"}, []string{"leases"}, []string{"create"}, nil),
			rule([]string{"coordination.k8s.io"}, []string{"leases"}, []string{"get", "update", "patch", "delete"}, []string{node}))
	}
	var pods, secrets, configMaps, claims, volumes, accounts []string
	for _, p := range a.graph.PodsOnNode(node) {
		r := ReferencedObjects(p)
		for claim := range r.PersistentVolumeClaims {
			if pv := a.graph.ClaimVolume(p.Namespace, claim); pv != "" {
				volumes = append(volumes, pv)
			}
		}
		if p.Namespace != namespace {
			continue
		}
		pods = append(pods, p.Name)
		secrets = append(secrets, sortedList(r.Secrets)...)
		configMaps = append(configMaps, sortedList(r.ConfigMaps)...)
		claims = append(claims, sortedList(r.PersistentVolumeClaims)...)
		accounts = append(accounts, sortedList(r.ServiceAccounts)...)
	}
	add := func(resources, verbs, names []string) {
		if len(names) > 0 {
			rules = append(rules, rule(core, resources, verbs, dedupe(names)))
		}
	}
	add([]string{"pods"}, []string{"get", "delete"}, pods)
	add([]string{"pods/status"}, []string{"get", "update", "patch"}, pods)
	add([]string{"pods/eviction"}, []string{"create"}, pods)
	add([]string{"secrets"}, []string{"get", "list", "watch"}, secrets)
	add([]string{"configmaps"}, []string{"get", "list", "watch"}, configMaps)
	add([]string{"persistentvolumeclaims"}, []string{"get", "list", "watch"}, claims)
	add([]string{"persistentvolumes"}, []string{"get", "list", "watch"}, volumes)
	add([]string{"serviceaccounts/token"}, []string{"create"}, accounts)
	return rules
}
