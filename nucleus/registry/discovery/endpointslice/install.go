package endpointslice

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of discovery.k8s.io/v1 EndpointSlices to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "endpointslices", Definition, d)
	return err
}
