// Package secret serves core v1 Secrets.
package secret

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Secrets to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "secrets", Definition, d)
	return err
}
