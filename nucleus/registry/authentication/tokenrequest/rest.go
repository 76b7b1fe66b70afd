// Package tokenrequest serves the serviceaccounts/token subresource: the
// TokenRequest API issuing ServiceAccount tokens.
package tokenrequest

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/authentication"
	"github.com/strata-dev/strata/nucleus/authentication/serviceaccount"
)

const (
	// DefaultExpirationSeconds is the lifetime of a token when the request
	// names none.
	DefaultExpirationSeconds = int64(60 * 60)
	// MinExpirationSeconds and MaxExpirationSeconds bound requests.
	MinExpirationSeconds = int64(10 * 60)
	MaxExpirationSeconds = int64(1 << 32)
	// WarnOnlyExpirationSeconds is the kubelet's default request; with
	// extension enabled such pod-bound tokens live ExtendedExpirationSeconds
	// and carry a warnafter claim.
	WarnOnlyExpirationSeconds = int64(60*60 + 7)
	ExtendedExpirationSeconds = int64(24 * 365 * 60 * 60)
)

var tokenRequestKind = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")

// REST issues tokens for the ServiceAccounts in serviceAccounts.
type REST struct {
	serviceAccounts rest.Getter
	issuance        *authentication.TokenIssuance
	now             func() time.Time
}

// NewREST returns the storage of serviceaccounts/token.
func NewREST(serviceAccounts rest.Getter, issuance *authentication.TokenIssuance) *REST {
	return &REST{serviceAccounts: serviceAccounts, issuance: issuance, now: time.Now}
}

var (
	_ rest.NamedCreater             = &REST{}
	_ rest.GroupVersionKindProvider = &REST{}
)

// New returns an empty TokenRequest.
func (r *REST) New() runtime.Object { return &authenticationv1.TokenRequest{} }

// Destroy does nothing.
func (r *REST) Destroy() {}

