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

// TestUnschedulablePodDescribed checks what a user sees when the scheduler
// cannot place a pod: the cluster of this suite has no nodes, so
// `kubectl describe pod` shows the PodScheduled=False condition and the
// FailedScheduling event from default-scheduler.
func TestUnschedulablePodDescribed(t *testing.T) {
	ns := createNamespace(t, "e2e-scheduling")
	mustContain(t, run(t, "run", "stuck", "--image=busybox", "-n", ns), "pod/stuck created")
	deadline := time.Now().Add(60 * time.Second)
	var out string
	for {
		out = run(t, "describe", "pod", "stuck", "-n", ns)
		if strings.Contains(out, "FailedScheduling") || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	mustContain(t, out, "Status:", "Pending", "PodScheduled", "False",
		"Warning", "FailedScheduling", "default-scheduler", "no nodes available to schedule pods")
	mustContain(t, run(t, "get", "pod", "stuck", "-n", ns), "Pending")
}
