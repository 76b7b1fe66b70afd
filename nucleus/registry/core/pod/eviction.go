package pod

import (
	"context"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/util/dryrun"
)

// EvictionREST serves pods/eviction. Without PodDisruptionBudgets every
// eviction is allowed: the pod is marked DisruptionTarget and deleted with
// the eviction's delete options.
type EvictionREST struct {
	pods   rest.GracefulDeleter
	status rest.Updater
}

var _ rest.NamedCreater = &EvictionREST{}
var _ rest.GroupVersionKindProvider = &EvictionREST{}

// New returns an empty Eviction.
func (r *EvictionREST) New() runtime.Object { return &policyv1.Eviction{} }

// Destroy does nothing: the pod store owns the storage.
func (r *EvictionREST) Destroy() {}

// GroupVersionKind says evictions are policy/v1 objects.
func (r *EvictionREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return policyv1.SchemeGroupVersion.WithKind("Eviction")
}

// Create evicts the pod name and returns a Success status.
func (r *EvictionREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	eviction, ok := obj.(*policyv1.Eviction)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not an Eviction: %T", obj))
	}
	if name != eviction.Name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	deleteOptions, err := evictionDeleteOptions(eviction, options)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if createValidation != nil {
		if err := createValidation(ctx, eviction.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	if !dryrun.IsDryRun(deleteOptions.DryRun) {
		if deleteOptions, err = r.markDisruptionTarget(ctx, name, deleteOptions); err != nil {
			return nil, err
		}
	}
	if _, _, err := r.pods.Delete(ctx, name, rest.ValidateAllObjectFunc, deleteOptions); err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess}, nil
}

// evictionDeleteOptions returns the delete options of an eviction, with
// the dry-run setting of the create request (which must agree with the
// eviction's own).
func evictionDeleteOptions(eviction *policyv1.Eviction, options *metav1.CreateOptions) (*metav1.DeleteOptions, error) {
	if eviction.DeleteOptions == nil {
		return &metav1.DeleteOptions{DryRun: options.DryRun}, nil
	}
	out := eviction.DeleteOptions.DeepCopy()
	switch {
	case len(out.DryRun) == 0:
		out.DryRun = options.DryRun
	case len(options.DryRun) > 0 && !reflect.DeepEqual(options.DryRun, out.DryRun):
		return nil, fmt.Errorf("DryRun in CreateOptions (%v) and Eviction (%v) do not match", options.DryRun, out.DryRun)
	}
	return out, nil
}

// markDisruptionTarget adds the DisruptionTarget condition to the pod,
// honouring the delete options' preconditions. As the update changes the
// pod's resourceVersion, a resourceVersion precondition is moved to the
// updated pod.
func (r *EvictionREST) markDisruptionTarget(ctx context.Context, name string, options *metav1.DeleteOptions) (*metav1.DeleteOptions, error) {
	checkPreconditions := func(_ context.Context, _, old runtime.Object) (runtime.Object, error) {
		pod := old.(*corev1.Pod).DeepCopy()
		if p := options.Preconditions; p != nil {
			if p.UID != nil && *p.UID != "" && *p.UID != pod.UID {
				return nil, apierrors.NewConflict(corev1.Resource("pods"), name,
					fmt.Errorf("the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *p.UID, pod.UID))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != "" && *p.ResourceVersion != pod.ResourceVersion {
				return nil, apierrors.NewConflict(corev1.Resource("pods"), name,
					fmt.Errorf("the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *p.ResourceVersion, pod.ResourceVersion))
			}
		}
		return pod, nil
	}
	addCondition := func(_ context.Context, obj, _ runtime.Object) (runtime.Object, error) {
		pod := obj.(*corev1.Pod)
		setCondition(pod, corev1.PodCondition{
			Type:    corev1.DisruptionTarget,
			Status:  corev1.ConditionTrue,
			Reason:  "EvictionByEvictionAPI",
			Message: "Eviction API: evicting",
		}, metav1.Now())
		return pod, nil
	}
	updated, _, err := r.status.Update(ctx, name, rest.DefaultUpdatedObjectInfo(nil, checkPreconditions, addCondition),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	if options.Preconditions != nil && options.Preconditions.ResourceVersion != nil && *options.Preconditions.ResourceVersion != "" {
		rv, err := meta.NewAccessor().ResourceVersion(updated)
		if err != nil {
			return nil, err
		}
		options = options.DeepCopy()
		options.Preconditions.ResourceVersion = &rv
	}
	return options, nil
}
