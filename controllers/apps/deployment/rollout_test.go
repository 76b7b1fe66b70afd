/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

func TestResolveFenceposts(t *testing.T) {
	pct := func(s string) *intstr.IntOrString { return ptr.To(intstr.FromString(s)) }
	abs := func(n int32) *intstr.IntOrString { return ptr.To(intstr.FromInt32(n)) }
	tests := []struct {
		name                   string
		surge, unavailable     *intstr.IntOrString
		desired                int32
		wantSurge, wantUnavail int32
		wantErr                bool
	}{
		{name: "25% of 5 rounds surge up and unavailable down", surge: pct("25%"), unavailable: pct("25%"), desired: 5, wantSurge: 2, wantUnavail: 1},
		{name: "25% of 4", surge: pct("25%"), unavailable: pct("25%"), desired: 4, wantSurge: 1, wantUnavail: 1},
		{name: "25% of 3", surge: pct("25%"), unavailable: pct("25%"), desired: 3, wantSurge: 1, wantUnavail: 0},
		{name: "25% of 1", surge: pct("25%"), unavailable: pct("25%"), desired: 1, wantSurge: 1, wantUnavail: 0},
		{name: "39% of 10", surge: pct("39%"), unavailable: pct("39%"), desired: 10, wantSurge: 4, wantUnavail: 3},
		{name: "10% of 5: half a pod of surge is one", surge: pct("10%"), unavailable: pct("10%"), desired: 5, wantSurge: 1, wantUnavail: 0},
		{name: "both zero after rounding: unavailable becomes 1", surge: abs(0), unavailable: pct("10%"), desired: 5, wantSurge: 0, wantUnavail: 1},
		{name: "0% and 0% of 0", surge: pct("0%"), unavailable: pct("0%"), desired: 0, wantSurge: 0, wantUnavail: 1},
		{name: "absolute values", surge: abs(2), unavailable: abs(0), desired: 5, wantSurge: 2, wantUnavail: 0},
		{name: "100% surge", surge: pct("100%"), unavailable: abs(0), desired: 3, wantSurge: 3, wantUnavail: 0},
		{name: "missing surge", unavailable: pct("39%"), desired: 10, wantSurge: 0, wantUnavail: 3},
		{name: "missing unavailable", surge: pct("39%"), desired: 10, wantSurge: 4, wantUnavail: 0},
		{name: "both missing", desired: 10, wantSurge: 0, wantUnavail: 1},
		{name: "invalid surge", surge: pct("oops"), unavailable: pct("39%"), desired: 10, wantErr: true},
		{name: "invalid unavailable", surge: pct("55%"), unavailable: pct("urg"), desired: 10, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			surge, unavail, err := resolveFenceposts(tt.surge, tt.unavailable, tt.desired)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if surge != tt.wantSurge || unavail != tt.wantUnavail {
				t.Errorf("got surge %d, unavailable %d; want %d, %d", surge, unavail, tt.wantSurge, tt.wantUnavail)
			}
		})
	}
}

func TestMaxSurgeAndUnavailable(t *testing.T) {
	tests := []struct {
		name                string
		d                   *stratav1.Deployment
		wantSurge, wantUnav int32
		wantMinAvailable    int32
	}{
		{name: "defaults on 5", d: makeDeployment("web").Replicas(5).Obj(), wantSurge: 2, wantUnav: 1, wantMinAvailable: 4},
		{name: "unavailable capped at replicas", d: makeDeployment("web").Replicas(3).Rolling(intstr.FromInt32(0), intstr.FromInt32(10)).Obj(), wantSurge: 0, wantUnav: 3, wantMinAvailable: 0},
		{name: "zero replicas", d: makeDeployment("web").Replicas(0).Obj(), wantSurge: 0, wantUnav: 0, wantMinAvailable: 0},
		{name: "recreate", d: makeDeployment("web").Replicas(5).Recreate().Obj(), wantSurge: 0, wantUnav: 0, wantMinAvailable: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxSurge(tt.d); got != tt.wantSurge {
				t.Errorf("maxSurge = %d, want %d", got, tt.wantSurge)
			}
			if got := maxUnavailable(tt.d); got != tt.wantUnav {
				t.Errorf("maxUnavailable = %d, want %d", got, tt.wantUnav)
			}
			if got := minAvailable(tt.d); got != tt.wantMinAvailable {
				t.Errorf("minAvailable = %d, want %d", got, tt.wantMinAvailable)
			}
		})
	}
}

