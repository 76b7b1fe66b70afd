// Package podtemplate serves core v1 PodTemplates.
package podtemplate

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 PodTemplates to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "podtemplates", Definition, d)
	return err
}
