// Package pod serves core v1 Pods (with status, binding and eviction).
package pod

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Pods (with status, binding and eviction) to r.
func Install(r store.Resources, d store.Deps) error {
	return nil
}
