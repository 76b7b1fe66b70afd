/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPodsToDelete(t *testing.T) {
	ready := func(name string, since time.Time) *podBuilder {
		return makePod(name).Created(t0.Add(-48 * time.Hour)).ReadySince(since)
	}
	tests := []struct {
		name    string
		active  []*corev1.Pod
		related []*corev1.Pod // nil: active
		n       int
		want    []string
	}{{
		name: "unassigned before assigned",
		active: []*corev1.Pod{
			makePod("assigned").Node("node-1").Obj(),
			makePod("unassigned").Obj(),
		},
		n:    1,
		want: []string{"unassigned"},
	}, {
		name: "Pending before Unknown before Running",
		active: []*corev1.Pod{
			makePod("running").Running().Obj(),
			makePod("unknown").Node("node-1").Phase(corev1.PodUnknown).Obj(),
			makePod("pending").Node("node-1").Obj(),
		},
		n:    2,
		want: []string{"pending", "unknown"},
	}, {
		name: "not ready before ready",
		active: []*corev1.Pod{
			ready("ready", t0.Add(-time.Hour)).Obj(),
			makePod("not-ready").Running().Obj(),
		},
		n:    1,
		want: []string{"not-ready"},
	}, {
		name: "lower deletion cost first",
		active: []*corev1.Pod{
			ready("cheap", t0.Add(-time.Hour)).DeletionCost(-5).Obj(),
			ready("default", t0.Add(-time.Hour)).Obj(),
			ready("dear", t0.Add(-time.Minute)).DeletionCost(100).Obj(),
		},
		n:    2,
		want: []string{"cheap", "default"},
	}, {
		name: "more colocated related pods first",
		active: []*corev1.Pod{
			ready("alone", t0.Add(-time.Hour)).Node("node-1").Obj(),
			ready("crowded", t0.Add(-time.Hour)).Node("node-2").Obj(),
		},
		related: []*corev1.Pod{
			makePod("alone").Node("node-1").Obj(),
			makePod("crowded").Node("node-2").Obj(),
			makePod("sibling-1").Node("node-2").Obj(),
			makePod("sibling-2").Node("node-2").Obj(),
			makePod("gone").Node("node-1").Phase(corev1.PodSucceeded).Obj(),
		},
		n:    1,
		want: []string{"crowded"},
	}, {
		name: "ready for less time first",
		active: []*corev1.Pod{
			ready("old", t0.Add(-10*time.Hour)).Obj(),
			ready("recent", t0.Add(-time.Minute)).Obj(),
		},
		n:    1,
		want: []string{"recent"},
	}, {
		name: "ready times of the same logarithmic rank are ordered by UID",
		active: []*corev1.Pod{
			ready("b", t0.Add(-100*time.Second)).Obj(),
			ready("a", t0.Add(-90*time.Second)).Obj(),
		},
		n:    1,
		want: []string{"a"},
	}, {
		name: "more restarts first",
		active: []*corev1.Pod{
			ready("steady", t0.Add(-time.Hour)).Restarts(0).Obj(),
			ready("flaky", t0.Add(-time.Hour)).Restarts(4).Obj(),
		},
		n:    1,
		want: []string{"flaky"},
	}, {
		name: "then more sidecar restarts first",
		active: []*corev1.Pod{
			ready("steady", t0.Add(-time.Hour)).Restarts(1).SidecarRestarts(0).Obj(),
			ready("flaky-sidecar", t0.Add(-time.Hour)).Restarts(1).SidecarRestarts(3).Obj(),
		},
		n:    1,
		want: []string{"flaky-sidecar"},
	}, {
		name: "newer first",
		active: []*corev1.Pod{
			makePod("old").Running().Created(t0.Add(-100 * time.Hour)).Obj(),
			makePod("new").Running().Created(t0.Add(-time.Minute)).Obj(),
			makePod("middle").Running().Created(t0.Add(-time.Hour)).Obj(),
		},
		n:    2,
		want: []string{"new", "middle"},
	}, {
		name: "no creation time first",
		active: []*corev1.Pod{
			makePod("new").Running().Created(t0.Add(-time.Minute)).Obj(),
			makePod("unknown").Running().Obj(),
		},
		n:    1,
		want: []string{"unknown"},
	}, {
		name: "phase outranks readiness and age",
		active: []*corev1.Pod{
			makePod("pending-old").Node("node-1").Created(t0.Add(-time.Hour)).Obj(),
			ready("ready-new", t0).Created(t0).Obj(),
		},
		n:    1,
		want: []string{"pending-old"},
	}, {
		name: "all of them: no sorting",
		active: []*corev1.Pod{
			ready("a", t0).Obj(),
			makePod("b").Obj(),
		},
		n:    2,
		want: []string{"a", "b"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			related := tt.related
			if related == nil {
				related = tt.active
			}
			got := podNames(podsToDelete(tt.active, related, tt.n, t0))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pods to delete (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBatchSizes(t *testing.T) {
	tests := []struct {
		count, initial int
		want           []int
	}{
		{0, 1, nil},
		{1, 1, []int{1}},
		{3, 1, []int{1, 2}},
		{10, 1, []int{1, 2, 4, 3}},
		{15, 1, []int{1, 2, 4, 8}},
		{500, 1, []int{1, 2, 4, 8, 16, 32, 64, 128, 245}},
		{5, 2, []int{2, 3}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, batchSizes(tt.count, tt.initial)); diff != "" {
			t.Errorf("batchSizes(%d, %d) (-want +got):\n%s", tt.count, tt.initial, diff)
		}
	}
}

func TestSlowStartBatch(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name          string
		count         int
		failFrom      int32 // calls numbered from 1; 0: never fail
		wantSuccesses int
		wantCalls     int32
		wantErr       error
	}{
		{name: "all succeed", count: 10, wantSuccesses: 10, wantCalls: 10},
		{name: "the first call fails: nothing else is tried", count: 10, failFrom: 1, wantSuccesses: 0, wantCalls: 1, wantErr: boom},
		// Batches 1, 2, 4: the fourth call is in the third batch, which
		// completes; the fourth batch is skipped.
		{name: "failure in the third batch", count: 10, failFrom: 4, wantSuccesses: 3, wantCalls: 7, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			got, err := slowStartBatch(tt.count, 1, func() error {
				if n := calls.Add(1); tt.failFrom > 0 && n >= tt.failFrom {
					return boom
				}
				return nil
			})
			if got != tt.wantSuccesses || !errors.Is(err, tt.wantErr) || calls.Load() != tt.wantCalls {
				t.Errorf("slowStartBatch = %d, %v after %d calls; want %d, %v after %d calls",
					got, err, calls.Load(), tt.wantSuccesses, tt.wantErr, tt.wantCalls)
			}
		})
	}
}

func TestPodFromTemplate(t *testing.T) {
	rs := makeRS("web").Obj()
	rs.Spec.Template.Finalizers = []string{"example.com/keep"}
	pod, err := podFromTemplate(rs)
	if err != nil {
		t.Fatal(err)
	}
	want := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:    testNamespace,
			GenerateName: "web-",
			Labels:       map[string]string{"app": "web", "tier": "web"},
			Annotations:  map[string]string{"note": "from-template"},
			Finalizers:   []string{"example.com/keep"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "uid-web",
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: rs.Spec.Template.Spec,
	}
	if diff := cmp.Diff(want, pod); diff != "" {
		t.Errorf("pod (-want +got):\n%s", diff)
	}
	// The pod does not share maps with the template.
	pod.Labels["x"] = "y"
	if _, ok := rs.Spec.Template.Labels["x"]; ok {
		t.Error("the pod's labels alias the template's")
	}

	rs.Spec.Template.Labels = nil
	if _, err := podFromTemplate(rs); err == nil || !strings.Contains(err.Error(), "no labels") {
		t.Errorf("template without labels: got %v, want an error", err)
	}
}

func TestPodNamePrefix(t *testing.T) {
	if got := podNamePrefix("web"); got != "web-" {
		t.Errorf("podNamePrefix(web) = %q", got)
	}
	long := strings.Repeat("a", 253)
	if got := podNamePrefix(long); got != long {
		t.Errorf("a name without room for the dash is used as is, got %q", got)
	}
}

func TestActiveAndTerminating(t *testing.T) {
	pods := []*corev1.Pod{
		makePod("pending").Obj(),
		makePod("running").Running().Obj(),
		makePod("succeeded").Phase(corev1.PodSucceeded).Obj(),
		makePod("failed").Phase(corev1.PodFailed).Obj(),
		makePod("terminating").Running().Deleting().Obj(),
		makePod("failed-and-deleted").Phase(corev1.PodFailed).Deleting().Obj(),
	}
	active, terminating := splitPods(pods)
	if diff := cmp.Diff([]string{"pending", "running"}, podNames(active)); diff != "" {
		t.Errorf("active (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"terminating"}, podNames(terminating)); diff != "" {
		t.Errorf("terminating (-want +got):\n%s", diff)
	}
}
