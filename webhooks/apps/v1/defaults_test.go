/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/nucleus/defaults"
)

func TestDefaultDeployment(t *testing.T) {
	pct := func(s string) *intstr.IntOrString { return ptr.To(intstr.FromString(s)) }
	num := func(n int32) *intstr.IntOrString { return ptr.To(intstr.FromInt32(n)) }
	rolling := func(maxUnavailable, maxSurge *intstr.IntOrString) appsv1.DeploymentStrategy {
		return appsv1.DeploymentStrategy{
			Type:          appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: maxUnavailable, MaxSurge: maxSurge},
		}
	}
	// want builds the expected spec: in's, with the given fields set.
	type fields struct {
		replicas, revisionHistoryLimit, progressDeadlineSeconds int32
		strategy                                                appsv1.DeploymentStrategy
	}
	upstream := fields{replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: rolling(pct("25%"), pct("25%"))}

	tests := []struct {
		name string
		in   *stratav1.Deployment
		want fields
	}{{
		name: "everything unset",
		in:   makeDeployment("web").Obj(),
		want: upstream,
	}, {
		name: "explicit zeros are kept",
		in: makeDeployment("web").Replicas(0).Tweak(func(d *stratav1.Deployment) {
			d.Spec.RevisionHistoryLimit = ptr.To[int32](0)
			d.Spec.ProgressDeadlineSeconds = ptr.To[int32](30)
		}).Obj(),
		want: fields{replicas: 0, revisionHistoryLimit: 0, progressDeadlineSeconds: 30, strategy: upstream.strategy},
	}, {
		name: "recreate gets no rollingUpdate",
		in:   makeDeployment("web").Strategy(appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}).Obj(),
		want: fields{replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
			strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}},
	}, {
		name: "rolling update without parameters",
		in:   makeDeployment("web").Strategy(appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}).Obj(),
		want: upstream,
	}, {
		name: "only the missing parameter is defaulted",
		in:   makeDeployment("web").Strategy(rolling(nil, num(0))).Obj(),
		want: fields{replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: rolling(pct("25%"), num(0))},
	}, {
		name: "rollingUpdate without a type becomes RollingUpdate",
		in: makeDeployment("web").Strategy(appsv1.DeploymentStrategy{
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: num(1)},
		}).Obj(),
		want: fields{replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: rolling(num(1), pct("25%"))},
	}, {
		name: "unknown strategy type is left for validation",
		in:   makeDeployment("web").Strategy(appsv1.DeploymentStrategy{Type: "Canary"}).Obj(),
		want: fields{replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: appsv1.DeploymentStrategy{Type: "Canary"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			DefaultDeployment(got)

			want := tt.in.DeepCopy()
			want.Spec.Replicas = ptr.To(tt.want.replicas)
			want.Spec.RevisionHistoryLimit = ptr.To(tt.want.revisionHistoryLimit)
			want.Spec.ProgressDeadlineSeconds = ptr.To(tt.want.progressDeadlineSeconds)
			want.Spec.Strategy = tt.want.strategy
			defaults.PodTemplateSpec(&want.Spec.Template)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DefaultDeployment() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultDeploymentTemplateAndSelector(t *testing.T) {
	d := makeDeployment("web").Selector(nil).Obj()
	DefaultDeployment(d)
	// apps/v1, unlike extensions/v1beta1, does not derive the selector
	// from the template's labels: a missing selector is a validation error.
	if d.Spec.Selector != nil {
		t.Errorf("selector = %v, want it left unset", d.Spec.Selector)
	}
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	got := []string{string(spec.RestartPolicy), string(spec.DNSPolicy), spec.SchedulerName,
		string(c.ImagePullPolicy), c.TerminationMessagePath, string(c.TerminationMessagePolicy)}
	want := []string{"Always", "ClusterFirst", "default-scheduler", "IfNotPresent", "/dev/termination-log", "File"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("template defaults mismatch (-want +got):\n%s", diff)
	}
	if g := spec.TerminationGracePeriodSeconds; g == nil || *g != corev1.DefaultTerminationGracePeriodSeconds {
		t.Errorf("terminationGracePeriodSeconds = %v, want %d", g, corev1.DefaultTerminationGracePeriodSeconds)
	}
}

func TestDefaultReplicaSet(t *testing.T) {
	tests := []struct {
		name string
		in   *stratav1.ReplicaSet
		want int32
	}{
		{name: "replicas unset", in: makeReplicaSet("web").Obj(), want: 1},
		{name: "zero replicas are kept", in: makeReplicaSet("web").Replicas(0).Obj(), want: 0},
		{name: "replicas kept", in: makeReplicaSet("web").Replicas(5).Obj(), want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.DeepCopy()
			DefaultReplicaSet(got)

			want := tt.in.DeepCopy()
			want.Spec.Replicas = ptr.To(tt.want)
			defaults.PodTemplateSpec(&want.Spec.Template)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DefaultReplicaSet() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDefaultingIsIdempotent: the mutating webhook runs on every update,
// so defaulting a defaulted object must change nothing.
func TestDefaultingIsIdempotent(t *testing.T) {
	d := makeDeployment("web").Defaulted()
	again := d.DeepCopy()
	DefaultDeployment(again)
	if diff := cmp.Diff(d, again); diff != "" {
		t.Errorf("second DefaultDeployment() changed the object (-first +second):\n%s", diff)
	}
	rs := makeReplicaSet("web").Defaulted()
	rsAgain := rs.DeepCopy()
	DefaultReplicaSet(rsAgain)
	if diff := cmp.Diff(rs, rsAgain); diff != "" {
		t.Errorf("second DefaultReplicaSet() changed the object (-first +second):\n%s", diff)
	}
}

// TestDefaultersRefuseNegativeReplicas: the defaulting webhooks answer
// negative replicas with upstream's message before the custom resource's own
// scale validation can.
func TestDefaultersRefuseNegativeReplicas(t *testing.T) {
	const want = `spec.replicas: Invalid value: -1: must be greater than or equal to 0`
	d := &stratav1.Deployment{}
	d.Name, d.Spec.Replicas = "web", ptr.To[int32](-1)
	err := (&DeploymentDefaulter{}).Default(t.Context(), d)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("Deployment: %v, want 422 with %q", err, want)
	}
	rs := &stratav1.ReplicaSet{}
	rs.Name, rs.Spec.Replicas = "web", ptr.To[int32](-1)
	err = (&ReplicaSetDefaulter{}).Default(t.Context(), rs)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("ReplicaSet: %v, want 422 with %q", err, want)
	}
}
