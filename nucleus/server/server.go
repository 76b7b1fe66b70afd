package server

import (
	"fmt"

	apiextensionsinformers "k8s.io/apiextensions-apiserver/pkg/client/informers/externalversions/apiextensions/v1"
	openapicontroller "k8s.io/apiextensions-apiserver/pkg/controller/openapi"
	openapiv3controller "k8s.io/apiextensions-apiserver/pkg/controller/openapiv3"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/rest"

	"github.com/strata-dev/strata/nucleus/controllers"
	// The controllers the nucleus runs.
	_ "github.com/strata-dev/strata/nucleus/controllers/all"
	"github.com/strata-dev/strata/nucleus/crdgroups"
	"github.com/strata-dev/strata/nucleus/strategicpatch"
)

// Nucleus is the running API server.
type Nucleus struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// New builds the delegation chain: the core server first, then the
// apiextensions server for everything the core server does not serve.
func (c CompletedConfig) New() (*Nucleus, error) {
	crdServer, err := c.apiExtensions.New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("creating the custom resource server: %w", err)
	}
	crdInformer := crdServer.Informers.Apiextensions().V1().CustomResourceDefinitions()

	// Custom resources of built-in kinds accept strategic merge patches and
	// protobuf bodies: the handler sits between the core server and the CRD
	// handler.
	delegate := withHandler{
		DelegationTarget: crdServer.GenericAPIServer,
		handler:          strategicpatch.NewHandler(crdServer.GenericAPIServer.UnprotectedHandler(), crdInformer.Lister()),
	}

	s, err := c.GenericConfig.New("strata-nucleus", delegate)
	if err != nil {
		return nil, fmt.Errorf("creating the core server: %w", err)
	}
	n := &Nucleus{GenericAPIServer: s}

	if err := c.installAPIs(s); err != nil {
		return nil, err
	}
	// Issuer discovery: plain documents, readable anonymously.
	c.ExtraConfig.Authentication.Handle(s.Handler.NonGoRestfulMux)

	groups := crdgroups.NewController(crdInformer, s.DiscoveryGroupManager)
	s.AddPostStartHookOrDie("strata-crd-discovery", func(ctx genericapiserver.PostStartHookContext) error {
		go groups.Run(ctx)
		return nil
	})
	s.AddPostStartHookOrDie("strata-crd-openapi", func(ctx genericapiserver.PostStartHookContext) error {
		startCRDOpenAPI(s, crdInformer, ctx.Done())
		return nil
	})
	s.AddPostStartHookOrDie("strata-bootstrap", func(ctx genericapiserver.PostStartHookContext) error {
		return bootstrap(ctx, ctx.LoopbackClientConfig, c.ExtraConfig)
	})
	if len(c.ExtraConfig.Controllers) > 0 {
		s.AddPostStartHookOrDie("strata-controllers", func(ctx genericapiserver.PostStartHookContext) error {
			// Upstream's controllers each have a client of their own; here they
			// share one, so its rate limit is what several would have: one
			// busy controller (the namespace controller emptying namespaces,
			// the garbage collector) must not starve the others.
			cfg := rest.CopyConfig(ctx.LoopbackClientConfig)
			cfg.QPS, cfg.Burst = controllersQPS, controllersBurst
			cc, err := controllers.NewContext(cfg, c.ExtraConfig.RootCA, c.ExtraConfig.NodeMonitorGracePeriod)
			if err != nil {
				return err
			}
			return controllers.Run(ctx, cc, c.ExtraConfig.Controllers)
		})
	}
	return n, nil
}

// startCRDOpenAPI publishes the schemas of custom resources in the core
// server's /openapi/v2 and /openapi/v3, which are the ones clients see.
func startCRDOpenAPI(s *genericapiserver.GenericAPIServer, crdInformer apiextensionsinformers.CustomResourceDefinitionInformer, stop <-chan struct{}) {
	if s.StaticOpenAPISpec != nil && s.OpenAPIVersionedService != nil {
		go openapicontroller.NewController(crdInformer).Run(s.StaticOpenAPISpec, s.OpenAPIVersionedService, stop)
	}
	if s.OpenAPIV3VersionedService != nil {
		go openapiv3controller.NewController(crdInformer).Run(s.OpenAPIV3VersionedService, stop)
	}
}

// The in-process controllers' shared client limit: ten upstream
// controller clients' worth (kube-controller-manager's default is 20 QPS,
// burst 30, per controller).
const (
	controllersQPS   = 200
	controllersBurst = 300
)
