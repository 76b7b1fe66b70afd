package admissionregistration

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

// matchPods matches pod creation, as defaulted on decoding.
func matchPods() *admissionregistrationv1.MatchResources {
	return &admissionregistrationv1.MatchResources{
		MatchPolicy:       ptr.To(admissionregistrationv1.Equivalent),
		NamespaceSelector: &metav1.LabelSelector{},
		ObjectSelector:    &metav1.LabelSelector{},
		ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
				Scope: ptr.To(admissionregistrationv1.AllScopes)},
		}}},
	}
}

func TestValidateValidatingAdmissionPolicy(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*admissionregistrationv1.ValidatingAdmissionPolicySpec)
		want   []string
	}{
		{name: "valid", modify: func(*admissionregistrationv1.ValidatingAdmissionPolicySpec) {}},
		{
			name: "nothing to check",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.Validations = nil
			},
			want: []string{"spec.auditAnnotations: Required value", "spec.validations: Required value"},
		},
		{
			name: "audit annotations only",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.Validations = nil
				s.AuditAnnotations = []admissionregistrationv1.AuditAnnotation{{Key: "replicas", ValueExpression: "string(object.spec.replicas)"}}
			},
		},
		{
			name: "bad expressions",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.Validations = []admissionregistrationv1.Validation{
					{Expression: " "},
					{Expression: "object.spec.replicas"}, // not a bool
					{Expression: "object.spec.replicas <", Message: "a\nb"},
					{Expression: "true", MessageExpression: "1", Reason: ptr.To(metav1.StatusReasonConflict)},
				}
			},
			want: []string{
				"spec.validations[0].expression: Required value",
				"spec.validations[1].expression: Invalid value",
				"spec.validations[2].expression: Invalid value",
				"spec.validations[2].message: Invalid value",
				"spec.validations[3].messageExpression: Invalid value",
				"spec.validations[3].reason: Unsupported value",
			},
		},
		{
			name: "variables",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.Variables = []admissionregistrationv1.Variable{{Name: "replicas", Expression: "object.spec.replicas"}, {Name: "in", Expression: "1"}}
				s.Validations = []admissionregistrationv1.Validation{{Expression: "variables.replicas < 5"}}
			},
			want: []string{"spec.variables[1].name: Invalid value"},
		},
		{
			name: "params without paramKind",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.Validations = []admissionregistrationv1.Validation{{Expression: "object.spec.replicas < params.max"}}
			},
			want: []string{"spec.validations[0].expression: Invalid value"},
		},
		{
			name: "params with paramKind",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "example.com/v1", Kind: "Limits"}
				s.Validations = []admissionregistrationv1.Validation{{Expression: "object.spec.replicas < params.max"}}
			},
		},
		{
			name: "match constraints",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.MatchConstraints.ResourceRules = nil
				s.MatchConstraints.MatchPolicy = nil
				s.FailurePolicy = ptr.To(admissionregistrationv1.FailurePolicyType("Sometimes"))
			},
			want: []string{"spec.failurePolicy: Unsupported value", "spec.matchConstraints.matchPolicy: Required value",
				"spec.matchConstraints.resourceRules: Required value"},
		},
		{
			name: "duplicate audit keys",
			modify: func(s *admissionregistrationv1.ValidatingAdmissionPolicySpec) {
				s.AuditAnnotations = []admissionregistrationv1.AuditAnnotation{{Key: "k", ValueExpression: "'a'"}, {Key: "k", ValueExpression: "'b'"}}
			},
			want: []string{"spec.auditAnnotations[1].key: Duplicate value"},
		},
	}
	for _, tt := range tests {
		p := &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "replica-limit"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				FailurePolicy:    ptr.To(admissionregistrationv1.Fail),
				MatchConstraints: matchPods(),
				Validations:      []admissionregistrationv1.Validation{{Expression: "object.spec.replicas <= 5", Message: "too many"}},
			},
		}
		tt.modify(&p.Spec)
		got := validationtest.Summary(ValidatingAdmissionPolicies.Validate(context.Background(), p))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateMutatingAdmissionPolicy(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*admissionregistrationv1.MutatingAdmissionPolicySpec)
		want   []string
	}{
		{name: "valid", modify: func(*admissionregistrationv1.MutatingAdmissionPolicySpec) {}},
		{
			name: "no mutations or reinvocation policy",
			modify: func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
				s.Mutations, s.ReinvocationPolicy = nil, ""
			},
			want: []string{"spec.mutations: Required value", "spec.reinvocationPolicy: Required value"},
		},
		{
			name: "mismatched patches",
			modify: func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
				s.Mutations = []admissionregistrationv1.Mutation{
					{PatchType: admissionregistrationv1.PatchTypeJSONPatch},
					{PatchType: admissionregistrationv1.PatchTypeApplyConfiguration, ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{Expression: "1"},
						JSONPatch: &admissionregistrationv1.JSONPatch{}},
					{PatchType: "Merge"},
				}
			},
			want: []string{
				"spec.mutations[0].jsonPatch: Required value",
				"spec.mutations[1].applyConfiguration.expression: Invalid value",
				"spec.mutations[1].jsonPatch: Invalid value",
				"spec.mutations[2].patchType: Unsupported value",
			},
		},
		{
			name: "json patch",
			modify: func(s *admissionregistrationv1.MutatingAdmissionPolicySpec) {
				s.Mutations = []admissionregistrationv1.Mutation{{PatchType: admissionregistrationv1.PatchTypeJSONPatch, JSONPatch: &admissionregistrationv1.JSONPatch{
					Expression: `[JSONPatch{op: "add", path: "/metadata/labels/x", value: "y"}]`,
				}}}
			},
		},
	}
	for _, tt := range tests {
		p := &admissionregistrationv1.MutatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "add-label"},
			Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
				FailurePolicy:    ptr.To(admissionregistrationv1.Fail),
				MatchConstraints: matchPods(),
				Mutations: []admissionregistrationv1.Mutation{{PatchType: admissionregistrationv1.PatchTypeApplyConfiguration, ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{
					Expression: `Object{metadata: Object.metadata{labels: {"x": "y"}}}`,
				}}},
				ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
			},
		}
		tt.modify(&p.Spec)
		got := validationtest.Summary(MutatingAdmissionPolicies.Validate(context.Background(), p))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestPolicyRows(t *testing.T) {
	vap := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "limit"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			ParamKind:   &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			Validations: []admissionregistrationv1.Validation{{}, {}},
		},
	}
	if diff := cmp.Diff([]interface{}{"limit", int64(2), "v1/ConfigMap", "<unknown>"}, ValidatingAdmissionPolicies.Row(vap)); diff != "" {
		t.Errorf("validating policy (-want +got)\n%s", diff)
	}
	map_ := &admissionregistrationv1.MutatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "label"},
		Spec:       admissionregistrationv1.MutatingAdmissionPolicySpec{Mutations: []admissionregistrationv1.Mutation{{}}},
	}
	if diff := cmp.Diff([]interface{}{"label", int64(1), "<unset>", "<unknown>"}, MutatingAdmissionPolicies.Row(map_)); diff != "" {
		t.Errorf("mutating policy (-want +got)\n%s", diff)
	}
}
