// Package tokenreview serves authentication.k8s.io/v1 TokenReviews: it
// authenticates the token under review against the API's bearer token
// authenticators.
package tokenreview

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"
)

var errAudiences = apierrors.NewInternalError(errors.New("error validating audiences"))

// REST reviews tokens.
type REST struct {
	tokens       authenticator.Request
	apiAudiences authenticator.Audiences
}

// NewREST returns the storage of tokenreviews. tokens authenticates
// bearer tokens; apiAudiences are used when a review names none.
func NewREST(tokens authenticator.Request, apiAudiences authenticator.Audiences) *REST {
	return &REST{tokens: tokens, apiAudiences: apiAudiences}
}

var (
	_ rest.Creater                  = &REST{}
	_ rest.Scoper                   = &REST{}
	_ rest.SingularNameProvider     = &REST{}
	_ rest.GroupVersionKindProvider = &REST{}
)

// New returns an empty TokenReview.
func (r *REST) New() runtime.Object { return &authenticationv1.TokenReview{} }

// Destroy does nothing.
func (r *REST) Destroy() {}

// NamespaceScoped is false: TokenReviews are cluster scoped.
func (r *REST) NamespaceScoped() bool { return false }

// GetSingularName names one TokenReview.
func (r *REST) GetSingularName() string { return "tokenreview" }

// GroupVersionKind is authentication.k8s.io/v1 TokenReview.
func (r *REST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return authenticationv1.SchemeGroupVersion.WithKind("TokenReview")
}

// Create authenticates the token of the review and fills in its status.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authenticationv1.TokenReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenReview: %T", obj))
	}
	if ns := genericapirequest.NamespaceValue(ctx); ns != "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace is not allowed on this type: %v", ns))
	}
	if review.Spec.Token == "" {
		return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication")
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}

	// A request carrying nothing but the token.
	req := (&http.Request{Header: http.Header{}}).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+review.Spec.Token)
	auds := authenticator.Audiences(review.Spec.Audiences)
	if len(auds) == 0 {
		auds = r.apiAudiences
	}
	if len(auds) > 0 {
		req = req.WithContext(authenticator.WithAudiences(req.Context(), auds))
	}

	resp, ok, err := r.tokens.AuthenticateRequest(req)
	review.Status = authenticationv1.TokenReviewStatus{Authenticated: ok}
	if err != nil {
		review.Status.Error = err.Error()
	}
	if len(auds) > 0 && resp != nil && len(auds.Intersect(resp.Audiences)) == 0 {
		klog.FromContext(ctx).Error(nil, "Authenticator returned audiences outside of the requested ones", "want", auds, "got", resp.Audiences)
		return nil, errAudiences
	}
	if ok && resp != nil && resp.User != nil {
		u := resp.User
		review.Status.User = authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
		for k, v := range u.GetExtra() {
			if review.Status.User.Extra == nil {
				review.Status.User.Extra = map[string]authenticationv1.ExtraValue{}
			}
			review.Status.User.Extra[k] = authenticationv1.ExtraValue(v)
		}
		review.Status.Audiences = resp.Audiences
	}
	return review, nil
}
