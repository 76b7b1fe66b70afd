package namespace

import (
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Install adds the storage of core v1 Namespaces (with status and
// finalize) to r.
func Install(r store.Resources, d store.Deps) error {
	s, err := store.New(Definition, d.Typer, d.GroupVersion, d.OptsGetter)
	if err != nil {
		return err
	}
	// Upstream returns the namespace from a delete, also when it is gone.
	s.Store.ReturnDeletedObject = true
	finalizeStore := *s.Store
	finalizeStore.UpdateStrategy = finalizeStrategy{
		RESTUpdateStrategy: s.Store.UpdateStrategy,
		resetFields: map[fieldpath.APIVersion]*fieldpath.Set{
			fieldpath.APIVersion(d.GroupVersion.String()): fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
		},
	}
	finalizeStore.ResetFieldsStrategy = finalizeStore.UpdateStrategy.(finalizeStrategy)
	r["namespaces"] = &REST{store: s.REST}
	r["namespaces/status"] = s.Status
	r["namespaces/finalize"] = &FinalizeREST{store: &finalizeStore}
	return nil
}
