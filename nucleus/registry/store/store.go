package store

import (
	"context"
	"fmt"
	"net"

	clientv3 "go.etcd.io/etcd/client/v3"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/strata-dev/strata/nucleus/authentication"
	"github.com/strata-dev/strata/nucleus/kubeletclient"
)

// REST is the storage of a resource's main endpoint.
type REST struct {
	*genericregistry.Store
	shortNames []string
	categories []string
}

var _ rest.ShortNamesProvider = &REST{}
var _ rest.CategoriesProvider = &REST{}

// ShortNames returns the resource's short names for kubectl.
func (r *REST) ShortNames() []string { return r.shortNames }

// Categories returns the categories (such as "all") the resource is in.
func (r *REST) Categories() []string { return r.categories }

// SubresourceREST is the storage of a subresource that reads the whole
// object and writes only its part of it, through its own update strategy:
// the status subresource, or a resource's own ones (a pod's
// ephemeralcontainers). It never creates or deletes.
type SubresourceREST struct {
	store *genericregistry.Store
}

var _ rest.Patcher = &SubresourceREST{}
var _ rest.ResetFieldsStrategy = &SubresourceREST{}

// New returns an empty object.
func (r *SubresourceREST) New() runtime.Object { return r.store.New() }

// Destroy does nothing: the main store owns the storage.
func (r *SubresourceREST) Destroy() {}

// Get retrieves the object.
func (r *SubresourceREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes the subresource's part of the object.
func (r *SubresourceREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Subresources never create.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields names the fields an update through the subresource leaves
// alone.
func (r *SubresourceREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable prints the object like the main endpoint.
func (r *SubresourceREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

// SubresourceStrategy is how a subresource writes its part of an object
// and which fields server-side apply may not own through it.
type SubresourceStrategy interface {
	rest.RESTUpdateStrategy
	rest.ResetFieldsStrategy
}

// Subresource returns the storage of a subresource of s: a copy of the main
// store that updates through strategy and neither creates nor deletes.
func (s *Storage) Subresource(strategy SubresourceStrategy) *SubresourceREST {
	sub := *s.REST.Store
	sub.CreateStrategy = nil
	sub.DeleteStrategy = nil
	sub.UpdateStrategy = strategy
	sub.ResetFieldsStrategy = strategy
	return &SubresourceREST{store: &sub}
}

// Storage is what New builds: the main store and, when the Definition asks
// for it, the status store.
type Storage struct {
	*REST
	Status *SubresourceREST
}

// New builds the storage of a resource. typer is the scheme; groupVersion
// the served version (keys the reset fields for server-side apply).
func New[T Object](def *Definition[T], typer runtime.ObjectTyper, groupVersion schema.GroupVersion, optsGetter generic.RESTOptionsGetter) (*Storage, error) {
	strategy := Strategy[T]{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator, def: def, apiVersion: groupVersion.String()}
	s := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return def.New() },
		NewListFunc:               def.NewList,
		PredicateFunc:             func(l labels.Selector, f fields.Selector) storage.SelectionPredicate { return Predicate(def, l, f) },
		DefaultQualifiedResource:  def.Resource,
		SingularQualifiedResource: schema.GroupResource{Group: def.Resource.Group, Resource: def.Singular},
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		ResetFieldsStrategy:       strategy,
	}
	if def.GracefulDelete != nil {
		s.DeleteStrategy = GracefulStrategy[T]{Strategy: strategy}
	}
	if def.DeleteDuringUpdate != nil {
		s.ShouldDeleteDuringUpdate = func(_ context.Context, _ string, obj, _ runtime.Object) bool {
			o, ok := obj.(T)
			return ok && def.DeleteDuringUpdate(o)
		}
	}
	if def.Row != nil {
		s.TableConvertor = tableConvertor[T]{def: def}
	}
	options := &generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: func(obj runtime.Object) (labels.Set, fields.Set, error) {
		return Attrs(def, obj)
	}}
	if err := s.CompleteWithOptions(options); err != nil {
		return nil, fmt.Errorf("building storage for %s: %w", def.Resource, err)
	}
	out := &Storage{REST: &REST{Store: s, shortNames: def.ShortNames, categories: def.Categories}}
	if def.Status {
		out.Status = out.Subresource(StatusStrategy[T]{Strategy: strategy})
	}
	return out, nil
}

// Attrs returns the labels and selectable fields of an object.
func Attrs[T Object](def *Definition[T], obj runtime.Object) (labels.Set, fields.Set, error) {
	o, ok := obj.(T)
	if !ok {
		return nil, nil, fmt.Errorf("not a %s: %T", def.Singular, obj)
	}
	fs := fields.Set{"metadata.name": o.GetName()}
	if def.Namespaced {
		fs["metadata.namespace"] = o.GetNamespace()
	}
	if def.Fields != nil {
		fs = generic.MergeFieldsSets(fs, def.Fields(o))
	}
	return labels.Set(o.GetLabels()), fs, nil
}

// Predicate matches objects of a Definition against selectors.
func Predicate[T Object](def *Definition[T], l labels.Selector, f fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{
		Label:    l,
		Field:    f,
		GetAttrs: func(obj runtime.Object) (labels.Set, fields.Set, error) { return Attrs(def, obj) },
	}
}

// Resources maps resource paths ("pods", "pods/status") to their storage.
type Resources map[string]rest.Storage

// Deps is what resource packages need to build their storage.
type Deps struct {
	// OptsGetter gives access to etcd for genericregistry stores.
	OptsGetter generic.RESTOptionsGetter
	// Typer is the nucleus scheme.
	Typer runtime.ObjectTyper
	// GroupVersion is the version being installed.
	GroupVersion schema.GroupVersion
	// Etcd and EtcdPrefix give direct access to the store, for allocators.
	Etcd       *clientv3.Client
	EtcdPrefix string
	// ServiceIPRange and NodePortRange are the Service allocation ranges.
	ServiceIPRange net.IPNet
	NodePortRange  utilnet.PortRange
	// Authentication issues ServiceAccount tokens and authenticates
	// bearer tokens, for the authentication APIs. Nil in unit tests.
	Authentication *authentication.Authentication
	// Authorizer is the server's authorization chain and RuleResolver lists
	// what it grants, for the authorization.k8s.io reviews.
	Authorizer   authorizer.Authorizer
	RuleResolver authorizer.RuleResolver
	// Kubelet reaches the kubelets, for the pod subresources that are
	// proxied to them and nodes/proxy. Nil answers those with 503.
	Kubelet *kubeletclient.Client
}

// Add builds a store for def and registers it, and its status subresource,
// under name.
func Add[T Object](r Resources, name string, def *Definition[T], d Deps) (*Storage, error) {
	s, err := New(def, d.Typer, d.GroupVersion, d.OptsGetter)
	if err != nil {
		return nil, err
	}
	r[name] = s.REST
	if s.Status != nil {
		r[name+"/status"] = s.Status
	}
	return s, nil
}
