// Package authentication serves the authentication.k8s.io/v1 group:
// TokenReviews and SelfSubjectReviews. TokenRequests are the
// serviceaccounts/token subresource of the core group.
package authentication

import (
	"fmt"

	"github.com/strata-dev/strata/nucleus/registry/authentication/selfsubjectreview"
	"github.com/strata-dev/strata/nucleus/registry/authentication/tokenreview"
	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Install adds tokenreviews and selfsubjectreviews to r.
func Install(r store.Resources, d store.Deps) error {
	if d.Authentication == nil {
		return fmt.Errorf("the authentication API needs the nucleus' authenticators")
	}
	r["tokenreviews"] = tokenreview.NewREST(d.Authentication.Token, d.Authentication.APIAudiences)
	r["selfsubjectreviews"] = selfsubjectreview.NewREST()
	return nil
}
