package layers

import (
	"context"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

type fakeRegistry struct {
	synced, registered bool
	exempt             []string
}

func (r fakeRegistry) Synced() bool     { return r.synced }
func (r fakeRegistry) Registered() bool { return r.registered }
func (r fakeRegistry) Exempt(name string) bool {
	for _, e := range r.exempt {
		if e == name {
			return true
		}
	}
	return false
}

func TestAuthorize(t *testing.T) {
	sa := func(ns, name string) user.Info {
		return &user.DefaultInfo{Name: "system:serviceaccount:" + ns + ":" + name, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns}}
	}
	none := fakeRegistry{synced: true}
	registered := fakeRegistry{synced: true, registered: true, exempt: []string{"rbac"}}
	allow, pass := authorizer.DecisionAllow, authorizer.DecisionNoOpinion
	for _, tc := range []struct {
		name      string
		namespace string
		registry  fakeRegistry
		user      user.Info
		want      authorizer.Decision
	}{
		{"layer manager, nothing registered", DefaultNamespace, none, sa(DefaultNamespace, "manager"), allow},
		{"other namespace's account", DefaultNamespace, none, sa("default", "manager"), pass},
		{"plain user", DefaultNamespace, none, &user.DefaultInfo{Name: "alice"}, pass},
		{"user named like a namespace", DefaultNamespace, none, &user.DefaultInfo{Name: DefaultNamespace}, pass},
		{"no user", DefaultNamespace, none, nil, pass},
		{"layer manager, authorizer registered", DefaultNamespace, registered, sa(DefaultNamespace, "manager"), pass},
		{"exempt account, authorizer registered", DefaultNamespace, registered, sa(DefaultNamespace, "rbac"), allow},
		{"exempt name in another namespace", DefaultNamespace, registered, sa("default", "rbac"), pass},
		{"registrations not read yet", DefaultNamespace, fakeRegistry{}, sa(DefaultNamespace, "manager"), pass},
		{"configured namespace", "layers", none, sa("layers", "manager"), allow},
		{"default namespace when another is configured", "layers", none, sa(DefaultNamespace, "manager"), pass},
		{"rule disabled", "", none, sa(DefaultNamespace, "manager"), pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Authorizer{Namespace: tc.namespace, Webhooks: tc.registry}
			got, _, err := a.Authorize(context.Background(), authorizer.AttributesRecord{User: tc.user, Verb: "delete", Resource: "nodes", ResourceRequest: true})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("decision = %v, want %v", got, tc.want)
			}
		})
	}
}
