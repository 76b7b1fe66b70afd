/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/intstr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// scaled is a Deployment resized from `from` to `to` replicas, with no
// unavailability allowed and the given surge both before and after.
func scaled(from, to int32, surgeBefore, surgeAfter int32) (before, after *stratav1.Deployment) {
	before = makeDeployment("web").Replicas(from).Rolling(intstr.FromInt32(surgeBefore), intstr.FromInt32(0)).Obj()
	after = makeDeployment("web").Replicas(to).Rolling(intstr.FromInt32(surgeAfter), intstr.FromInt32(0)).Obj()
	return before, after
}

func TestScaleSteps(t *testing.T) {
	type rs struct {
		name      string
		replicas  int32
		created   int
		available int32
	}
	tests := []struct {
		name                 string
		from, to             int32
		surgeBefore, surgeAf int32
		newRS                *rs
		old                  []rs
		want                 map[string]int32
	}{
		{name: "single ReplicaSet: 10 -> 12", from: 10, to: 12, newRS: &rs{"v1", 10, 10, 10}, want: map[string]int32{"v1": 12}},
		{name: "single ReplicaSet: 10 -> 5", from: 10, to: 5, newRS: &rs{"v1", 10, 10, 10}, want: map[string]int32{"v1": 5}},
		{name: "proportional: 5 -> 10", from: 5, to: 10, newRS: &rs{"v2", 2, 10, 0}, old: []rs{{"v1", 3, 0, 3}}, want: map[string]int32{"v2": 4, "v1": 6}},
		{name: "proportional: 5 -> 3", from: 5, to: 3, newRS: &rs{"v2", 2, 10, 0}, old: []rs{{"v1", 3, 0, 3}}, want: map[string]int32{"v2": 1, "v1": 2}},
		{name: "proportional: 9 -> 4", from: 9, to: 4, newRS: &rs{"v2", 8, 10, 0}, old: []rs{{"v1", 1, 0, 1}}, want: map[string]int32{"v2": 4, "v1": 0}},
		{name: "proportional: 7 -> 10", from: 7, to: 10, newRS: &rs{"v3", 2, 20, 0}, old: []rs{{"v2", 3, 10, 3}, {"v1", 2, 0, 2}}, want: map[string]int32{"v3": 3, "v2": 4, "v1": 3}},
		{name: "proportional: 13 -> 8", from: 13, to: 8, newRS: &rs{"v3", 2, 20, 0}, old: []rs{{"v2", 8, 10, 8}, {"v1", 3, 0, 3}}, want: map[string]int32{"v3": 1, "v2": 5, "v1": 2}},
		{name: "leftover goes to the newest when growing: 3 -> 4", from: 3, to: 4, newRS: &rs{"v3", 1, 20, 0}, old: []rs{{"v2", 1, 10, 1}, {"v1", 1, 0, 1}}, want: map[string]int32{"v3": 2, "v2": 1, "v1": 1}},
		{name: "leftover taken from the oldest when shrinking: 3 -> 2", from: 3, to: 2, newRS: &rs{"v3", 1, 20, 0}, old: []rs{{"v2", 1, 10, 1}, {"v1", 1, 0, 1}}, want: map[string]int32{"v3": 1, "v2": 1, "v1": 0}},
		{name: "no new ReplicaSet: 4 -> 5, newest first", from: 4, to: 5, old: []rs{{"v2", 2, 10, 2}, {"v1", 2, 0, 2}}, want: map[string]int32{"v2": 3, "v1": 2}},
		{name: "to zero: 6 -> 0", from: 6, to: 0, newRS: &rs{"v2", 3, 10, 0}, old: []rs{{"v1", 3, 0, 3}}, want: map[string]int32{"v2": 0, "v1": 0}},
		{name: "from zero: 0 -> 6", from: 0, to: 6, newRS: &rs{"v2", 0, 10, 0}, old: []rs{{"v1", 0, 0, 0}}, want: map[string]int32{"v2": 6}},
		{name: "with surge pods: 10 -> 20", from: 10, to: 20, surgeBefore: 2, surgeAf: 2, newRS: &rs{"v2", 6, 10, 0}, old: []rs{{"v1", 6, 0, 6}}, want: map[string]int32{"v2": 11, "v1": 11}},
		{name: "surge and size change together", from: 10, to: 50, surgeBefore: 3, surgeAf: 6, newRS: &rs{"v2", 5, 10, 0}, old: []rs{{"v1", 8, 0, 8}}, want: map[string]int32{"v2": 22, "v1": 34}},
		{name: "saturated new ReplicaSet: old ones go to zero", from: 3, to: 3, newRS: &rs{"v2", 3, 10, 3}, old: []rs{{"v1", 1, 0, 1}}, want: map[string]int32{"v1": 0}},
		{name: "saturated but broken new ReplicaSet leaves old pods alone", from: 2, to: 2, surgeBefore: 1, surgeAf: 1, newRS: &rs{"v2", 2, 10, 0}, old: []rs{{"v1", 1, 0, 1}}, want: map[string]int32{"v2": 2, "v1": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, after := scaled(tt.from, tt.to, tt.surgeBefore, tt.surgeAf)
			build := func(r rs) *stratav1.ReplicaSet {
				return makeRS(r.name, r.replicas).Created(r.created).Available(r.available).
					SizedFor(desiredReplicas(before), desiredReplicas(before)+maxSurge(before)).Obj()
			}
			var newRS *stratav1.ReplicaSet
			if tt.newRS != nil {
				newRS = build(*tt.newRS)
			}
			var old []*stratav1.ReplicaSet
			for _, r := range tt.old {
				old = append(old, build(r))
			}
			got := map[string]int32{}
			for _, s := range scaleSteps(after, newRS, old) {
				got[s.rs.Name] = s.replicas
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sizes (-want +got):\n%s", diff)
			}
			// The steps never take the total above replicas + maxSurge.
			total := int32(0)
			for _, rs := range append(old, newRS) {
				if rs == nil {
					continue
				}
				n := specReplicas(rs)
				if v, ok := got[rs.Name]; ok {
					n = v
				}
				total += n
			}
			if limit := desiredReplicas(after) + maxSurge(after); total > limit && tt.from <= tt.to {
				t.Errorf("total %d above %d", total, limit)
			}
		})
	}
}

