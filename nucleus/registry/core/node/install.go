package node

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Nodes (with status) to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "nodes", Definition, d)
	return err
}
