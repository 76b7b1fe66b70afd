// Package selfsubjectreview serves authentication.k8s.io/v1
// SelfSubjectReviews: the caller's own identity, for `kubectl auth whoami`.
package selfsubjectreview

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
)

// REST answers SelfSubjectReviews.
type REST struct{}

// NewREST returns the storage of selfsubjectreviews.
func NewREST() *REST { return &REST{} }

var (
	_ rest.Creater                  = &REST{}
	_ rest.Scoper                   = &REST{}
	_ rest.SingularNameProvider     = &REST{}
	_ rest.GroupVersionKindProvider = &REST{}
)

// New returns an empty SelfSubjectReview.
func (r *REST) New() runtime.Object { return &authenticationv1.SelfSubjectReview{} }

// Destroy does nothing.
func (r *REST) Destroy() {}

// NamespaceScoped is false: SelfSubjectReviews are cluster scoped.
func (r *REST) NamespaceScoped() bool { return false }

// GetSingularName names one SelfSubjectReview.
func (r *REST) GetSingularName() string { return "selfsubjectreview" }

// GroupVersionKind is authentication.k8s.io/v1 SelfSubjectReview.
func (r *REST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authenticationv1.SchemeGroupVersion.WithKind("SelfSubjectReview")
}

// Create returns the review with the caller's user info in its status.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	_, ok := obj.(*authenticationv1.SelfSubjectReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectReview: %T", obj))
	}
	if ns := genericapirequest.NamespaceValue(ctx); ns != "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace is not allowed on this type: %v", ns))
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	out := &authenticationv1.SelfSubjectReview{
		ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.Now()},
		Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{
			Username: u.GetName(),
			UID:      u.GetUID(),
			Groups:   u.GetGroups(),
		}},
	}
	for k, v := range u.GetExtra() {
		if out.Status.UserInfo.Extra == nil {
			out.Status.UserInfo.Extra = map[string]authenticationv1.ExtraValue{}
		}
		out.Status.UserInfo.Extra[k] = authenticationv1.ExtraValue(v)
	}
	return out, nil
}
