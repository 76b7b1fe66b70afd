// Package event serves events.k8s.io/v1 Events, stored as core v1 Events.
package event

import (
	coreevent "github.com/strata-dev/strata/nucleus/registry/core/event"
	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Install adds the storage of events.k8s.io/v1 Events, stored as core v1
// Events, to r.
func Install(r store.Resources, d store.Deps) error {
	s, err := store.Add(r, "events", Definition, d)
	if err != nil {
		return err
	}
	coreevent.SetTTL(s)
	return nil
}
