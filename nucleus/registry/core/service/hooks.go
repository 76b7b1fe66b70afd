package service

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/util/dryrun"
)

// hooks run the allocations around the generic store's writes. The store
// calls them before its own strategy, so they validate the request first:
// a bad request must fail with its validation errors, not an allocation
// error.
type hooks struct {
	alloc *allocators
	store *genericregistry.Store
}

// install sets the hooks on the store.
func (h *hooks) install() {
	h.store.BeginCreate = h.beginCreate
	h.store.BeginUpdate = h.beginUpdate
	h.store.AfterDelete = h.afterDelete
}

func (h *hooks) beginCreate(ctx context.Context, obj runtime.Object, options *metav1.CreateOptions) (genericregistry.FinishFunc, error) {
	svc := obj.(*corev1.Service)
	if svc.Namespace == "" {
		svc.Namespace = genericapirequest.NamespaceValue(ctx)
	}
	normalizeClusterIPs(svc, nil)
	errs := initIPFamilyFields(svc, nil, h.alloc.family)
	errs = append(errs, h.store.CreateStrategy.Validate(ctx, svc)...)
	if len(errs) > 0 {
		return nil, invalid(svc, errs)
	}
	// A second create of an existing Service must say so rather than
	// report its cluster IP as taken (by itself).
	if _, err := h.store.Get(ctx, svc.Name, &metav1.GetOptions{}); err == nil {
		return nil, apierrors.NewAlreadyExists(corev1.Resource("services"), svc.Name)
	}
	t, err := h.alloc.allocateCreate(ctx, svc, dryrun.IsDryRun(options.DryRun))
	if err != nil {
		return nil, err
	}
	return t.finish, nil
}

func (h *hooks) beginUpdate(ctx context.Context, obj, old runtime.Object, options *metav1.UpdateOptions) (genericregistry.FinishFunc, error) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	normalizeClusterIPs(svc, oldSvc)
	patchAllocatedValues(svc, oldSvc)
	dropTypeDependentFields(svc, oldSvc)
	errs := initIPFamilyFields(svc, oldSvc, h.alloc.family)
	errs = append(errs, validateService(ctx, svc)...)
	errs = append(errs, validateServiceUpdate(ctx, svc, oldSvc)...)
	if len(errs) > 0 {
		return nil, invalid(svc, errs)
	}
	t, err := h.alloc.allocateUpdate(ctx, svc, oldSvc, dryrun.IsDryRun(options.DryRun))
	if err != nil {
		return nil, err
	}
	return t.finish, nil
}

// afterDelete frees the values of a deleted Service.
func (h *hooks) afterDelete(obj runtime.Object, options *metav1.DeleteOptions) {
	if options != nil && dryrun.IsDryRun(options.DryRun) {
		return
	}
	if svc, ok := obj.(*corev1.Service); ok {
		h.alloc.releaseAll(context.Background(), svc)
	}
}

func invalid(svc *corev1.Service, errs field.ErrorList) error {
	return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name, errs)
}
