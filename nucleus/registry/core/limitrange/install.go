// Package limitrange serves core v1 LimitRanges.
package limitrange

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 LimitRanges to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "limitranges", Definition, d)
	return err
}
