package configmap

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the configmaps storage to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "configmaps", Definition, d)
	return err
}
