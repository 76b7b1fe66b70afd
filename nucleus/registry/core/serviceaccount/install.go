// Package serviceaccount serves core v1 ServiceAccounts.
package serviceaccount

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 ServiceAccounts to r.
func Install(r store.Resources, d store.Deps) error {
	_, err := store.Add(r, "serviceaccounts", Definition, d)
	return err
}
