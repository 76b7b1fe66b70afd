// Package admissionregistration serves admissionregistration.k8s.io/v1
// webhook configurations and admission policies with their bindings. The
// generic server's admission plugins watch all six resources.
package admissionregistration

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of admissionregistration.k8s.io/v1 webhook
// configurations and admission policies with their bindings to r.
func Install(r store.Resources, d store.Deps) error {
	if _, err := store.Add(r, "validatingwebhookconfigurations", ValidatingWebhookConfigurations, d); err != nil {
		return err
	}
	if _, err := store.Add(r, "mutatingwebhookconfigurations", MutatingWebhookConfigurations, d); err != nil {
		return err
	}
	if _, err := store.Add(r, "validatingadmissionpolicies", ValidatingAdmissionPolicies, d); err != nil {
		return err
	}
	if _, err := store.Add(r, "validatingadmissionpolicybindings", ValidatingAdmissionPolicyBindings, d); err != nil {
		return err
	}
	if _, err := store.Add(r, "mutatingadmissionpolicies", MutatingAdmissionPolicies, d); err != nil {
		return err
	}
	_, err := store.Add(r, "mutatingadmissionpolicybindings", MutatingAdmissionPolicyBindings, d)
	return err
}
