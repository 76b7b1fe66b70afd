package defaults

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

func TestMatchResourcesOfBindings(t *testing.T) {
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
		MatchResources: &admissionregistrationv1.MatchResources{
			ExcludeResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{}},
		},
	}}
	ValidatingAdmissionPolicyBinding(b)
	mr := b.Spec.MatchResources
	if mr.MatchPolicy == nil || *mr.MatchPolicy != admissionregistrationv1.Equivalent || mr.NamespaceSelector == nil || mr.ObjectSelector == nil {
		t.Errorf("match resources not defaulted: %+v", mr)
	}
	if s := mr.ExcludeResourceRules[0].Scope; s == nil || *s != admissionregistrationv1.AllScopes {
		t.Errorf("exclude rule scope %v, want *", s)
	}

	unset := &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	MutatingAdmissionPolicyBinding(unset)
	if unset.Spec.MatchResources != nil {
		t.Errorf("absent match resources were created: %+v", unset.Spec.MatchResources)
	}
}

func TestMutatingAdmissionPolicy(t *testing.T) {
	p := &admissionregistrationv1.MutatingAdmissionPolicy{}
	MutatingAdmissionPolicy(p)
	if p.Spec.FailurePolicy == nil || *p.Spec.FailurePolicy != admissionregistrationv1.Fail {
		t.Errorf("failure policy %v, want Fail", p.Spec.FailurePolicy)
	}
}
