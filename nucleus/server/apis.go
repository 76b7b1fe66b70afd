package server

import (
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/strata-dev/strata/nucleus/registry/admissionregistration"
	"github.com/strata-dev/strata/nucleus/registry/apiextensions/customresourcedefinition"
	"github.com/strata-dev/strata/nucleus/registry/authentication"
	"github.com/strata-dev/strata/nucleus/registry/authorization"
	"github.com/strata-dev/strata/nucleus/registry/coordination/lease"
	"github.com/strata-dev/strata/nucleus/registry/core/configmap"
	"github.com/strata-dev/strata/nucleus/registry/core/endpoints"
	"github.com/strata-dev/strata/nucleus/registry/core/event"
	"github.com/strata-dev/strata/nucleus/registry/core/limitrange"
	"github.com/strata-dev/strata/nucleus/registry/core/namespace"
	"github.com/strata-dev/strata/nucleus/registry/core/node"
	"github.com/strata-dev/strata/nucleus/registry/core/persistentvolume"
	"github.com/strata-dev/strata/nucleus/registry/core/persistentvolumeclaim"
	"github.com/strata-dev/strata/nucleus/registry/core/pod"
	"github.com/strata-dev/strata/nucleus/registry/core/podtemplate"
	"github.com/strata-dev/strata/nucleus/registry/core/resourcequota"
	"github.com/strata-dev/strata/nucleus/registry/core/secret"
	"github.com/strata-dev/strata/nucleus/registry/core/service"
	"github.com/strata-dev/strata/nucleus/registry/core/serviceaccount"
	"github.com/strata-dev/strata/nucleus/registry/discovery/endpointslice"
	eventsevent "github.com/strata-dev/strata/nucleus/registry/events/event"
	"github.com/strata-dev/strata/nucleus/registry/store"
	"github.com/strata-dev/strata/nucleus/scheme"
)

// installer adds the storage of some resources of one group version.
type installer func(store.Resources, store.Deps) error

// apiGroups lists, per served group version, the resource packages that
// make it up. The order within a group does not matter.
var apiGroups = []struct {
	gv         schema.GroupVersion
	installers []installer
}{
	{corev1.SchemeGroupVersion, []installer{
		// nodes before pods: the pod subresources reach kubelets through nodes.
		configmap.Install, node.Install, pod.Install, namespace.Install, service.Install,
		endpoints.Install, secret.Install, serviceaccount.Install, event.Install,
		persistentvolume.Install, persistentvolumeclaim.Install, resourcequota.Install,
		limitrange.Install, podtemplate.Install,
	}},
	{discoveryv1.SchemeGroupVersion, []installer{endpointslice.Install}},
	{coordinationv1.SchemeGroupVersion, []installer{lease.Install}},
	{eventsv1.SchemeGroupVersion, []installer{eventsevent.Install}},
	{admissionregistrationv1.SchemeGroupVersion, []installer{admissionregistration.Install}},
	{authenticationv1.SchemeGroupVersion, []installer{authentication.Install}},
	{authorizationv1.SchemeGroupVersion, []installer{authorization.Install}},
	{apiextensionsv1.SchemeGroupVersion, []installer{customresourcedefinition.Install}},
}

func (c completedConfig) deps(gv schema.GroupVersion) store.Deps {
	return store.Deps{
		OptsGetter:     c.GenericConfig.RESTOptionsGetter,
		Typer:          scheme.Scheme,
		GroupVersion:   gv,
		Etcd:           c.ExtraConfig.Etcd,
		EtcdPrefix:     c.ExtraConfig.EtcdPrefix,
		ServiceIPRange: c.ExtraConfig.ServiceIPRange,
		NodePortRange:  c.ExtraConfig.NodePortRange,
		Authentication: c.ExtraConfig.Authentication,
		Authorizer:     c.GenericConfig.Authorization.Authorizer,
		RuleResolver:   c.GenericConfig.RuleResolver,
		Kubelet:        c.kubelet,
	}
}

func (c completedConfig) installAPIs(s *genericapiserver.GenericAPIServer) error {
	var groups []*genericapiserver.APIGroupInfo
	for _, g := range apiGroups {
		r := store.Resources{}
		for _, install := range g.installers {
			if err := install(r, c.deps(g.gv)); err != nil {
				return fmt.Errorf("building storage for %s: %w", g.gv, err)
			}
		}
		info := genericapiserver.NewDefaultAPIGroupInfo(g.gv.Group, scheme.Scheme, scheme.ParameterCodec, scheme.Codecs)
		info.PrioritizedVersions = []schema.GroupVersion{g.gv}
		info.VersionedResourcesStorageMap[g.gv.Version] = r
		if g.gv.Group == "" {
			if err := s.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &info); err != nil {
				return fmt.Errorf("installing the core API: %w", err)
			}
			continue
		}
		groups = append(groups, &info)
	}
	if err := s.InstallAPIGroups(groups...); err != nil {
		return fmt.Errorf("installing API groups: %w", err)
	}
	return nil
}
