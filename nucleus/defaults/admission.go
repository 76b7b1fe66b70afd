package defaults

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// MatchResources applies upstream's defaults to the resources an admission
// policy or binding matches, when it has any.
func MatchResources(mc *admissionregistrationv1.MatchResources) {
	if mc == nil {
		return
	}
	if mc.MatchPolicy == nil {
		mc.MatchPolicy = ptr.To(admissionregistrationv1.Equivalent)
	}
	if mc.NamespaceSelector == nil {
		mc.NamespaceSelector = &metav1.LabelSelector{}
	}
	if mc.ObjectSelector == nil {
		mc.ObjectSelector = &metav1.LabelSelector{}
	}
	for i := range mc.ResourceRules {
		if mc.ResourceRules[i].Scope == nil {
			mc.ResourceRules[i].Scope = ptr.To(admissionregistrationv1.AllScopes)
		}
	}
	for i := range mc.ExcludeResourceRules {
		if mc.ExcludeResourceRules[i].Scope == nil {
			mc.ExcludeResourceRules[i].Scope = ptr.To(admissionregistrationv1.AllScopes)
		}
	}
}

// ValidatingAdmissionPolicyBinding applies upstream's binding defaults.
func ValidatingAdmissionPolicyBinding(b *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	MatchResources(b.Spec.MatchResources)
}

// MutatingAdmissionPolicy applies upstream's policy defaults.
func MutatingAdmissionPolicy(p *admissionregistrationv1.MutatingAdmissionPolicy) {
	if p.Spec.FailurePolicy == nil {
		p.Spec.FailurePolicy = ptr.To(admissionregistrationv1.Fail)
	}
	MatchResources(p.Spec.MatchConstraints)
}

// MutatingAdmissionPolicyBinding applies upstream's binding defaults.
func MutatingAdmissionPolicyBinding(b *admissionregistrationv1.MutatingAdmissionPolicyBinding) {
	MatchResources(b.Spec.MatchResources)
}
