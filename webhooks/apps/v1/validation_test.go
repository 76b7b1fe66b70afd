/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

func TestValidateDeployment(t *testing.T) {
	rolling := func(maxUnavailable, maxSurge intstr.IntOrString) func(*stratav1.Deployment) {
		return func(d *stratav1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge}
		}
	}
	tests := []struct {
		name string
		// tweak changes a valid, defaulted Deployment named "web".
		tweak func(*stratav1.Deployment)
		want  []string
	}{{
		name:  "valid",
		tweak: func(*stratav1.Deployment) {},
	}, {
		name:  "name not a DNS subdomain",
		tweak: func(d *stratav1.Deployment) { d.Name = "Web_1" },
		want:  []string{`metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	}, {
		name:  "negative replicas",
		tweak: func(d *stratav1.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) },
		want:  []string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
	}, {
		name:  "zero replicas",
		tweak: func(d *stratav1.Deployment) { d.Spec.Replicas = ptr.To[int32](0) },
	}, {
		name:  "missing selector",
		tweak: func(d *stratav1.Deployment) { d.Spec.Selector = nil },
		want: []string{
			"spec.selector: Required value",
			// No selector selects nothing, so it does not match either.
			"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
		},
	}, {
		name:  "empty selector",
		tweak: func(d *stratav1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
		want:  []string{"spec.selector: Invalid value: {}: empty selector is invalid for deployment"},
	}, {
		name: "invalid selector",
		tweak: func(d *stratav1.Deployment) {
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}
		},
		want: []string{
			`spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`,
			`spec.selector: Invalid value: {"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"Near"}]}: invalid label selector`,
		},
	}, {
		name:  "selector does not match the template",
		tweak: func(d *stratav1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "y"} },
		want:  []string{"spec.template.metadata.labels: Invalid value: {\"app\":\"y\"}: `selector` does not match template `labels`"},
	}, {
		name: "selector with expressions matching the template",
		tweak: func(d *stratav1.Deployment) {
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpDoesNotExist}}
		},
	}, {
		name:  "negative minReadySeconds",
		tweak: func(d *stratav1.Deployment) { d.Spec.MinReadySeconds = -1 },
		want:  []string{"spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"},
	}, {
		name:  "negative revisionHistoryLimit",
		tweak: func(d *stratav1.Deployment) { d.Spec.RevisionHistoryLimit = ptr.To[int32](-1) },
		want:  []string{"spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"},
	}, {
		name:  "zero revisionHistoryLimit",
		tweak: func(d *stratav1.Deployment) { d.Spec.RevisionHistoryLimit = ptr.To[int32](0) },
	}, {
		name: "progress deadline not after minReadySeconds",
		tweak: func(d *stratav1.Deployment) {
			d.Spec.MinReadySeconds = 30
			d.Spec.ProgressDeadlineSeconds = ptr.To[int32](30)
		},
		want: []string{"spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds"},
	}, {
		name:  "negative progress deadline",
		tweak: func(d *stratav1.Deployment) { d.Spec.ProgressDeadlineSeconds = ptr.To[int32](-5) },
		want: []string{
			"spec.progressDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
			"spec.progressDeadlineSeconds: Invalid value: -5: must be greater than minReadySeconds",
		},
	}, {
		name:  "unknown strategy type",
		tweak: func(d *stratav1.Deployment) { d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "Canary"} },
		want:  []string{`spec.strategy: Unsupported value: {"Type":"Canary","RollingUpdate":null}: supported values: "Recreate", "RollingUpdate"`},
	}, {
		name: "rollingUpdate with Recreate",
		tweak: func(d *stratav1.Deployment) {
			d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
		},
		want: []string{"spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"},
	}, {
		name: "Recreate",
		tweak: func(d *stratav1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		},
	}, {
		name:  "RollingUpdate without parameters",
		tweak: func(d *stratav1.Deployment) { d.Spec.Strategy.RollingUpdate = nil },
		want:  []string{"spec.strategy.rollingUpdate: Required value: this should be defaulted and never be nil"},
	}, {
		name:  "maxSurge not a percentage",
		tweak: rolling(intstr.FromInt32(1), intstr.FromString("half")),
		want:  []string{`spec.strategy.rollingUpdate.maxSurge: Invalid value: "half": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`},
	}, {
		name:  "negative maxUnavailable",
		tweak: rolling(intstr.FromInt32(-1), intstr.FromInt32(1)),
		want:  []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"},
	}, {
		name:  "maxUnavailable and maxSurge both 0",
		tweak: rolling(intstr.FromInt32(0), intstr.FromInt32(0)),
		want:  []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"},
	}, {
		name:  "maxUnavailable and maxSurge both 0%",
		tweak: rolling(intstr.FromString("0%"), intstr.FromString("0%")),
		want:  []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0"},
	}, {
		name:  "maxUnavailable 0 with a surge",
		tweak: rolling(intstr.FromInt32(0), intstr.FromString("10%")),
	}, {
		name:  "maxUnavailable over 100%",
		tweak: rolling(intstr.FromString("150%"), intstr.FromInt32(0)),
		want:  []string{`spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%`},
	}, {
		name:  "maxSurge over 100%",
		tweak: rolling(intstr.FromInt32(0), intstr.FromString("150%")),
	}, {
		name:  "template restartPolicy Never",
		tweak: func(d *stratav1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
		want:  []string{`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`},
	}, {
		name:  "template activeDeadlineSeconds",
		tweak: func(d *stratav1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](60) },
		want:  []string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"},
	}, {
		name: "template ephemeral containers",
		tweak: func(d *stratav1.Deployment) {
			d.Spec.Template.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debug", Image: "busybox", ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}}}
		},
		want: []string{"spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"},
	}, {
		name:  "template without containers",
		tweak: func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers = nil },
		want:  []string{"spec.template.spec.containers: Required value"},
	}, {
		name:  "template with an invalid label",
		tweak: func(d *stratav1.Deployment) { d.Spec.Template.Labels["bad key!"] = "x" },
		want:  []string{`spec.template.metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := makeDeployment("web").Defaulted()
			tt.tweak(d)
			if diff := cmp.Diff(tt.want, errorStrings(ValidateDeployment(d))); diff != "" {
				t.Errorf("ValidateDeployment() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateDeploymentUpdate(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*stratav1.Deployment)
		want  []string
	}{{
		name:  "scale",
		tweak: func(d *stratav1.Deployment) { d.Spec.Replicas = ptr.To[int32](7) },
	}, {
		name:  "new image",
		tweak: func(d *stratav1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28" },
	}, {
		name: "selector changed",
		tweak: func(d *stratav1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web2"}}
			d.Spec.Template.Labels = map[string]string{"app": "web2"}
		},
		want: []string{`spec.selector: Invalid value: {"matchLabels":{"app":"web2"}}: field is immutable`},
	}, {
		name:  "the new object is validated",
		tweak: func(d *stratav1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure },
		want:  []string{`spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`},
	}, {
		name:  "name not revalidated",
		tweak: func(d *stratav1.Deployment) { d.ResourceVersion = "2" },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := makeDeployment("web").Defaulted()
			d := old.DeepCopy()
			tt.tweak(d)
			if diff := cmp.Diff(tt.want, errorStrings(ValidateDeploymentUpdate(d, old))); diff != "" {
				t.Errorf("ValidateDeploymentUpdate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateReplicaSet(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*stratav1.ReplicaSet)
		want  []string
	}{{
		name:  "valid",
		tweak: func(*stratav1.ReplicaSet) {},
	}, {
		name:  "negative replicas",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.Replicas = ptr.To[int32](-2) },
		want:  []string{"spec.replicas: Invalid value: -2: must be greater than or equal to 0"},
	}, {
		name:  "negative minReadySeconds",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.MinReadySeconds = -1 },
		want:  []string{"spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"},
	}, {
		name:  "missing selector",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.Selector = nil },
		want: []string{
			"spec.selector: Required value",
			"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
		},
	}, {
		name:  "empty selector",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.Selector = &metav1.LabelSelector{} },
		// Upstream's message names deployments for ReplicaSets too.
		want: []string{"spec.selector: Invalid value: {}: empty selector is invalid for deployment"},
	}, {
		name:  "selector does not match the template",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.Template.Labels = nil },
		want:  []string{"spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`"},
	}, {
		name:  "template restartPolicy Never",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
		want:  []string{`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`},
	}, {
		name:  "template activeDeadlineSeconds",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](60) },
		want:  []string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := makeReplicaSet("web").Defaulted()
			tt.tweak(rs)
			if diff := cmp.Diff(tt.want, errorStrings(ValidateReplicaSet(rs))); diff != "" {
				t.Errorf("ValidateReplicaSet() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateReplicaSetUpdate(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*stratav1.ReplicaSet)
		want  []string
	}{{
		name:  "scale",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.Replicas = ptr.To[int32](0) },
	}, {
		name: "selector changed",
		tweak: func(rs *stratav1.ReplicaSet) {
			rs.Spec.Selector.MatchLabels["tier"] = "front"
			rs.Spec.Template.Labels["tier"] = "front"
		},
		want: []string{`spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable`},
	}, {
		name:  "the new object is validated",
		tweak: func(rs *stratav1.ReplicaSet) { rs.Spec.MinReadySeconds = -3 },
		want:  []string{"spec.minReadySeconds: Invalid value: -3: must be greater than or equal to 0"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := makeReplicaSet("web").Defaulted()
			rs := old.DeepCopy()
			tt.tweak(rs)
			if diff := cmp.Diff(tt.want, errorStrings(ValidateReplicaSetUpdate(rs, old))); diff != "" {
				t.Errorf("ValidateReplicaSetUpdate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidatorsReturnInvalid checks the error the validators hand to
// controller-runtime: upstream's 422 Invalid, named by group and kind.
func TestValidatorsReturnInvalid(t *testing.T) {
	ctx := context.Background()
	d := makeDeployment("x").TemplateLabels(map[string]string{"app": "y"}).Defaulted()
	_, err := (&DeploymentValidator{}).ValidateCreate(ctx, d)
	want := "Deployment.apps \"x\" is invalid: spec.template.metadata.labels: Invalid value: {\"app\":\"y\"}: `selector` does not match template `labels`"
	if err == nil || err.Error() != want {
		t.Fatalf("ValidateCreate() error = %v, want %s", err, want)
	}
	status := err.(apierrors.APIStatus).Status()
	if status.Code != 422 || status.Reason != metav1.StatusReasonInvalid {
		t.Errorf("status code, reason = %d, %s, want 422, Invalid", status.Code, status.Reason)
	}
	wantDetails := &metav1.StatusDetails{Name: "x", Group: "apps", Kind: "Deployment", Causes: []metav1.StatusCause{{
		Type:    metav1.CauseTypeFieldValueInvalid,
		Message: "Invalid value: {\"app\":\"y\"}: `selector` does not match template `labels`",
		Field:   "spec.template.metadata.labels",
	}}}
	if diff := cmp.Diff(wantDetails, status.Details); diff != "" {
		t.Errorf("status details mismatch (-want +got):\n%s", diff)
	}

	rs := makeReplicaSet("r").Replicas(-1).Defaulted()
	_, err = (&ReplicaSetValidator{}).ValidateCreate(ctx, rs)
	if want := `ReplicaSet.apps "r" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`; err == nil || err.Error() != want {
		t.Errorf("ValidateCreate() error = %v, want %s", err, want)
	}
	if warnings, err := (&ReplicaSetValidator{}).ValidateDelete(ctx, rs); warnings != nil || err != nil {
		t.Errorf("ValidateDelete() = %v, %v, want nil, nil", warnings, err)
	}
}

func TestValidatorWarnings(t *testing.T) {
	ctx := context.Background()
	nameWarning := `metadata.name: this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]`
	graceWarning := "spec.template.spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1"

	d := makeDeployment("web.v1").Defaulted()
	d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](-1)
	warnings, err := (&DeploymentValidator{}).ValidateCreate(ctx, d)
	if err != nil {
		t.Fatalf("ValidateCreate() error = %v", err)
	}
	if diff := cmp.Diff([]string{nameWarning, graceWarning}, []string(warnings)); diff != "" {
		t.Errorf("ValidateCreate() warnings mismatch (-want +got):\n%s", diff)
	}

	// On update, only a changed spec (a new generation) warns about the
	// template, as upstream.
	old := d.DeepCopy()
	if warnings, _ := (&DeploymentValidator{}).ValidateUpdate(ctx, old, d); len(warnings) != 0 {
		t.Errorf("ValidateUpdate() of an unchanged spec warned %q", warnings)
	}
	d.Generation = old.Generation + 1
	if warnings, _ := (&DeploymentValidator{}).ValidateUpdate(ctx, old, d); !cmp.Equal([]string(warnings), []string{graceWarning}) {
		t.Errorf("ValidateUpdate() warnings = %q, want %q", warnings, graceWarning)
	}

	rs := makeReplicaSet("web.v1").Defaulted()
	warnings, err = (&ReplicaSetValidator{}).ValidateCreate(ctx, rs)
	if err != nil {
		t.Fatalf("ValidateCreate() error = %v", err)
	}
	if diff := cmp.Diff([]string{nameWarning}, []string(warnings)); diff != "" {
		t.Errorf("ValidateCreate() warnings mismatch (-want +got):\n%s", diff)
	}
}
