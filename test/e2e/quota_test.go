/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"strings"
	"testing"
	"time"
)

const quotaManifest = `apiVersion: v1
kind: ResourceQuota
metadata:
  name: compute
spec:
  hard:
    pods: "2"
    requests.cpu: "1"
`

func quotaPodManifest(name, cpu string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
    resources:
      requests:
        cpu: ` + cpu + `
`
}

// TestResourceQuota fills a quota with kubectl: the pod past it is refused
// with upstream's message and `kubectl describe quota` shows the usage.
func TestResourceQuota(t *testing.T) {
	ns := createNamespace(t, "e2e-quota")
	inNS := func(args ...string) []string { return append(args, "-n", ns) }
	mustContain(t, run(t, inNS("apply", "-f", writeFile(t, "quota.yaml", quotaManifest))...), "resourcequota/compute created")
	// The quota controller fills status.hard before admission enforces it.
	deadline := time.Now().Add(30 * time.Second)
	for jsonpath(t, "{.status.hard.pods}", inNS("get", "resourcequota", "compute")...) != "2" {
		if time.Now().After(deadline) {
			t.Fatal("the quota's status was never written")
		}
		time.Sleep(200 * time.Millisecond)
	}
	mustContain(t, run(t, inNS("apply", "-f", writeFile(t, "p1.yaml", quotaPodManifest("p1", "250m")))...), "pod/p1 created")
	mustContain(t, run(t, inNS("apply", "-f", writeFile(t, "p2.yaml", quotaPodManifest("p2", "500m")))...), "pod/p2 created")
	out := kubectl{}.runFails(t, inNS("apply", "-f", writeFile(t, "p3.yaml", quotaPodManifest("p3", "100m")))...)
	mustContain(t, out, `pods "p3" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`)

	var describe string
	for deadline := time.Now().Add(30 * time.Second); ; {
		describe = run(t, inNS("describe", "quota", "compute")...)
		if rowHas(describe, "pods", "2", "2") && rowHas(describe, "requests.cpu", "750m", "1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("describe quota never showed pods 2/2 and requests.cpu 750m/1:\n%s", describe)
		}
		time.Sleep(200 * time.Millisecond)
	}
	mustContain(t, describe, "Name:", "compute", "Namespace:", ns, "Resource", "Used", "Hard")
}

// rowHas reports whether out has a line whose fields are exactly fields.
func rowHas(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}
