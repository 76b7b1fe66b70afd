// Package authorization serves authorization.k8s.io/v1: the access reviews
// (SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview)
// ask the server's authorization chain, and SelfSubjectRulesReview lists
// what it grants, as far as it can tell. Nothing is stored.
package authorization

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Install adds the four reviews to r.
func Install(r store.Resources, d store.Deps) error {
	if d.Authorizer == nil || d.RuleResolver == nil {
		return fmt.Errorf("the authorization reviews need an authorizer and a rule resolver")
	}
	r["subjectaccessreviews"] = &SubjectAccessReviewREST{authorizer: d.Authorizer}
	r["selfsubjectaccessreviews"] = &SelfSubjectAccessReviewREST{authorizer: d.Authorizer}
	r["localsubjectaccessreviews"] = &LocalSubjectAccessReviewREST{authorizer: d.Authorizer}
	r["selfsubjectrulesreviews"] = &SelfSubjectRulesReviewREST{resolver: d.RuleResolver}
	return nil
}

// create is what the reviews share: they are created only, never stored.
type create struct{}

func (create) Destroy() {}

func invalid(kind string, errs field.ErrorList) error {
	return apierrors.NewInvalid(schema.GroupKind{Group: authorizationv1.GroupName, Kind: kind}, "", errs)
}

// SubjectAccessReviewREST answers whether any user may do something.
type SubjectAccessReviewREST struct {
	create
	authorizer authorizer.Authorizer
}

var (
	_ rest.Creater              = &SubjectAccessReviewREST{}
	_ rest.Scoper               = &SubjectAccessReviewREST{}
	_ rest.SingularNameProvider = &SubjectAccessReviewREST{}
)

func (r *SubjectAccessReviewREST) New() runtime.Object     { return &authorizationv1.SubjectAccessReview{} }
func (r *SubjectAccessReviewREST) NamespaceScoped() bool   { return false }
func (r *SubjectAccessReviewREST) GetSingularName() string { return "subjectaccessreview" }

