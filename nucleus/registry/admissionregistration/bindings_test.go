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

func TestValidateValidatingAdmissionPolicyBinding(t *testing.T) {
	deny := ptr.To(admissionregistrationv1.DenyAction)
	tests := []struct {
		name string
		spec admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec
		want []string
	}{
		{name: "valid", spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: "limit", ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny, admissionregistrationv1.Audit},
			ParamRef: &admissionregistrationv1.ParamRef{Name: "limits", Namespace: "ns", ParameterNotFoundAction: deny},
		}},
		{name: "empty", want: []string{"spec.policyName: Required value", "spec.validationActions: Required value"}},
		{
			name: "bad actions",
			spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "limit", ValidationActions: []admissionregistrationv1.ValidationAction{"Deny", "Warn", "Deny", "Block"}},
			want: []string{"spec.validationActions: Invalid value", "spec.validationActions[2]: Duplicate value", "spec.validationActions[3]: Unsupported value"},
		},
		{
			name: "bad param refs",
			spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName: "Limit", ValidationActions: []admissionregistrationv1.ValidationAction{"Warn"},
				ParamRef: &admissionregistrationv1.ParamRef{Name: "limits", Selector: &metav1.LabelSelector{}},
			},
			want: []string{"spec.paramRef.name: Forbidden", "spec.paramRef.parameterNotFoundAction: Required value",
				"spec.paramRef.selector: Forbidden", "spec.policyName: Invalid value"},
		},
		{
			name: "param ref without target",
			spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName: "limit", ValidationActions: []admissionregistrationv1.ValidationAction{"Audit"},
				ParamRef: &admissionregistrationv1.ParamRef{ParameterNotFoundAction: ptr.To(admissionregistrationv1.ParameterNotFoundActionType("Ignore"))},
			},
			want: []string{"spec.paramRef.parameterNotFoundAction: Unsupported value", "spec.paramRef: Required value"},
		},
		{
			name: "match resources",
			spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName: "limit", ValidationActions: []admissionregistrationv1.ValidationAction{"Deny"},
				MatchResources: &admissionregistrationv1.MatchResources{},
			},
			want: []string{"spec.matchResources.matchPolicy: Required value", "spec.matchResources.namespaceSelector: Required value",
				"spec.matchResources.objectSelector: Required value"},
		},
	}
	for _, tt := range tests {
		b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{Spec: tt.spec}
		got := validationtest.Summary(ValidatingAdmissionPolicyBindings.Validate(context.Background(), b))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateMutatingAdmissionPolicyBinding(t *testing.T) {
	b := &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	got := validationtest.Summary(MutatingAdmissionPolicyBindings.Validate(context.Background(), b))
	if diff := cmp.Diff([]string{"spec.policyName: Required value"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestParamRefCell(t *testing.T) {
	tests := []struct {
		ref  *admissionregistrationv1.ParamRef
		want string
	}{
		{ref: nil, want: "<unset>"},
		{ref: &admissionregistrationv1.ParamRef{Name: "p", Namespace: "ns"}, want: "ns/p"},
		{ref: &admissionregistrationv1.ParamRef{Name: "p"}, want: "*/p"},
		{ref: &admissionregistrationv1.ParamRef{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
			want: (&metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}).String()},
	}
	for _, tt := range tests {
		if got := paramRefCell(tt.ref); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.ref, got, tt.want)
		}
	}
	b := &admissionregistrationv1.MutatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{PolicyName: "p"}}
	if diff := cmp.Diff([]interface{}{"b", "p", "<unset>", "<unknown>"}, MutatingAdmissionPolicyBindings.Row(b)); diff != "" {
		t.Errorf("row (-want +got)\n%s", diff)
	}
}