func TestScaleStepsRefreshAnnotations(t *testing.T) {
	// Proportional scaling updates every active ReplicaSet, even one whose
	// size does not change, so that the resize is not seen again.
	_, after := scaled(3, 4, 0, 0)
	newRS := makeRS("v3", 1).Created(20).SizedFor(3, 3).Obj()
	old := []*stratav1.ReplicaSet{makeRS("v2", 1).Created(10).SizedFor(3, 3).Obj(), makeRS("v1", 1).SizedFor(3, 3).Obj()}
	var got []plannedStep
	for _, s := range scaleSteps(after, newRS, old) {
		got = append(got, plannedStep{Name: s.rs.Name, Replicas: s.replicas})
	}
	want := []plannedStep{{"v3", 2}, {"v2", 1}, {"v1", 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestIsScalingEvent(t *testing.T) {
	d := makeDeployment("web").Replicas(5).Obj()
	tests := []struct {
		name string
		rss  []*stratav1.ReplicaSet
		want bool
	}{
		{name: "sized for the current replicas", rss: []*stratav1.ReplicaSet{makeRS("a", 5).SizedFor(5, 7).Obj()}, want: false},
		{name: "sized for other replicas", rss: []*stratav1.ReplicaSet{makeRS("a", 3).SizedFor(3, 4).Obj()}, want: true},
		{name: "inactive ReplicaSets do not count", rss: []*stratav1.ReplicaSet{makeRS("a", 0).SizedFor(3, 4).Obj(), makeRS("b", 5).SizedFor(5, 7).Obj()}, want: false},
		{name: "no annotation", rss: []*stratav1.ReplicaSet{makeRS("a", 3).Obj()}, want: false},
		{name: "no new ReplicaSet", rss: []*stratav1.ReplicaSet{nil, makeRS("a", 5).SizedFor(5, 7).Obj()}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isScalingEvent(d, tt.rss); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFindActiveOrLatest(t *testing.T) {
	a := makeRS("a", 0).Created(0).Obj()
	b := makeRS("b", 0).Created(10).Obj()
	active := makeRS("c", 2).Created(5).Obj()
	newRS := makeRS("n", 0).Created(20).Obj()
	tests := []struct {
		name  string
		newRS *stratav1.ReplicaSet
		old   []*stratav1.ReplicaSet
		want  string
	}{
		{name: "nothing", want: ""},
		{name: "none active: the new one", newRS: newRS, old: []*stratav1.ReplicaSet{a, b}, want: "n"},
		{name: "none active and no new one: the newest old one", old: []*stratav1.ReplicaSet{b, a}, want: "b"},
		{name: "one active", newRS: newRS, old: []*stratav1.ReplicaSet{a, active}, want: "c"},
		{name: "several active", newRS: makeRS("n", 1).Obj(), old: []*stratav1.ReplicaSet{active}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if rs := findActiveOrLatest(tt.newRS, tt.old); rs != nil {
				got = rs.Name
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