// Create answers the review.
func (r *SubjectAccessReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	sar, ok := obj.(*authorizationv1.SubjectAccessReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SubjectAccessReview: %#v", obj))
	}
	if errs := ValidateSubjectAccessReview(sar); len(errs) > 0 {
		return nil, invalid("SubjectAccessReview", errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	attrs := attributesFor(userFrom(sar.Spec), sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	sar.Status = statusOf(r.authorizer.Authorize(ctx, attrs))
	return sar, nil
}

// SelfSubjectAccessReviewREST answers whether the requesting user may do
// something.
type SelfSubjectAccessReviewREST struct {
	create
	authorizer authorizer.Authorizer
}

var (
	_ rest.Creater              = &SelfSubjectAccessReviewREST{}
	_ rest.Scoper               = &SelfSubjectAccessReviewREST{}
	_ rest.SingularNameProvider = &SelfSubjectAccessReviewREST{}
)

func (r *SelfSubjectAccessReviewREST) New() runtime.Object {
	return &authorizationv1.SelfSubjectAccessReview{}
}
func (r *SelfSubjectAccessReviewREST) NamespaceScoped() bool   { return false }
func (r *SelfSubjectAccessReviewREST) GetSingularName() string { return "selfsubjectaccessreview" }

// Create answers the review.
func (r *SelfSubjectAccessReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	sar, ok := obj.(*authorizationv1.SelfSubjectAccessReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectAccessReview: %#v", obj))
	}
	if errs := ValidateSelfSubjectAccessReview(sar); len(errs) > 0 {
		return nil, invalid("SelfSubjectAccessReview", errs)
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	attrs := attributesFor(u, sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	sar.Status = statusOf(r.authorizer.Authorize(ctx, attrs))
	return sar, nil
}

// LocalSubjectAccessReviewREST answers whether a user may do something in
// the namespace of the request.
type LocalSubjectAccessReviewREST struct {
	create
	authorizer authorizer.Authorizer
}

var (
	_ rest.Creater              = &LocalSubjectAccessReviewREST{}
	_ rest.Scoper               = &LocalSubjectAccessReviewREST{}
	_ rest.SingularNameProvider = &LocalSubjectAccessReviewREST{}
)

func (r *LocalSubjectAccessReviewREST) New() runtime.Object {
	return &authorizationv1.LocalSubjectAccessReview{}
}
func (r *LocalSubjectAccessReviewREST) NamespaceScoped() bool   { return true }
func (r *LocalSubjectAccessReviewREST) GetSingularName() string { return "localsubjectaccessreview" }

// Create answers the review.
func (r *LocalSubjectAccessReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	sar, ok := obj.(*authorizationv1.LocalSubjectAccessReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a LocalSubjectAccessReview: %#v", obj))
	}
	if errs := ValidateLocalSubjectAccessReview(sar); len(errs) > 0 {
		return nil, invalid("LocalSubjectAccessReview", errs)
	}
	namespace := genericapirequest.NamespaceValue(ctx)
	if namespace == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace is required on this type: %v", namespace))
	}
	if namespace != sar.Namespace {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", namespace))
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	attrs := attributesFor(userFrom(sar.Spec), sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	sar.Status = statusOf(r.authorizer.Authorize(ctx, attrs))
	return sar, nil
}

// SelfSubjectRulesReviewREST lists what the requesting user may do in a
// namespace.
type SelfSubjectRulesReviewREST struct {
	create
	resolver authorizer.RuleResolver
}

var (
	_ rest.Creater              = &SelfSubjectRulesReviewREST{}
	_ rest.Scoper               = &SelfSubjectRulesReviewREST{}
	_ rest.SingularNameProvider = &SelfSubjectRulesReviewREST{}
)

func (r *SelfSubjectRulesReviewREST) New() runtime.Object {
	return &authorizationv1.SelfSubjectRulesReview{}
}
func (r *SelfSubjectRulesReviewREST) NamespaceScoped() bool   { return false }
func (r *SelfSubjectRulesReviewREST) GetSingularName() string { return "selfsubjectrulesreview" }

// Create lists the rules.
func (r *SelfSubjectRulesReviewREST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	review, ok := obj.(*authorizationv1.SelfSubjectRulesReview)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SelfSubjectRulesReview: %#v", obj))
	}
	u, ok := genericapirequest.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	if review.Spec.Namespace == metav1.NamespaceAll {
		return nil, apierrors.NewBadRequest("no namespace on request")
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	resourceRules, nonResourceRules, incomplete, err := r.resolver.RulesFor(ctx, u, review.Spec.Namespace)
	review.Status = authorizationv1.SubjectRulesReviewStatus{
		ResourceRules:    ResourceRules(resourceRules),
		NonResourceRules: NonResourceRules(nonResourceRules),
		Incomplete:       incomplete,
	}
	if err != nil {
		review.Status.EvaluationError = err.Error()
	}
	return review, nil
}

// ResourceRules converts authorizer rules to API rules.
func ResourceRules(in []authorizer.ResourceRuleInfo) []authorizationv1.ResourceRule {
	out := []authorizationv1.ResourceRule{}
	for _, r := range in {
		out = append(out, authorizationv1.ResourceRule{
			Verbs:         r.GetVerbs(),
			APIGroups:     r.GetAPIGroups(),
			Resources:     r.GetResources(),
			ResourceNames: r.GetResourceNames(),
		})
	}
	return out
}

// NonResourceRules converts authorizer rules to API rules.
func NonResourceRules(in []authorizer.NonResourceRuleInfo) []authorizationv1.NonResourceRule {
	out := []authorizationv1.NonResourceRule{}
	for _, r := range in {
		out = append(out, authorizationv1.NonResourceRule{Verbs: r.GetVerbs(), NonResourceURLs: r.GetNonResourceURLs()})
	}
	return out
}
