package resourcequota

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

func list(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func TestValidateSpec(t *testing.T) {
	tests := []struct {
		name string
		spec corev1.ResourceQuotaSpec
		want []string
	}{
		{name: "hard limits", spec: corev1.ResourceQuotaSpec{Hard: list("pods", "10", "requests.cpu", "4", "count/deployments.apps", "5")}},
		{
			name: "negative and fractional",
			spec: corev1.ResourceQuotaSpec{Hard: list("memory", "-1Gi", "secrets", "1500m")},
			want: []string{"spec.hard[memory]: Invalid value", "spec.hard[secrets]: Invalid value"},
		},
		{name: "not a quota resource", spec: corev1.ResourceQuotaSpec{Hard: list("nodes", "1")}, want: []string{"spec.hard[nodes]: Invalid value", "spec.hard[nodes]: Invalid value"}},
		{
			name: "scope for pods",
			spec: corev1.ResourceQuotaSpec{Hard: list("pods", "1", "cpu", "1"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotTerminating}},
		},
		{
			name: "best effort limits cpu",
			spec: corev1.ResourceQuotaSpec{Hard: list("cpu", "1"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}},
			want: []string{"spec.scopes: Invalid value"},
		},
		{
			name: "conflicting and unknown scopes",
			spec: corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{"Terminating", "NotTerminating", "Sometimes"}},
			want: []string{"spec.scopes: Invalid value", "spec.scopes: Invalid value"},
		},
		{
			name: "scope selector",
			spec: corev1.ResourceQuotaSpec{
				Hard: list("pods", "1"),
				ScopeSelector: &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{
					{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn, Values: []string{"high"}},
				}},
			},
		},
		{
			name: "bad scope selector",
			spec: corev1.ResourceQuotaSpec{ScopeSelector: &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{
				{ScopeName: corev1.ResourceQuotaScopeBestEffort, Operator: corev1.ScopeSelectorOpIn, Values: []string{"x"}},
				{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpNotIn},
				{ScopeName: corev1.ResourceQuotaScopeTerminating, Operator: corev1.ScopeSelectorOpExists, Values: []string{"x"}},
			}}},
			want: []string{
				"spec.scopeSelector.matchExpressions.operator: Invalid value",
				"spec.scopeSelector.matchExpressions.values: Invalid value",
				"spec.scopeSelector.matchExpressions.values: Required value",
			},
		},
	}
	for _, tt := range tests {
		got := validationtest.Summary(ValidateSpec(&tt.spec, field.NewPath("spec")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateUpdate(t *testing.T) {
	old := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{"Terminating", "BestEffort"}}}
	reordered := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{"BestEffort", "Terminating"}}}
	if errs := ValidateUpdate(reordered, old); len(errs) != 0 {
		t.Errorf("reordered scopes: %v", errs)
	}
	if errs := ValidateUpdate(&corev1.ResourceQuota{}, old); len(errs) != 1 {
		t.Errorf("removed scopes: got %v, want one error", errs)
	}
}

func TestPrepareForCreateClearsStatus(t *testing.T) {
	q := &corev1.ResourceQuota{Status: corev1.ResourceQuotaStatus{Used: list("pods", "3")}}
	Definition.PrepareForCreate(context.Background(), q)
	if q.Status.Used != nil {
		t.Errorf("status kept: %v", q.Status)
	}
}

func TestRow(t *testing.T) {
	q := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "compute"},
		Status: corev1.ResourceQuotaStatus{
			Hard: list("requests.cpu", "4", "limits.memory", "8Gi", "pods", "10", "limits.cpu", "8"),
			Used: list("requests.cpu", "500m", "limits.memory", "1Gi", "pods", "2"),
		},
	}
	want := []interface{}{"compute", "<unknown>", "pods: 2/10, requests.cpu: 500m/4", "limits.cpu: 0/8, limits.memory: 1Gi/8Gi"}
	if diff := cmp.Diff(want, Row(q)); diff != "" {
		t.Errorf("row (-want +got)\n%s", diff)
	}
}
