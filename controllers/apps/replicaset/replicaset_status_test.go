/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

func TestComputeStatus(t *testing.T) {
	web := makeRS("web").Replicas(3).Generation(4)
	quota := errors.New(`pods "web-x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`)
	earlier := metav1.NewTime(t0.Add(-time.Hour))
	failure := func(reason, msg string, at metav1.Time) appsv1.ReplicaSetCondition {
		return appsv1.ReplicaSetCondition{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: reason, Message: msg, LastTransitionTime: at}
	}
	base := func(mutate func(*stratav1.ReplicaSetStatus)) stratav1.ReplicaSetStatus {
		st := stratav1.ReplicaSetStatus{Selector: "app=web"}
		st.TerminatingReplicas = ptr.To(int32(0))
		mutate(&st)
		return st
	}
	fully := func(name string) *podBuilder { return makePod(name).For(web.Obj()).Labels("app", "web", "tier", "web") }

	tests := []struct {
		name        string
		rs          *stratav1.ReplicaSet
		active      []*corev1.Pod
		terminating []*corev1.Pod
		manageErr   error
		want        stratav1.ReplicaSetStatus
	}{{
		name: "no pods",
		rs:   web.Obj(),
		want: base(func(s *stratav1.ReplicaSetStatus) { s.ObservedGeneration = 4 }),
	}, {
		name: "counts pods by labels, readiness and availability",
		rs:   makeRS("web").Replicas(3).Generation(4).MinReadySeconds(30).Obj(),
		active: []*corev1.Pod{
			fully("a").ReadySince(t0.Add(-time.Minute)).Obj(), // available
			fully("b").ReadySince(t0.Add(-10 * time.Second)).Obj(),
			makePod("c").For(web.Obj()).Running().Obj(), // only the selector's labels
		},
		terminating: []*corev1.Pod{makePod("d").For(web.Obj()).Deleting().Obj()},
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Replicas, s.FullyLabeledReplicas, s.ReadyReplicas, s.AvailableReplicas = 3, 2, 2, 1
			s.TerminatingReplicas = ptr.To(int32(1))
			s.ObservedGeneration = 4
		}),
	}, {
		name:   "ready exactly minReadySeconds ago is not yet available",
		rs:     makeRS("web").Replicas(1).MinReadySeconds(10).Obj(),
		active: []*corev1.Pod{fully("a").ReadySince(t0.Add(-10 * time.Second)).Obj()},
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Replicas, s.FullyLabeledReplicas, s.ReadyReplicas, s.ObservedGeneration = 1, 1, 1, 1
		}),
	}, {
		name:   "without minReadySeconds ready is available",
		rs:     makeRS("web").Obj(),
		active: []*corev1.Pod{fully("a").ReadySince(t0).Obj()},
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Replicas, s.FullyLabeledReplicas, s.ReadyReplicas, s.AvailableReplicas, s.ObservedGeneration = 1, 1, 1, 1, 1
		}),
	}, {
		name:      "failed creation: condition FailedCreate, observedGeneration kept",
		rs:        makeRS("web").Replicas(3).Generation(4).Status(func(s *stratav1.ReplicaSetStatus) { s.ObservedGeneration = 3 }).Obj(),
		active:    []*corev1.Pod{fully("a").Obj()},
		manageErr: quota,
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Replicas, s.FullyLabeledReplicas, s.ObservedGeneration = 1, 1, 3
			s.Conditions = []appsv1.ReplicaSetCondition{failure("FailedCreate", quota.Error(), metav1.NewTime(t0))}
		}),
	}, {
		name:      "failed deletion: condition FailedDelete",
		rs:        makeRS("web").Replicas(0).Obj(),
		active:    []*corev1.Pod{fully("a").Obj()},
		manageErr: errors.New("unable to delete pods: boom"),
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Replicas, s.FullyLabeledReplicas = 1, 1
			s.Conditions = []appsv1.ReplicaSetCondition{failure("FailedDelete", "unable to delete pods: boom", metav1.NewTime(t0))}
		}),
	}, {
		name: "an existing failure with the same reason is kept as it was",
		rs: makeRS("web").Replicas(2).Status(func(s *stratav1.ReplicaSetStatus) {
			s.Conditions = []appsv1.ReplicaSetCondition{failure("FailedCreate", "older message", earlier)}
		}).Obj(),
		manageErr: quota,
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Conditions = []appsv1.ReplicaSetCondition{failure("FailedCreate", "older message", earlier)}
		}),
	}, {
		name: "a failure with another reason replaces the old one",
		rs: makeRS("web").Replicas(0).Status(func(s *stratav1.ReplicaSetStatus) {
			s.Conditions = []appsv1.ReplicaSetCondition{failure("FailedCreate", "older message", earlier)}
		}).Obj(),
		active:    []*corev1.Pod{fully("a").Obj()},
		manageErr: quota,
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Replicas, s.FullyLabeledReplicas = 1, 1
			s.Conditions = []appsv1.ReplicaSetCondition{failure("FailedDelete", quota.Error(), metav1.NewTime(t0))}
		}),
	}, {
		name: "success removes the failure",
		rs: makeRS("web").Status(func(s *stratav1.ReplicaSetStatus) {
			s.Conditions = []appsv1.ReplicaSetCondition{failure("FailedCreate", "older message", earlier)}
		}).Obj(),
		active: []*corev1.Pod{fully("a").Obj()},
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Replicas, s.FullyLabeledReplicas, s.ObservedGeneration = 1, 1, 1
		}),
	}, {
		name: "selector with expressions",
		rs: func() *stratav1.ReplicaSet {
			rs := makeRS("web").Obj()
			rs.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}}}
			return rs
		}(),
		want: base(func(s *stratav1.ReplicaSetStatus) {
			s.Selector = "app=web,tier in (api,web)"
			s.ObservedGeneration = 1
		}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeStatus(tt.rs, tt.active, tt.terminating, tt.manageErr, t0)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextAvailabilityCheck(t *testing.T) {
	rs := makeRS("web").MinReadySeconds(30).Obj()
	tests := []struct {
		name   string
		rs     *stratav1.ReplicaSet
		active []*corev1.Pod
		want   time.Duration
	}{{
		name:   "no minReadySeconds",
		rs:     makeRS("web").Obj(),
		active: []*corev1.Pod{makePod("a").ReadySince(t0).Obj()},
	}, {
		name:   "all available",
		rs:     rs,
		active: []*corev1.Pod{makePod("a").ReadySince(t0.Add(-time.Minute)).Obj()},
	}, {
		name:   "not ready pods are not waited for",
		rs:     rs,
		active: []*corev1.Pod{makePod("a").Running().Obj()},
	}, {
		name: "the first pod to become available",
		rs:   rs,
		active: []*corev1.Pod{
			makePod("a").ReadySince(t0.Add(-5 * time.Second)).Obj(),
			makePod("b").ReadySince(t0.Add(-20 * time.Second)).Obj(),
			makePod("c").ReadySince(t0.Add(-time.Hour)).Obj(),
		},
		want: 10*time.Second + availabilityCheckSlack,
	}, {
		name: "unknown ready time: minReadySeconds",
		rs:   rs,
		active: []*corev1.Pod{func() *corev1.Pod {
			p := makePod("a").ReadySince(t0).Obj()
			p.Status.Conditions[0].LastTransitionTime = metav1.Time{}
			return p
		}()},
		want: 30 * time.Second,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextAvailabilityCheck(tt.rs, tt.active, t0); got != tt.want {
				t.Errorf("nextAvailabilityCheck = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDesiredReplicas(t *testing.T) {
	if got := desiredReplicas(makeRS("web").NilReplicas().Obj()); got != 1 {
		t.Errorf("nil replicas: got %d, want 1", got)
	}
	if got := desiredReplicas(makeRS("web").Replicas(0).Obj()); got != 0 {
		t.Errorf("0 replicas: got %d, want 0", got)
	}
}
