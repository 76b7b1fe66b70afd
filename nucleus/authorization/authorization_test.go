package authorization

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/strata-dev/strata/nucleus/authorization/layers"
	"github.com/strata-dev/strata/nucleus/authorization/node"
	"github.com/strata-dev/strata/nucleus/kubeletclient"
)

type noPods struct{}

func (noPods) PodsOnNode(string) []*corev1.Pod   { return nil }
func (noPods) ClaimVolume(string, string) string { return "" }

// fakeWebhooks, when registered, decides what it is told for alice, and
// passes otherwise.
type fakeWebhooks struct {
	registered bool
	alice      authorizer.Decision
}

func (f fakeWebhooks) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if f.registered && a.GetUser().GetName() == "alice" {
		return f.alice, "webhook says so", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}
func (f fakeWebhooks) Registered() bool   { return f.registered }
func (f fakeWebhooks) Synced() bool       { return true }
func (f fakeWebhooks) Exempt(string) bool { return false }

func TestChain(t *testing.T) {
	alice := &user.DefaultInfo{Name: "alice", Groups: []string{user.AllAuthenticated}}
	admin := &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated}}
	anonymous := &user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}}
	manager := &user.DefaultInfo{Name: "system:serviceaccount:strata-system:manager", Groups: []string{user.AllAuthenticated}}
	kubelet := &user.DefaultInfo{Name: "system:node:n1", Groups: []string{node.Group, user.AllAuthenticated}}
	// What a kubelet's SubjectAccessReviews carry: the nucleus' kubelet
	// client certificate, a ServiceAccount's token.
	nucleus := &user.DefaultInfo{Name: kubeletclient.ClientUser, Groups: []string{user.AllAuthenticated}}
	sa := &user.DefaultInfo{Name: "system:serviceaccount:default:default", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default", user.AllAuthenticated}}
	kubeletAPI := func(u user.Info, verb, subresource string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: verb, APIVersion: "v1", Resource: "nodes", Subresource: subresource, Name: "n1", ResourceRequest: true}
	}
	review := func(u user.Info, group, resource string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: "create", APIGroup: group, APIVersion: "v1", Resource: resource, ResourceRequest: true}
	}
	listPods := func(u user.Info) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: "list", Resource: "pods", Namespace: "default", ResourceRequest: true}
	}
	get := func(u user.Info, path string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: "get", Path: path}
	}
	allow, deny, pass := authorizer.DecisionAllow, authorizer.DecisionDeny, authorizer.DecisionNoOpinion
	for _, tc := range []struct {
		name         string
		defaultAllow bool
		webhooks     fakeWebhooks
		attrs        authorizer.AttributesRecord
		want         authorizer.Decision
	}{
		{"admin", false, fakeWebhooks{}, listPods(admin), allow},
		{"admin is not denied by a webhook", false, fakeWebhooks{registered: true, alice: deny}, listPods(admin), allow},
		{"plain user", false, fakeWebhooks{}, listPods(alice), pass},
		{"plain user allowed by webhook", false, fakeWebhooks{registered: true, alice: allow}, listPods(alice), allow},
		{"plain user denied by webhook under default allow", true, fakeWebhooks{registered: true, alice: deny}, listPods(alice), deny},
		{"plain user, default allow", true, fakeWebhooks{}, listPods(alice), allow},
		{"anonymous, default allow", true, fakeWebhooks{}, listPods(anonymous), pass},
		{"anonymous healthz", false, fakeWebhooks{}, get(anonymous, "/healthz"), allow},
		{"anonymous livez subpath", false, fakeWebhooks{}, get(anonymous, "/livez/ping"), allow},
		{"anonymous discovery", false, fakeWebhooks{}, get(anonymous, "/apis"), pass},
		{"anonymous metrics, default allow", true, fakeWebhooks{}, get(anonymous, "/metrics"), pass},
		{"user discovery", false, fakeWebhooks{}, get(alice, "/apis/apps"), allow},
		{"user openapi", false, fakeWebhooks{}, get(alice, "/openapi/v3"), allow},
		{"user metrics", false, fakeWebhooks{}, get(alice, "/metrics"), pass},
		{"user self review", false, fakeWebhooks{}, authorizer.AttributesRecord{User: alice, Verb: "create", APIGroup: "authorization.k8s.io", Resource: "selfsubjectaccessreviews", ResourceRequest: true}, allow},
		{"user subject review", false, fakeWebhooks{}, authorizer.AttributesRecord{User: alice, Verb: "create", APIGroup: "authorization.k8s.io", Resource: "subjectaccessreviews", ResourceRequest: true}, pass},
		{"anonymous self review", false, fakeWebhooks{}, authorizer.AttributesRecord{User: anonymous, Verb: "create", APIGroup: "authorization.k8s.io", Resource: "selfsubjectaccessreviews", ResourceRequest: true}, pass},
		{"layer manager, nothing registered", false, fakeWebhooks{}, listPods(manager), allow},
		{"layer manager, webhook registered", false, fakeWebhooks{registered: true}, listPods(manager), pass},
		{"node lists nodes", false, fakeWebhooks{}, authorizer.AttributesRecord{User: kubelet, Verb: "list", Resource: "nodes", ResourceRequest: true}, allow},
		{"node lists pods without selector", false, fakeWebhooks{}, listPods(kubelet), pass},
		{"node reviews tokens", false, fakeWebhooks{}, review(kubelet, "authentication.k8s.io", "tokenreviews"), allow},
		{"node reviews access", false, fakeWebhooks{}, review(kubelet, "authorization.k8s.io", "subjectaccessreviews"), allow},
		{"user reviews tokens", false, fakeWebhooks{}, review(alice, "authentication.k8s.io", "tokenreviews"), pass},
		{"nucleus execs on a kubelet", false, fakeWebhooks{}, kubeletAPI(nucleus, "create", "proxy"), allow},
		{"nucleus streams over WebSocket", false, fakeWebhooks{}, kubeletAPI(nucleus, "get", "proxy"), allow},
		{"nucleus reads stats", false, fakeWebhooks{}, kubeletAPI(nucleus, "get", "stats"), allow},
		{"nucleus reads metrics", false, fakeWebhooks{}, kubeletAPI(nucleus, "get", "metrics"), allow},
		{"nucleus reads node logs", false, fakeWebhooks{}, kubeletAPI(nucleus, "get", "log"), allow},
		{"nucleus reads pods (fine-grained; the kubelet falls back to proxy)", false, fakeWebhooks{}, kubeletAPI(nucleus, "get", "pods"), pass},
		{"nucleus checkpoints", false, fakeWebhooks{}, kubeletAPI(nucleus, "create", "checkpoint"), pass},
		{"nucleus gets nodes", false, fakeWebhooks{}, kubeletAPI(nucleus, "get", ""), allow},
		{"nucleus updates nodes", false, fakeWebhooks{}, kubeletAPI(nucleus, "update", ""), pass},
		{"nucleus lists pods", false, fakeWebhooks{}, listPods(nucleus), pass},
		{"a similar user name does not count", false, fakeWebhooks{}, kubeletAPI(&user.DefaultInfo{Name: "strata:kubelet-client-x"}, "create", "proxy"), pass},
		{"admin execs on a kubelet", false, fakeWebhooks{}, kubeletAPI(admin, "create", "proxy"), allow},
		{"service account on a kubelet", false, fakeWebhooks{}, kubeletAPI(sa, "get", "proxy"), pass},
		{"service account on a kubelet, default allow", true, fakeWebhooks{}, kubeletAPI(sa, "get", "proxy"), allow},
		{"node on another kubelet", false, fakeWebhooks{}, kubeletAPI(kubelet, "get", "proxy"), pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChain(tc.defaultAllow, node.New(noPods{}), &layers.Authorizer{Namespace: layers.DefaultNamespace, Webhooks: tc.webhooks}, tc.webhooks)
			got, _, err := c.Authorize(context.Background(), tc.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("decision = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRulesFor(t *testing.T) {
	alice := &user.DefaultInfo{Name: "alice", Groups: []string{user.AllAuthenticated}}
	admin := &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}}
	for _, tc := range []struct {
		name           string
		user           user.Info
		webhooks       fakeWebhooks
		wantStar       bool
		wantIncomplete bool
		wantErr        bool
	}{
		{"admin", admin, fakeWebhooks{registered: true}, true, false, false},
		{"plain user", alice, fakeWebhooks{}, false, false, false},
		{"plain user with webhooks", alice, fakeWebhooks{registered: true}, false, true, true},
		{"node", &user.DefaultInfo{Name: "system:node:n1", Groups: []string{node.Group}}, fakeWebhooks{}, false, true, true},
		{"nucleus' kubelet client", &user.DefaultInfo{Name: kubeletclient.ClientUser, Groups: []string{user.AllAuthenticated}}, fakeWebhooks{}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChain(false, node.New(noPods{}), &layers.Authorizer{Namespace: layers.DefaultNamespace, Webhooks: tc.webhooks}, tc.webhooks)
			res, nonRes, incomplete, err := c.RulesFor(context.Background(), tc.user, "default")
			star := false
			for _, r := range res {
				for _, v := range r.GetResources() {
					star = star || v == "*"
				}
			}
			if star != tc.wantStar || incomplete != tc.wantIncomplete || (err != nil) != tc.wantErr {
				t.Errorf("star=%v incomplete=%v err=%v, want %v %v %v", star, incomplete, err, tc.wantStar, tc.wantIncomplete, tc.wantErr)
			}
			if len(nonRes) == 0 {
				t.Error("no non-resource rules")
			}
			proxy := false
			for _, r := range res {
				for _, v := range r.GetResources() {
					proxy = proxy || v == "nodes/proxy"
				}
			}
			if want := tc.user.GetName() == kubeletclient.ClientUser; proxy != want {
				t.Errorf("rules grant nodes/proxy: %v, want %v", proxy, want)
			}
		})
	}
}
