package namespace

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	storeerr "k8s.io/apiserver/pkg/storage/errors"
	"k8s.io/apiserver/pkg/util/dryrun"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// immortal are the namespaces that may not be deleted.
var immortal = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic}

var resource = corev1.Resource("namespaces")

// REST is the namespaces endpoint: the generic store with upstream's
// two-step deletion. Like upstream it has no deletecollection.
type REST struct {
	store *store.REST
}

var (
	_ rest.Getter               = (*REST)(nil)
	_ rest.Lister               = (*REST)(nil)
	_ rest.Watcher              = (*REST)(nil)
	_ rest.Creater              = (*REST)(nil)
	_ rest.Updater              = (*REST)(nil)
	_ rest.GracefulDeleter      = (*REST)(nil)
	_ rest.Scoper               = (*REST)(nil)
	_ rest.SingularNameProvider = (*REST)(nil)
	_ rest.ShortNamesProvider   = (*REST)(nil)
	_ rest.ResetFieldsStrategy  = (*REST)(nil)
)

// New returns an empty Namespace.
func (r *REST) New() runtime.Object { return r.store.New() }

// NewList returns an empty NamespaceList.
func (r *REST) NewList() runtime.Object { return r.store.NewList() }

// Destroy shuts the storage down.
func (r *REST) Destroy() { r.store.Destroy() }

// NamespaceScoped is false: namespaces are cluster scoped.
func (r *REST) NamespaceScoped() bool { return false }

// GetSingularName returns "namespace".
func (r *REST) GetSingularName() string { return r.store.GetSingularName() }

// ShortNames returns "ns".
func (r *REST) ShortNames() []string { return r.store.ShortNames() }

// GetResetFields names the fields the main endpoint leaves alone.
func (r *REST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// Get returns a namespace.
func (r *REST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// List lists namespaces.
func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	return r.store.List(ctx, options)
}

// Watch watches namespaces.
func (r *REST) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
	return r.store.Watch(ctx, options)
}

// ConvertToTable prints namespaces.
func (r *REST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

// Create creates a namespace.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return r.store.Create(ctx, obj, createValidation, options)
}

// Update updates a namespace.
func (r *REST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, forceAllowCreate, options)
}

// Delete deletes a namespace in two steps when it has finalizers: the
// first request marks it Terminating (setting deletionTimestamp and the
// finalizers the propagation policy asks for) and returns it; it is
// removed once its spec and metadata finalizers are gone, by the update
// that removes the last one or by a later delete. The default, kube-system
// and kube-public namespaces may not be deleted.
func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	if slices.Contains(immortal, name) {
		return nil, false, apierrors.NewForbidden(resource, name, errors.New("this namespace may not be deleted"))
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	ns := obj.(*corev1.Namespace)
	if options == nil {
		options = metav1.NewDeleteOptions(0)
	}
	if options.Preconditions == nil {
		options.Preconditions = &metav1.Preconditions{}
	}
	if p := options.Preconditions; p.UID == nil {
		p.UID = &ns.UID
	} else if *p.UID != ns.UID {
		return nil, false, apierrors.NewConflict(resource, name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, ns.UID))
	}
	if p := options.Preconditions; p.ResourceVersion != nil && *p.ResourceVersion != ns.ResourceVersion {
		return nil, false, apierrors.NewConflict(resource, name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, ns.ResourceVersion))
	}
	if ns.DeletionTimestamp.IsZero() && (len(ns.Spec.Finalizers) > 0 || len(deletionFinalizers(ns.Finalizers, options)) > 0) {
		out, err := r.markTerminating(ctx, name, deleteValidation, options)
		return out, false, err
	}
	if len(ns.Spec.Finalizers) > 0 {
		return ns, false, nil
	}
	return r.store.Delete(ctx, name, deleteValidation, options)
}

