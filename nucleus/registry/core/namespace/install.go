// Package namespace serves core v1 Namespaces (with status and finalize).
package namespace

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Namespaces (with status and finalize) to r.
func Install(r store.Resources, d store.Deps) error {
	return nil
}