// GroupVersionKind says the subresource speaks authentication.k8s.io/v1
// TokenRequest, not ServiceAccount.
func (r *REST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind { return tokenRequestKind }

// Validate checks a TokenRequest as upstream does.
func Validate(req *authenticationv1.TokenRequest) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("spec", "expirationSeconds")
	if exp := req.Spec.ExpirationSeconds; exp != nil {
		if *exp < MinExpirationSeconds {
			errs = append(errs, field.Invalid(path, *exp, "may not specify a duration less than 10 minutes"))
		}
		if *exp > MaxExpirationSeconds {
			errs = append(errs, field.Invalid(path, *exp, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	return errs
}

// Create issues a token for the ServiceAccount name.
func (r *REST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, _ *metav1.CreateOptions) (runtime.Object, error) {
	req, ok := obj.(*authenticationv1.TokenRequest)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenRequest: %T", obj))
	}
	namespace, ok := genericapirequest.NamespaceFrom(ctx)
	if !ok || namespace == "" {
		return nil, apierrors.NewBadRequest("namespace is required")
	}
	if req.Name != "" && req.Name != name {
		return nil, apierrors.NewInvalid(tokenRequestKind.GroupKind(), name, field.ErrorList{
			field.Invalid(field.NewPath("metadata", "name"), req.Name, "must match the service account name if specified")})
	}
	if req.Namespace != "" && req.Namespace != namespace {
		return nil, apierrors.NewInvalid(tokenRequestKind.GroupKind(), name, field.ErrorList{
			field.Invalid(field.NewPath("metadata", "namespace"), req.Namespace, "must match the service account namespace if specified")})
	}

	saObj, err := r.serviceAccounts.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sa := saObj.(*corev1.ServiceAccount)

	if len(req.Spec.Audiences) == 0 {
		req.Spec.Audiences = append([]string(nil), r.issuance.APIAudiences...)
	}
	if req.Spec.ExpirationSeconds == nil {
		exp := DefaultExpirationSeconds
		req.Spec.ExpirationSeconds = &exp
	}
	req.Name, req.Namespace = sa.Name, sa.Namespace
	now := r.now()
	req.CreationTimestamp = metav1.NewTime(now)
	req.Status = authenticationv1.TokenRequestStatus{}

	if errs := Validate(req); len(errs) > 0 {
		return nil, apierrors.NewInvalid(tokenRequestKind.GroupKind(), "", errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, req.DeepCopyObject()); err != nil {
			return nil, err
		}
	}

	binding := serviceaccount.Binding{Namespace: sa.Namespace, ServiceAccount: serviceaccount.Ref{Name: sa.Name, UID: string(sa.UID)}}
	if ref := req.Spec.BoundObjectRef; ref != nil {
		if err := r.bind(ctx, &binding, name, namespace, ref); err != nil {
			return nil, err
		}
	}

	exp := *req.Spec.ExpirationSeconds
	if max := int64(r.issuance.MaxExpiration / time.Second); max > 0 && exp > max {
		warning.AddWarning(ctx, "", fmt.Sprintf("requested expiration of %d seconds shortened to %d seconds", exp, max))
		exp = max
		req.Spec.ExpirationSeconds = &exp
	}
	life := serviceaccount.Lifetime{IssuedAt: now, Expiration: time.Duration(exp) * time.Second}
	if r.issuance.ExtendExpiration && binding.Pod != nil && exp == WarnOnlyExpirationSeconds && isSubset(req.Spec.Audiences, r.issuance.APIAudiences) {
		extended := ExtendedExpirationSeconds
		if max := int64(r.issuance.MaxExpiration / time.Second); max > extended {
			extended = max
		}
		life.WarnAfter = now.Add(time.Duration(exp) * time.Second)
		life.Expiration = time.Duration(extended) * time.Second
	}

	public, private := serviceaccount.Claims(r.issuance.Issuer.Name(), req.Spec.Audiences, binding, life, "")
	token, err := r.issuance.Issuer.Sign(public, private)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	klog.FromContext(ctx).V(2).Info("Issued service account token", "serviceAccount", klog.KObj(sa), "jti", public.ID)
	out := req.DeepCopy()
	out.Status = authenticationv1.TokenRequestStatus{
		Token:               token,
		ExpirationTimestamp: metav1.NewTime(now.Add(time.Duration(exp) * time.Second)),
	}
	return out, nil
}

// bind resolves the object a token is bound to and records it in b.
func (r *REST) bind(ctx context.Context, b *serviceaccount.Binding, saName, namespace string, ref *authenticationv1.BoundObjectReference) error {
	g := r.issuance.Getter
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	var uid string
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		pod, err := g.GetPod(ctx, namespace, ref.Name)
		if err != nil {
			return err
		}
		if pod.Spec.ServiceAccountName != saName {
			return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", saName))
		}
		uid = string(pod.UID)
		b.Pod = &serviceaccount.Ref{Name: pod.Name, UID: uid}
		if nodeName := pod.Spec.NodeName; nodeName != "" {
			b.Node = &serviceaccount.Ref{Name: nodeName}
			if node, err := g.GetNode(ctx, nodeName); err == nil {
				b.Node.UID = string(node.UID)
			} else {
				klog.FromContext(ctx).Error(err, "Failed fetching node for pod", "pod", klog.KObj(pod), "node", nodeName)
			}
		}
	case gvk.Group == "" && gvk.Kind == "Node":
		node, err := g.GetNode(ctx, ref.Name)
		if err != nil {
			return err
		}
		uid = string(node.UID)
		b.Node = &serviceaccount.Ref{Name: node.Name, UID: uid}
	case gvk.Group == "" && gvk.Kind == "Secret":
		secret, err := g.GetSecret(ctx, namespace, ref.Name)
		if err != nil {
			return err
		}
		uid = string(secret.UID)
		b.Secret = &serviceaccount.Ref{Name: secret.Name, UID: uid}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.UID != "" && string(ref.UID) != uid {
		return apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return nil
}

// isSubset reports whether every audience in auds is one of the API's.
func isSubset(auds []string, api authenticator.Audiences) bool {
	for _, a := range auds {
		if !api.Has(a) {
			return false
		}
	}
	return true
}
