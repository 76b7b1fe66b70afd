package endpoints

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Endpoints to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "endpoints", Definition, d)
	return err
}