func TestNewRSNewReplicas(t *testing.T) {
	tests := []struct {
		name  string
		d     *stratav1.Deployment
		old   []*stratav1.ReplicaSet
		newRS *stratav1.ReplicaSet
		want  int32
	}{
		{
			name:  "cannot scale up: stays at its size",
			d:     makeDeployment("web").Replicas(1).Rolling(intstr.FromInt32(1), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 5).Obj()},
			newRS: makeRS("new", 5).Obj(),
			want:  5,
		},
		{
			name:  "scale up to the desired replicas, not beyond",
			d:     makeDeployment("web").Replicas(6).Rolling(intstr.FromInt32(10), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 5).Obj()},
			newRS: makeRS("new", 2).Obj(),
			want:  6,
		},
		{
			name:  "25% surge of 5 allows two new pods",
			d:     makeDeployment("web").Replicas(5).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 5).Obj()},
			newRS: makeRS("new", 0).Obj(),
			want:  2,
		},
		{
			name:  "no surge: nothing until old pods go",
			d:     makeDeployment("web").Replicas(5).Rolling(intstr.FromInt32(0), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 5).Obj()},
			newRS: makeRS("new", 0).Obj(),
			want:  0,
		},
		{
			name:  "room left by scaled-down old pods",
			d:     makeDeployment("web").Replicas(5).Rolling(intstr.FromInt32(0), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 4).Obj()},
			newRS: makeRS("new", 0).Obj(),
			want:  1,
		},
		{
			name:  "recreate takes the desired replicas at once",
			d:     makeDeployment("web").Replicas(3).Recreate().Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 5).Obj()},
			newRS: makeRS("new", 1).Obj(),
			want:  3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newRSNewReplicas(tt.d, append(tt.old, tt.newRS), tt.newRS)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNewReplicaSetStep(t *testing.T) {
	tests := []struct {
		name  string
		d     *stratav1.Deployment
		old   []*stratav1.ReplicaSet
		newRS *stratav1.ReplicaSet
		want  *int32
	}{
		{
			name:  "at the desired size",
			d:     makeDeployment("web").Replicas(3).Obj(),
			newRS: makeRS("new", 3).Obj(),
		},
		{
			name:  "surge during scale-down: a new ReplicaSet above the desired replicas shrinks",
			d:     makeDeployment("web").Replicas(3).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 2).Obj()},
			newRS: makeRS("new", 5).Obj(),
			want:  ptr.To[int32](3),
		},
		{
			name:  "at the surge limit: no step",
			d:     makeDeployment("web").Replicas(4).Rolling(intstr.FromInt32(1), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 4).Obj()},
			newRS: makeRS("new", 1).Obj(),
		},
		{
			name:  "grows within the surge",
			d:     makeDeployment("web").Replicas(4).Rolling(intstr.FromInt32(1), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 3).Obj()},
			newRS: makeRS("new", 1).Obj(),
			want:  ptr.To[int32](2),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := newReplicaSetStep(tt.d, append(tt.old, tt.newRS), tt.newRS)
			if err != nil {
				t.Fatal(err)
			}
			var got *int32
			if step != nil {
				got = &step.replicas
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("step (-want +got):\n%s", diff)
			}
		})
	}
}

// lagging sets status.replicas, as a ReplicaSet whose controller has not
// caught up with a scale-down reports it.
func lagging(rs *stratav1.ReplicaSet, replicas int32) *stratav1.ReplicaSet {
	rs.Status.Replicas = replicas
	return rs
}

type plannedStep struct {
	Name     string
	Replicas int32
}

func planned(steps []scaleStep) []plannedStep {
	var out []plannedStep
	for _, s := range steps {
		out = append(out, plannedStep{Name: s.rs.Name, Replicas: s.replicas})
	}
	return out
}

