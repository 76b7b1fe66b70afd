// Package lease serves coordination.k8s.io/v1 Leases.
package lease

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of coordination.k8s.io/v1 Leases to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "leases", Definition, d)
	return err
}
