/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestExpectations(t *testing.T) {
	const key = "default/web"
	clk := clocktesting.NewFakeClock(t0)
	x := newExpectations(clk)

	if !x.satisfied(key, "uid-1") {
		t.Fatal("no expectations: want satisfied")
	}

	x.expectCreations(key, "uid-1", 2)
	if x.satisfied(key, "uid-1") {
		t.Fatal("2 creations pending: want unsatisfied")
	}
	x.creationObserved(key, "uid-other", 1) // another ReplicaSet's pod
	x.creationObserved(key, "uid-1", 1)
	if adds, _, _ := x.pending(key); adds != 1 || x.satisfied(key, "uid-1") {
		t.Fatalf("after one creation: %d pending, want 1 and unsatisfied", adds)
	}
	x.creationObserved(key, "uid-1", 1)
	if !x.satisfied(key, "uid-1") {
		t.Fatal("all creations observed: want satisfied")
	}

	x.expectDeletions(key, "uid-1", []string{"default/a", "default/b"})
	x.deletionObserved(key, "uid-1", "default/a")
	x.deletionObserved(key, "uid-1", "default/a") // counted once
	x.deletionObserved(key, "uid-1", "default/c") // not expected
	if _, dels, _ := x.pending(key); dels != 1 || x.satisfied(key, "uid-1") {
		t.Fatalf("after one deletion: %d pending, want 1 and unsatisfied", dels)
	}
	x.deletionObserved(key, "uid-1", "default/b")
	if !x.satisfied(key, "uid-1") {
		t.Fatal("all deletions observed: want satisfied")
	}

	// Expectations expire after 5 minutes.
	x.expectCreations(key, "uid-1", 1)
	clk.Step(expectationsTimeout)
	if x.satisfied(key, "uid-1") {
		t.Fatal("at exactly the timeout: want unsatisfied")
	}
	clk.Step(time.Second)
	if !x.satisfied(key, "uid-1") {
		t.Fatal("past the timeout: want satisfied")
	}

	// A new ReplicaSet with the same name does not inherit them.
	x.expectCreations(key, "uid-1", 1)
	if !x.satisfied(key, "uid-2") {
		t.Fatal("another UID: want satisfied")
	}
	if _, _, ok := x.pending(key); ok {
		t.Fatal("another UID: want the old record dropped")
	}

	x.expectCreations(key, "uid-1", 1)
	x.forget(key)
	if !x.satisfied(key, "uid-1") {
		t.Fatal("forgotten: want satisfied")
	}
}
