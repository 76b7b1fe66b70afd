// Package resourcequota serves core v1 ResourceQuotas (with status).
package resourcequota

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 ResourceQuotas (with status) to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "resourcequotas", Definition, d)
	return err
}
