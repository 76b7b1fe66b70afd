/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestDeleteCascade drives `kubectl delete --cascade=background|foreground|
// orphan` against the nucleus' garbage collector.
func TestDeleteCascade(t *testing.T) {
	ns := createNamespace(t, "e2e-cascade")
	inNS := func(args ...string) []string { return append(args, "-n", ns) }

	// ownerWithDependent creates ConfigMap owner-<policy> and a dependent
	// ConfigMap that names it as its owner.
	ownerWithDependent := func(policy string) (owner, dependent string) {
		owner, dependent = "owner-"+policy, "dependent-"+policy
		run(t, inNS("create", "configmap", owner, "--from-literal=k=v")...)
		uid := jsonpath(t, "{.metadata.uid}", inNS("get", "configmap", owner)...)
		manifest := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: %s
    uid: %s
    blockOwnerDeletion: true
data:
  k: v
`, dependent, ns, owner, uid)
		mustContain(t, kubectl{stdin: manifest}.run(t, "apply", "-f", "-"), "configmap/"+dependent+" created")
		return owner, dependent
	}

	t.Run("background", func(t *testing.T) {
		owner, dependent := ownerWithDependent("background")
		mustContain(t, run(t, inNS("delete", "configmap", owner, "--cascade=background")...), `configmap "`+owner+`" deleted`)
		run(t, inNS("wait", "--for=delete", "--timeout=60s", "configmap/"+dependent)...)
	})

	t.Run("foreground", func(t *testing.T) {
		owner, dependent := ownerWithDependent("foreground")
		// --wait (the default) returns once the owner is gone, which the
		// foregroundDeletion finalizer delays until the dependent is.
		mustContain(t, run(t, inNS("delete", "configmap", owner, "--cascade=foreground", "--timeout=60s")...), `configmap "`+owner+`" deleted`)
		_, errOut, err := kubectl{}.try(t, inNS("get", "configmap", dependent)...)
		if err == nil || !strings.Contains(errOut, "not found") {
			t.Errorf("the dependent outlived its foreground-deleted owner: %v %s", err, errOut)
		}
	})

	t.Run("orphan", func(t *testing.T) {
		owner, dependent := ownerWithDependent("orphan")
		mustContain(t, run(t, inNS("delete", "configmap", owner, "--cascade=orphan")...), `configmap "`+owner+`" deleted`)
		deadline := time.Now().Add(30 * time.Second)
		for {
			refs := jsonpath(t, "{.metadata.ownerReferences}", inNS("get", "configmap", dependent)...)
			if refs == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the orphan still has ownerReferences %s", refs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
