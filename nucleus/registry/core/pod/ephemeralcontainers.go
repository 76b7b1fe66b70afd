package pod

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/strata-dev/strata/nucleus/validation"
)

// ephemeralContainersStrategy is the update strategy of
// pods/ephemeralcontainers, which adds ephemeral containers to a running
// pod (kubectl debug). Everything but the spec.ephemeralContainers of the
// submitted pod is ignored; the rest of the pods strategy (typer,
// namespacing, unconditional updates) is the main one.
type ephemeralContainersStrategy struct {
	rest.RESTUpdateStrategy
	// apiVersion keys the reset fields for server-side apply.
	apiVersion string
}

var _ rest.RESTUpdateStrategy = ephemeralContainersStrategy{}
var _ rest.ResetFieldsStrategy = ephemeralContainersStrategy{}

// PrepareForUpdate keeps the stored pod but for its ephemeral containers,
// the metadata included as for a status update (labels, annotations,
// finalizers and owners do not change through the subresource), and bumps
// the generation when the ephemeral containers changed, as any spec change
// does.
func (ephemeralContainersStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	pod, prev := obj.(*corev1.Pod), old.(*corev1.Pod)
	prepareEphemeralContainersUpdate(pod, prev)
}

func prepareEphemeralContainersUpdate(pod, old *corev1.Pod) {
	ephemeral := pod.Spec.EphemeralContainers
	pod.Spec = *old.Spec.DeepCopy()
	pod.Spec.EphemeralContainers = ephemeral
	pod.Status = *old.Status.DeepCopy()
	metav1.ResetObjectMetaForStatus(pod, old)
	if !apiequality.Semantic.DeepEqual(pod.Spec, old.Spec) {
		pod.Generation = old.Generation + 1
	}
}

// ValidateUpdate checks the pod and that existing ephemeral containers were
// neither changed nor removed.
func (ephemeralContainersStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidatePodEphemeralContainersUpdate(obj.(*corev1.Pod), old.(*corev1.Pod))
}

// WarningsOnUpdate returns no warnings.
func (ephemeralContainersStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// GetResetFields keeps server-side apply through the subresource from
// owning the status.
func (s ephemeralContainersStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		fieldpath.APIVersion(s.apiVersion): fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}
