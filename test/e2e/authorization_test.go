/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"strings"
	"testing"
)

// TestAuthCanI asks `kubectl auth can-i` about several identities, through
// impersonation by the admin: plain can-i uses a SelfSubjectAccessReview,
// --list a SelfSubjectRulesReview.
func TestAuthCanI(t *testing.T) {
	node := []string{"--as=system:node:n1", "--as-group=system:nodes"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"admin lists pods", []string{"list", "pods"}, "yes"},
		{"admin does anything", []string{"*", "*"}, "yes"},
		{"alice lists pods", []string{"list", "pods", "--as=alice"}, "no"},
		{"alice reads healthz", []string{"get", "/healthz", "--as=alice"}, "yes"},
		{"alice reads discovery", []string{"get", "/apis", "--as=alice"}, "yes"},
		{"node lists nodes", append([]string{"list", "nodes"}, node...), "yes"},
		{"node updates its lease", append([]string{"update", "leases/n1", "-n", "kube-node-lease"}, node...), "yes"},
		{"node updates another lease", append([]string{"update", "leases/n2", "-n", "kube-node-lease"}, node...), "no"},
		{"node reads an unrelated secret", append([]string{"get", "secrets/x", "-n", "default"}, node...), "no - no relationship found between node 'n1' and this object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// can-i exits 1 when the answer is no.
			out, _, _ := kubectl{}.try(t, append([]string{"auth", "can-i"}, tc.args...)...)
			if got := strings.TrimSpace(out); got != tc.want {
				t.Errorf("kubectl auth can-i %s = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
			}
		})
	}

	t.Run("list", func(t *testing.T) {
		out := run(t, "auth", "can-i", "--list")
		mustContain(t, out, "*.*", "[*]")
		out = run(t, "auth", "can-i", "--list", "--as=alice")
		mustContain(t, out, "selfsubjectaccessreviews.authorization.k8s.io", "/healthz")
		if strings.Contains(out, "*.*") {
			t.Errorf("alice may do everything:\n%s", out)
		}
	})

	t.Run("forbidden message", func(t *testing.T) {
		errOut := kubectl{}.runFails(t, "get", "pods", "-n", "default", "--as=alice")
		mustContain(t, errOut, `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"`)
	})
}
