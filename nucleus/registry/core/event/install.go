// Package event serves core v1 Events.
package event

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Events to r.
func Install(r store.Resources, d store.Deps) error {
	s, err := store.Add(r, "events", Definition, d)
	if err != nil {
		return err
	}
	SetTTL(s)
	return nil
}