func TestOldReplicaSetsSteps(t *testing.T) {
	tests := []struct {
		name  string
		d     *stratav1.Deployment
		old   []*stratav1.ReplicaSet
		newRS *stratav1.ReplicaSet
		want  []plannedStep
	}{
		{
			name:  "no old pods",
			d:     makeDeployment("web").Replicas(10).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 0).Obj()},
			newRS: makeRS("new", 10).Available(10).Obj(),
		},
		{
			name:  "takes down to minAvailable",
			d:     makeDeployment("web").Replicas(10).Rolling(intstr.FromInt32(0), intstr.FromInt32(2)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 10).Available(10).Obj()},
			newRS: makeRS("new", 0).Obj(),
			want:  []plannedStep{{"old", 8}},
		},
		{
			name:  "unavailable new pods block the scale-down",
			d:     makeDeployment("web").Replicas(10).Rolling(intstr.FromInt32(0), intstr.FromInt32(2)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 8).Available(8).Obj()},
			newRS: makeRS("new", 2).Available(0).Obj(),
		},
		{
			name: "unhealthy old pods go first, then available ones, oldest first",
			d:    makeDeployment("web").Replicas(10).Rolling(intstr.FromInt32(2), intstr.FromInt32(2)).Obj(),
			old: []*stratav1.ReplicaSet{
				makeRS("old-b", 4).Created(10).Available(1).Obj(),
				makeRS("old-a", 6).Created(0).Available(6).Obj(),
			},
			newRS: makeRS("new", 2).Created(20).Available(2).Obj(),
			want:  []plannedStep{{"old-b", 1}, {"old-a", 5}},
		},
		{
			name:  "unhealthy cleanup bounded by the budget",
			d:     makeDeployment("web").Replicas(10).Rolling(intstr.FromInt32(0), intstr.FromInt32(2)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 10).Available(5).Obj()},
			newRS: makeRS("new", 0).Obj(),
			want:  []plannedStep{{"old", 8}},
		},
		{
			name:  "the same ReplicaSet cleaned up, then scaled down",
			d:     makeDeployment("web").Replicas(4).Rolling(intstr.FromInt32(1), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{makeRS("old", 4).Available(3).Obj()},
			newRS: makeRS("new", 1).Available(1).Obj(),
			want:  []plannedStep{{"old", 3}, {"old", 2}},
		},
		{
			name:  "an old ReplicaSet whose status lags its scale-down holds everything",
			d:     makeDeployment("web").Replicas(4).Rolling(intstr.FromInt32(1), intstr.FromInt32(1)).Obj(),
			old:   []*stratav1.ReplicaSet{lagging(makeRS("old", 3).Available(4).Obj(), 4)},
			newRS: makeRS("new", 2).Available(2).Obj(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := append(append([]*stratav1.ReplicaSet{}, tt.old...), tt.newRS)
			got := planned(oldReplicaSetsSteps(tt.d, all, filterActive(tt.old), tt.newRS))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRollingUpdateNeverBreachesBounds plays whole rollouts with the pure
// planners for many sizes and strategies. The simulated ReplicaSet
// controller makes new pods available one round after they are asked for
// (or never, for a broken template) and removes pods at once. At every step
// the pods asked for never exceed replicas + maxSurge, and available pods
// never fall below replicas - maxUnavailable.
func TestRollingUpdateNeverBreachesBounds(t *testing.T) {
	fenceposts := []intstr.IntOrString{
		intstr.FromInt32(0), intstr.FromInt32(1), intstr.FromInt32(2),
		intstr.FromString("10%"), intstr.FromString("25%"), intstr.FromString("50%"),
	}
	for desired := int32(1); desired <= 10; desired++ {
		for _, surge := range fenceposts {
			for _, unavailable := range fenceposts {
				if surge.IntValue() == 0 && surge.Type == intstr.Int && unavailable.IntValue() == 0 && unavailable.Type == intstr.Int {
					continue // rejected by validation
				}
				for _, broken := range []bool{false, true} {
					name := fmt.Sprintf("%d replicas, surge %s, unavailable %s, broken %v", desired, surge.String(), unavailable.String(), broken)
					t.Run(name, func(t *testing.T) {
						simulateRollout(t, makeDeployment("web").Replicas(desired).Rolling(surge, unavailable).Obj(), broken)
					})
				}
			}
		}
	}
}

func simulateRollout(t *testing.T, d *stratav1.Deployment, broken bool) {
	t.Helper()
	desired := desiredReplicas(d)
	maxTotal := desired + maxSurge(d)
	minAvail := desired - maxUnavailable(d)
	old := makeRS("old", desired).Available(desired).Obj()
	newRS := makeRS("new", 0).Created(1).Obj()
	all := []*stratav1.ReplicaSet{old, newRS}

	apply := func(steps []scaleStep) {
		for _, s := range steps {
			s.rs.Spec.Replicas = ptr.To(s.replicas)
			// Removed pods disappear at once.
			s.rs.Status.Replicas = min(s.rs.Status.Replicas, s.replicas)
			s.rs.Status.AvailableReplicas = min(s.rs.Status.AvailableReplicas, s.replicas)
		}
		if total := replicaCount(all); total > maxTotal {
			t.Fatalf("%d pods asked for, more than %d", total, maxTotal)
		}
		if avail := availableReplicaCount(all); avail < minAvail {
			t.Fatalf("%d pods available, fewer than %d", avail, minAvail)
		}
	}

	for round := 0; round < 100; round++ {
		// The ReplicaSet controller catches up with the last round.
		newRS.Status.Replicas = specReplicas(newRS)
		if !broken {
			newRS.Status.AvailableReplicas = specReplicas(newRS)
		}
		if specReplicas(newRS) == desired && specReplicas(old) == 0 && newRS.Status.AvailableReplicas == desired {
			return
		}
		step, err := newReplicaSetStep(d, all, newRS)
		if err != nil {
			t.Fatal(err)
		}
		if step != nil {
			apply([]scaleStep{*step})
			continue
		}
		steps := oldReplicaSetsSteps(d, all, filterActive([]*stratav1.ReplicaSet{old}), newRS)
		if len(steps) == 0 {
			if broken {
				// A broken rollout stalls within its bounds.
				return
			}
			t.Fatalf("round %d: stuck with old %d, new %d", round, specReplicas(old), specReplicas(newRS))
		}
		apply(steps)
	}
	t.Fatal("rollout did not finish in 100 rounds")
}
