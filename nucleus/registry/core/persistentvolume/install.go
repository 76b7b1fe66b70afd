// Package persistentvolume serves core v1 PersistentVolumes (with status).
package persistentvolume

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 PersistentVolumes (with status) to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "persistentvolumes", Definition, d)
	return err
}
