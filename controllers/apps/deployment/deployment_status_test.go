/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// at is t0 plus some seconds.
func at(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }

// cond builds a condition that changed at the given second.
func cond(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, message string, seconds int) appsv1.DeploymentCondition {
	return newCondition(t, status, reason, message, at(seconds))
}

func TestCalculateStatus(t *testing.T) {
	d := makeDeployment("web").Replicas(4).Obj()
	d.Generation = 3
	d.Status.CollisionCount = ptr.To[int32](1)
	d.Status.Conditions = []appsv1.DeploymentCondition{cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, "x", 0)}

	old := makeRS("old", 2).Available(2).Obj()
	old.Status.TerminatingReplicas = ptr.To[int32](1)
	old.Status.ObservedGeneration = 1
	newRS := makeRS("new", 3).Obj()
	newRS.Status.Replicas = 3
	newRS.Status.ReadyReplicas = 2
	newRS.Status.AvailableReplicas = 1

	got := calculateStatus([]*stratav1.ReplicaSet{old, newRS}, newRS, d, at(5))
	want := stratav1.DeploymentStatus{
		DeploymentStatus: appsv1.DeploymentStatus{
			ObservedGeneration:  3,
			Replicas:            5,
			UpdatedReplicas:     3,
			ReadyReplicas:       4,
			AvailableReplicas:   3,
			UnavailableReplicas: 2,
			TerminatingReplicas: ptr.To[int32](1),
			CollisionCount:      ptr.To[int32](1),
			Conditions: []appsv1.DeploymentCondition{
				cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, "x", 0),
				cond(appsv1.DeploymentAvailable, corev1.ConditionTrue, MinimumReplicasAvailable, "Deployment has minimum availability.", 5),
			},
		},
		Selector: "app=web",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// Fewer available than minAvailable (4 - 1 = 3).
	newRS.Status.AvailableReplicas = 0
	got = calculateStatus([]*stratav1.ReplicaSet{old, newRS}, newRS, d, at(6))
	if c := getCondition(got.DeploymentStatus, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != MinimumReplicasUnavailable || c.Message != "Deployment does not have minimum availability." {
		t.Errorf("Available = %+v", c)
	}
}

