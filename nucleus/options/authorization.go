package options

import (
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/strata-dev/strata/nucleus/server"
)

// applyAuthorization sets the authorizer of c.
func (o *Options) applyAuthorization(c *genericapiserver.RecommendedConfig) error {
	c.Authorization.Authorizer = server.BootstrapAuthorizer
	return nil
}
