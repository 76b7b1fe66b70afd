// Package persistentvolumeclaim serves core v1 PersistentVolumeClaims (with status).
package persistentvolumeclaim

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 PersistentVolumeClaims (with status) to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "persistentvolumeclaims", Definition, d)
	return err
}