// markTerminating sets the namespace's deletionTimestamp, its Terminating
// phase and the garbage collector finalizers of options.
func (r *REST) markTerminating(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, error) {
	key, err := r.store.KeyFunc(ctx, name)
	if err != nil {
		return nil, err
	}
	preconditions := storage.Preconditions{UID: options.Preconditions.UID, ResourceVersion: options.Preconditions.ResourceVersion}
	out := r.store.NewFunc()
	err = r.store.Storage.GuaranteedUpdate(ctx, key, out, false, &preconditions, storage.SimpleUpdate(func(existing runtime.Object) (runtime.Object, error) {
		ns, ok := existing.(*corev1.Namespace)
		if !ok {
			return nil, fmt.Errorf("unexpected object: %T", existing)
		}
		if deleteValidation != nil {
			if err := deleteValidation(ctx, ns); err != nil {
				return nil, err
			}
		}
		if ns.DeletionTimestamp.IsZero() {
			now := metav1.Now()
			ns.DeletionTimestamp = &now
		}
		ns.Status.Phase = corev1.NamespaceTerminating
		ns.Finalizers = deletionFinalizers(ns.Finalizers, options)
		return ns, nil
	}), dryrun.IsDryRun(options.DryRun), nil)
	if err != nil {
		err = storeerr.InterpretGetError(err, resource, name)
		err = storeerr.InterpretUpdateError(err, resource, name)
		if _, ok := err.(*apierrors.StatusError); !ok {
			err = apierrors.NewInternalError(err)
		}
		return nil, err
	}
	return out, nil
}

// deletionFinalizers returns the metadata finalizers of a namespace being
// deleted with options: the orphan and foregroundDeletion finalizers
// follow the propagation policy (or the deprecated orphanDependents), and
// stay as they are when the options say nothing.
func deletionFinalizers(finalizers []string, options *metav1.DeleteOptions) []string {
	orphan := slices.Contains(finalizers, metav1.FinalizerOrphanDependents)
	foreground := slices.Contains(finalizers, metav1.FinalizerDeleteDependents)
	//nolint:staticcheck // OrphanDependents is deprecated but still honoured.
	switch o := options.OrphanDependents; {
	case o != nil:
		orphan, foreground = *o, !*o
	case options.PropagationPolicy != nil:
		orphan = *options.PropagationPolicy == metav1.DeletePropagationOrphan
		foreground = *options.PropagationPolicy == metav1.DeletePropagationForeground
	default:
		return finalizers
	}
	out := slices.DeleteFunc(slices.Clone(finalizers), func(f string) bool {
		return f == metav1.FinalizerOrphanDependents || f == metav1.FinalizerDeleteDependents
	})
	if orphan {
		out = append(out, metav1.FinalizerOrphanDependents)
	}
	if foreground {
		out = append(out, metav1.FinalizerDeleteDependents)
	}
	return out
}

// FinalizeREST serves namespaces/finalize, through which the namespace
// controller removes spec finalizers.
type FinalizeREST struct {
	store *genericregistry.Store
}

// New returns an empty Namespace.
func (r *FinalizeREST) New() runtime.Object { return r.store.New() }

// Destroy does nothing: the main store owns the storage.
func (r *FinalizeREST) Destroy() {}

// Update writes the spec finalizers (and metadata) of a namespace; when
// this empties the finalizers of a namespace being deleted, the namespace
// is removed.
func (r *FinalizeREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Subresources never create.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields names the fields a finalize leaves alone.
func (r *FinalizeREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// finalizeStrategy is the update strategy of namespaces/finalize: the
// status stays, the rest of the object is taken from the request.
type finalizeStrategy struct {
	rest.RESTUpdateStrategy
	resetFields map[fieldpath.APIVersion]*fieldpath.Set
}

// PrepareForUpdate keeps the stored status and the name label.
func (s finalizeStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ns := obj.(*corev1.Namespace)
	ns.Status = old.(*corev1.Namespace).Status
	setNameLabel(ns)
}

// ValidateUpdate checks the metadata update and the finalizer names.
func (s finalizeStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	errs := genericvalidation.ValidateObjectMetaAccessorUpdate(ns, old.(*corev1.Namespace), field.NewPath("metadata"))
	return append(errs, validateFinalizers(ns.Spec.Finalizers)...)
}

// GetResetFields resets the status.
func (s finalizeStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return s.resetFields
}
