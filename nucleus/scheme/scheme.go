// Package scheme holds the runtime.Scheme the nucleus serves.
//
// The nucleus has no internal API types of its own: the wire types from
// k8s.io/api are registered both as their external version and as the
// internal version of their group, so the generic registry stores and
// converts them without a hand-written internal copy. Defaulting and field
// label conversions are registered here as well.
package scheme

import (
	"reflect"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsinstall "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/install"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
)

var (
	// Scheme knows every type the nucleus serves, external and internal.
	Scheme = runtime.NewScheme()
	// Codecs serializes objects of Scheme.
	Codecs = serializer.NewCodecFactory(Scheme)
	// ParameterCodec converts query parameters.
	ParameterCodec = runtime.NewParameterCodec(Scheme)

	// External is a scheme with only the external versions registered. It
	// names OpenAPI definitions, so the published schemas carry only real
	// group/version/kinds.
	External = runtime.NewScheme()
)

// servedGroups are the k8s.io/api groups the nucleus stores.
var servedGroups = []func(*runtime.Scheme) error{
	corev1.AddToScheme,
	discoveryv1.AddToScheme,
	coordinationv1.AddToScheme,
	eventsv1.AddToScheme,
	admissionregistrationv1.AddToScheme,
	policyv1.AddToScheme,
	authenticationv1.AddToScheme,
	authorizationv1.AddToScheme,
}

func init() {
	for _, add := range servedGroups {
		utilruntime.Must(add(Scheme))
		utilruntime.Must(add(External))
	}
	registerInternalVersions(Scheme)
	// apiextensions has real internal types of its own.
	apiextensionsinstall.Install(Scheme)
	utilruntime.Must(apiextensionsv1.AddToScheme(External))
	utilruntime.Must(registerEventConversions(Scheme))
	utilruntime.Must(registerFieldLabelConversions(Scheme))
	utilruntime.Must(registerQueryParameterConversions(Scheme))
	registerDefaults(Scheme)

	// The generic server needs the meta types in the empty group.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// registerInternalVersions registers every external API type of a served
// group as the internal version of that group too. Types from
// k8s.io/apimachinery (ListOptions, WatchEvent, …) are left alone: they are
// handled by the generic machinery already.
func registerInternalVersions(s *runtime.Scheme) {
	known := map[schema.GroupVersionKind]reflect.Type{}
	for gvk, t := range s.AllKnownTypes() {
		known[gvk] = t
	}
	for gvk, t := range known {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		if t.PkgPath() == "k8s.io/apimachinery/pkg/apis/meta/v1" {
			continue
		}
		internal := schema.GroupVersion{Group: gvk.Group, Version: runtime.APIVersionInternal}
		if gvk.Group == eventsv1.GroupName && (gvk.Kind == "Event" || gvk.Kind == "EventList") {
			// events.k8s.io Events share storage with core Events; their
			// internal form is the core Event, reached by conversion.
			continue
		}
		obj, err := s.New(gvk)
		if err != nil {
			panic(err)
		}
		s.AddKnownTypeWithName(internal.WithKind(gvk.Kind), obj)
	}
	eventsInternal := schema.GroupVersion{Group: eventsv1.GroupName, Version: runtime.APIVersionInternal}
	s.AddKnownTypeWithName(eventsInternal.WithKind("Event"), &corev1.Event{})
	s.AddKnownTypeWithName(eventsInternal.WithKind("EventList"), &corev1.EventList{})
}
