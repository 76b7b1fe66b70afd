package pod

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Pods (with status, binding and
// eviction) to r.
func Install(r store.Resources, d store.Deps) error {
	s, err := store.Add(r, "pods", Definition, d)
	if err != nil {
		return err
	}
	// Upstream returns the pod from a delete, also when it is gone.
	s.Store.ReturnDeletedObject = true
	r["pods/binding"] = &BindingREST{store: s.Store}
	r["pods/eviction"] = &EvictionREST{pods: s.REST, status: s.Status}
	return nil
}
