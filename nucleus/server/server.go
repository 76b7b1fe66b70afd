package server

import (
	"context"
	"fmt"

	apiextensionsinformers "k8s.io/apiextensions-apiserver/pkg/client/informers/externalversions/apiextensions/v1"
	openapicontroller "k8s.io/apiextensions-apiserver/pkg/controller/openapi"
	openapiv3controller "k8s.io/apiextensions-apiserver/pkg/controller/openapiv3"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	resourcequotacontroller "github.com/strata-dev/strata/nucleus/controllers/resourcequota"
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

	// Custom resources of built-in kinds accept strategic merge patches: the
	// patch handler sits between the core server and the CRD handler.
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
	s.AddPostStartHookOrDie("strata-resourcequota-controller", func(ctx genericapiserver.PostStartHookContext) error {
		return startQuotaController(ctx, ctx.LoopbackClientConfig)
	})
	return n, nil
}

// startQuotaController runs the controller that keeps ResourceQuota status
// current, with its own informers on the loopback connection.
func startQuotaController(ctx context.Context, loopback *rest.Config) error {
	client, err := kubernetes.NewForConfig(loopback)
	if err != nil {
		return err
	}
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := resourcequotacontroller.New(client, f)
	if err != nil {
		return fmt.Errorf("creating the resource quota controller: %w", err)
	}
	f.Start(ctx.Done())
	go c.Run(ctx, 2)
	return nil
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
