// Package serviceaccount serves core v1 ServiceAccounts and their token
// subresource (the TokenRequest API).
package serviceaccount

import (
	"github.com/strata-dev/strata/nucleus/registry/authentication/tokenrequest"
	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Install adds the storage of core v1 ServiceAccounts to r, and
// serviceaccounts/token when the nucleus issues tokens.
func Install(r store.Resources, d store.Deps) error {
	s, err := store.Add(r, "serviceaccounts", Definition, d)
	if err != nil {
		return err
	}
	if d.Authentication != nil {
		r["serviceaccounts/token"] = tokenrequest.NewREST(s.Store, d.Authentication.ServiceAccounts)
	}
	return nil
}