func TestTerminatingReplicaCount(t *testing.T) {
	synced := func(n *int32) *stratav1.ReplicaSet {
		rs := makeRS("rs", 1).Obj()
		rs.Status.ObservedGeneration = 1
		rs.Status.TerminatingReplicas = n
		return rs
	}
	unsynced := makeRS("new", 3).Obj()
	tests := []struct {
		name string
		rss  []*stratav1.ReplicaSet
		want *int32
	}{
		{name: "sum", rss: []*stratav1.ReplicaSet{synced(ptr.To[int32](3)), synced(ptr.To[int32](1))}, want: ptr.To[int32](4)},
		{name: "not yet synced counts as zero", rss: []*stratav1.ReplicaSet{unsynced}, want: ptr.To[int32](0)},
		{name: "a synced ReplicaSet without the field makes it unknown", rss: []*stratav1.ReplicaSet{synced(ptr.To[int32](3)), synced(nil)}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, terminatingReplicaCount(tt.rss)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetCondition(t *testing.T) {
	status := &appsv1.DeploymentStatus{}
	setCondition(status, cond(appsv1.DeploymentAvailable, corev1.ConditionTrue, "A", "a", 0))
	setCondition(status, cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, "B", "b", 0))

	// Same status and reason: untouched, even the message and times.
	setCondition(status, cond(appsv1.DeploymentAvailable, corev1.ConditionTrue, "A", "other", 10))
	// Same status, new reason: lastTransitionTime kept, moved to the end.
	setCondition(status, cond(appsv1.DeploymentAvailable, corev1.ConditionTrue, "C", "c", 20))
	// New status: both times new.
	setCondition(status, cond(appsv1.DeploymentProgressing, corev1.ConditionFalse, "D", "d", 30))

	availableC := cond(appsv1.DeploymentAvailable, corev1.ConditionTrue, "C", "c", 20)
	availableC.LastTransitionTime = metav1.NewTime(at(0))
	want := []appsv1.DeploymentCondition{availableC, cond(appsv1.DeploymentProgressing, corev1.ConditionFalse, "D", "d", 30)}
	if diff := cmp.Diff(want, status.Conditions); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
}

func TestDeploymentComplete(t *testing.T) {
	d := func(desired, current, updated, available, maxUnavailable, maxSurge int32) *stratav1.Deployment {
		return makeDeployment("web").Replicas(desired).
			Rolling(intstr.FromInt32(maxSurge), intstr.FromInt32(maxUnavailable)).
			StatusCounts(current, updated, 0, available).Obj()
	}
	tests := []struct {
		name string
		d    *stratav1.Deployment
		want bool
	}{
		{"min but not all pods available", d(5, 5, 5, 4, 1, 0), false},
		{"min availability not honored", d(5, 5, 5, 3, 1, 0), false},
		{"complete", d(5, 5, 5, 5, 0, 0), true},
		{"all available but not updated", d(5, 5, 4, 5, 0, 0), false},
		{"old pods still running", d(1, 2, 1, 1, 0, 1), false},
		{"one replica never comes up", d(1, 1, 1, 0, 1, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.Status.ObservedGeneration = tt.d.Generation
			if got := deploymentComplete(tt.d, &tt.d.Status); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("an older generation is not complete", func(t *testing.T) {
		dd := d(5, 5, 5, 5, 0, 0)
		dd.Generation = 2
		dd.Status.ObservedGeneration = 1
		if deploymentComplete(dd, &dd.Status) {
			t.Error("complete")
		}
	})
}

func TestDeploymentProgressing(t *testing.T) {
	counts := func(current, updated, ready, available int32) *stratav1.Deployment {
		return makeDeployment("web").StatusCounts(current, updated, ready, available).Obj()
	}
	tests := []struct {
		name     string
		old, new *stratav1.Deployment
		want     bool
	}{
		{"updated pods", counts(10, 4, 4, 4), counts(10, 6, 4, 4), true},
		{"nothing changed", counts(10, 4, 4, 4), counts(10, 4, 4, 4), false},
		{"old pods removed", counts(10, 4, 6, 6), counts(8, 4, 6, 6), true},
		{"fewer new pods", counts(10, 7, 3, 3), counts(10, 6, 3, 3), false},
		{"fewer overall but more new", counts(10, 4, 7, 7), counts(8, 8, 5, 5), true},
		{"more ready pods", counts(10, 10, 9, 8), counts(10, 10, 10, 8), true},
		{"more available pods", counts(10, 10, 10, 9), counts(10, 10, 10, 10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deploymentProgressing(tt.old, &tt.new.Status); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeploymentTimedOut(t *testing.T) {
	d := func(reason string, deadline *int32, updatedAt int) *stratav1.Deployment {
		return makeDeployment("web").Deadline(deadline).
			Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, reason, "", updatedAt)).Obj()
	}
	tests := []struct {
		name string
		d    *stratav1.Deployment
		now  int
		want bool
	}{
		{"no deadline", d(ReplicaSetUpdatedReason, nil, 0), 1000, false},
		{"infinite deadline", d(ReplicaSetUpdatedReason, ptr.To[int32](math.MaxInt32), 0), 1000, false},
		{"within the deadline", d(ReplicaSetUpdatedReason, ptr.To[int32](10), 0), 9, false},
		{"at the deadline", d(ReplicaSetUpdatedReason, ptr.To[int32](10), 0), 10, false},
		{"past the deadline", d(ReplicaSetUpdatedReason, ptr.To[int32](10), 0), 11, true},
		{"a completed rollout does not time out", d(NewRSAvailableReason, ptr.To[int32](10), 0), 100, false},
		{"already timed out", d(TimedOutReason, ptr.To[int32](10), 95), 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deploymentTimedOut(tt.d, &tt.d.Status, at(tt.now)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRolloutStatusProgressing(t *testing.T) {
	newRS := func(size, available int32) *stratav1.ReplicaSet {
		return makeRS("web-abc", size).Created(1).Available(available).Obj()
	}
	progressing := func(reason, msg string, status corev1.ConditionStatus, changed, updated int) appsv1.DeploymentCondition {
		c := cond(appsv1.DeploymentProgressing, status, reason, msg, updated)
		c.LastTransitionTime = metav1.NewTime(at(changed))
		return c
	}
	tests := []struct {
		name  string
		d     *stratav1.Deployment
		old   *stratav1.ReplicaSet
		newRS *stratav1.ReplicaSet
		now   int
		want  *appsv1.DeploymentCondition
	}{
		{
			name:  "progress refreshes lastUpdateTime, keeps lastTransitionTime",
			d:     makeDeployment("web").StatusCounts(3, 1, 0, 0).Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewReplicaSetReason, `Created new replica set "web-abc"`, 0)).Obj(),
			old:   makeRS("old", 2).Available(2).Obj(),
			newRS: newRS(2, 0),
			now:   30,
			want:  ptr.To(progressing(ReplicaSetUpdatedReason, `ReplicaSet "web-abc" is progressing.`, corev1.ConditionTrue, 0, 30)),
		},
		{
			name:  "complete",
			d:     makeDeployment("web").StatusCounts(3, 3, 3, 2).Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, `ReplicaSet "web-abc" is progressing.`, 0)).Obj(),
			old:   makeRS("old", 0).Obj(),
			newRS: newRS(3, 3),
			now:   40,
			want:  ptr.To(progressing(NewRSAvailableReason, `ReplicaSet "web-abc" has successfully progressed.`, corev1.ConditionTrue, 0, 40)),
		},
		{
			name:  "no progress within the deadline keeps the condition",
			d:     makeDeployment("web").StatusCounts(3, 1, 2, 2).Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, `ReplicaSet "web-abc" is progressing.`, 0)).Obj(),
			old:   makeRS("old", 2).Available(2).Obj(),
			newRS: newRS(1, 0),
			now:   600,
			want:  ptr.To(progressing(ReplicaSetUpdatedReason, `ReplicaSet "web-abc" is progressing.`, corev1.ConditionTrue, 0, 0)),
		},
		{
			name:  "no progress past the deadline times out",
			d:     makeDeployment("web").StatusCounts(3, 1, 2, 2).Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, `ReplicaSet "web-abc" is progressing.`, 0)).Obj(),
			old:   makeRS("old", 2).Available(2).Obj(),
			newRS: newRS(1, 0),
			now:   601,
			want:  ptr.To(progressing(TimedOutReason, `ReplicaSet "web-abc" has timed out progressing.`, corev1.ConditionFalse, 601, 601)),
		},
		{
			name:  "no deadline: no Progressing condition",
			d:     makeDeployment("web").Deadline(nil).StatusCounts(3, 1, 0, 0).Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, "", 0)).Obj(),
			old:   makeRS("old", 2).Available(2).Obj(),
			newRS: newRS(1, 0),
			now:   601,
		},
		{
			name:  "a complete rollout is not re-estimated",
			d:     makeDeployment("web").StatusCounts(3, 3, 3, 3).Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, NewRSAvailableReason, `ReplicaSet "web-abc" has successfully progressed.`, 0)).Obj(),
			newRS: newRS(3, 1),
			now:   6000,
			want:  ptr.To(progressing(NewRSAvailableReason, `ReplicaSet "web-abc" has successfully progressed.`, corev1.ConditionTrue, 0, 0)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := []*stratav1.ReplicaSet{tt.newRS}
			if tt.old != nil {
				all = append(all, tt.old)
			}
			status := rolloutStatus(all, tt.newRS, tt.d, at(tt.now))
			if diff := cmp.Diff(tt.want, getCondition(status.DeploymentStatus, appsv1.DeploymentProgressing)); diff != "" {
				t.Errorf("Progressing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRolloutStatusReplicaFailure(t *testing.T) {
	failure := appsv1.ReplicaSetCondition{
		Type:               appsv1.ReplicaSetReplicaFailure,
		Status:             corev1.ConditionTrue,
		Reason:             "FailedCreate",
		Message:            `pods "web-abc-" is forbidden: exceeded quota`,
		LastTransitionTime: metav1.NewTime(at(3)),
	}
	d := makeDeployment("web").Deadline(nil).Obj()
	newRS := makeRS("web-abc", 3).Obj()
	newRS.Status.Conditions = []appsv1.ReplicaSetCondition{failure}

	status := rolloutStatus([]*stratav1.ReplicaSet{newRS}, newRS, d, at(5))
	want := &appsv1.DeploymentCondition{
		Type:               appsv1.DeploymentReplicaFailure,
		Status:             corev1.ConditionTrue,
		Reason:             "FailedCreate",
		Message:            failure.Message,
		LastUpdateTime:     metav1.NewTime(at(3)),
		LastTransitionTime: metav1.NewTime(at(3)),
	}
	if diff := cmp.Diff(want, getCondition(status.DeploymentStatus, appsv1.DeploymentReplicaFailure)); diff != "" {
		t.Errorf("ReplicaFailure (-want +got):\n%s", diff)
	}

	// Gone from the ReplicaSet, gone from the Deployment.
	d.Status = status
	newRS.Status.Conditions = nil
	status = rolloutStatus([]*stratav1.ReplicaSet{newRS}, newRS, d, at(6))
	if c := getCondition(status.DeploymentStatus, appsv1.DeploymentReplicaFailure); c != nil {
		t.Errorf("ReplicaFailure still set: %+v", c)
	}
}

func TestProgressCheckAfter(t *testing.T) {
	d := func(reason string, updatedAt int) *stratav1.Deployment {
		return makeDeployment("web").Deadline(ptr.To[int32](60)).StatusCounts(3, 1, 0, 0).
			Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, reason, "", updatedAt)).Obj()
	}
	tests := []struct {
		name   string
		d      *stratav1.Deployment
		now    int
		want   time.Duration
		wantOK bool
	}{
		{"remaining time plus a second", d(ReplicaSetUpdatedReason, 0), 20, 41 * time.Second, true},
		{"deadline passed: soon", d(ReplicaSetUpdatedReason, 0), 100, time.Second, true},
		{"timed out: no check", d(TimedOutReason, 0), 20, 0, false},
		{"complete rollout: no check", d(NewRSAvailableReason, 0), 20, 0, false},
		{"no deadline", makeDeployment("web").Deadline(nil).Obj(), 20, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := progressCheckAfter(tt.d, &tt.d.Status, at(tt.now))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSetPausedCondition(t *testing.T) {
	paused := cond(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedDeployReason, "Deployment is paused", 10)
	tests := []struct {
		name    string
		d       *stratav1.Deployment
		want    *appsv1.DeploymentCondition
		changed bool
	}{
		{
			name:    "pausing",
			d:       makeDeployment("web").Paused().Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReplicaSetUpdatedReason, "", 0)).Obj(),
			want:    ptr.To(paused),
			changed: true,
		},
		{
			name: "still paused",
			d:    makeDeployment("web").Paused().Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedDeployReason, "Deployment is paused", 5)).Obj(),
			want: ptr.To(cond(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedDeployReason, "Deployment is paused", 5)),
		},
		{
			name: "resuming",
			d:    makeDeployment("web").Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionUnknown, PausedDeployReason, "Deployment is paused", 5)).Obj(),
			want: func() *appsv1.DeploymentCondition {
				c := cond(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ResumedDeployReason, "Deployment is resumed", 10)
				c.LastTransitionTime = metav1.NewTime(at(5))
				return &c
			}(),
			changed: true,
		},
		{
			name: "a timed-out rollout stays timed out",
			d:    makeDeployment("web").Paused().Condition(cond(appsv1.DeploymentProgressing, corev1.ConditionFalse, TimedOutReason, "", 5)).Obj(),
			want: ptr.To(cond(appsv1.DeploymentProgressing, corev1.ConditionFalse, TimedOutReason, "", 5)),
		},
		{
			name: "no deadline: nothing",
			d:    makeDeployment("web").Paused().Deadline(nil).Obj(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := setPausedCondition(tt.d, at(10))
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			if diff := cmp.Diff(tt.want, getCondition(tt.d.Status.DeploymentStatus, appsv1.DeploymentProgressing)); diff != "" {
				t.Errorf("Progressing (-want +got):\n%s", diff)
			}
		})
	}
}
