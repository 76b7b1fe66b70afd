package serviceaccount

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
	apiserverjwt "k8s.io/apiserver/pkg/authentication/token/jwt"
	"k8s.io/klog/v2"
)

// Leeway is the clock skew tolerated on exp and nbf.
const Leeway = time.Minute

// Getter finds the objects a token is bound to. Errors other than NotFound
// fail the authentication.
type Getter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
}

// Errors the authenticator reports. They are upstream's wording and say no
// more than upstream does; clients only ever see "Unauthorized".
var (
	errExpired     = errors.New("service account token has expired")
	errNotYetValid = errors.New("service account token is not valid yet")
	errInvalid     = errors.New("service account token could not be validated")
	errInvalidated = errors.New("service account token has been invalidated")
	errSignature   = errors.New("invalid signature")
)

var signatureAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512}

// Authenticator validates tokens of one issuer.
type Authenticator struct {
	issuer       string
	keys         []crypto.PublicKey
	implicitAuds authenticator.Audiences
	getter       Getter
	now          func() time.Time
}

// NewAuthenticator returns a token authenticator for the tokens of issuer
// signed by one of keys. Tokens must be meant for one of the audiences of
// the request (authenticator.AudiencesFrom), or of implicitAuds when the
// request names none.
func NewAuthenticator(issuer string, keys []crypto.PublicKey, implicitAuds authenticator.Audiences, getter Getter) *Authenticator {
	return &Authenticator{issuer: issuer, keys: keys, implicitAuds: implicitAuds, getter: getter, now: time.Now}
}

// AuthenticateToken implements authenticator.Token. Tokens that are not
// JWTs of this issuer are left to other authenticators (nil, false, nil).
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	tok, err := jwt.ParseSigned(token, signatureAlgorithms)
	if err != nil {
		return nil, false, nil
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Issuer != a.issuer {
		return nil, false, nil
	}

	public, private, err := a.verify(tok)
	if err != nil {
		return nil, false, err
	}
	now := a.now()
	if err := public.ValidateWithLeeway(jwt.Expected{Issuer: a.issuer, Time: now}, Leeway); err != nil {
		switch {
		case errors.Is(err, jwt.ErrExpired):
			return nil, false, errExpired
		case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
			return nil, false, errNotYetValid
		}
		return nil, false, errInvalid
	}
	if public.Expiry == nil {
		return nil, false, errInvalid
	}

	requested, ok := authenticator.AudiencesFrom(ctx)
	if !ok || len(requested) == 0 {
		requested = a.implicitAuds
	}
	auds := authenticator.Audiences(public.Audience).Intersect(requested)
	if len(auds) == 0 {
		return nil, false, fmt.Errorf("token audiences %q is invalid for the target audiences %q", []string(public.Audience), []string(requested))
	}

	info, err := a.validateBinding(ctx, public, private, now)
	if err != nil {
		return nil, false, err
	}
	return &authenticator.Response{Audiences: auds, User: info.UserInfo()}, true, nil
}

// verify checks the signature against the keys and decodes the claims.
func (a *Authenticator) verify(tok *jwt.JSONWebToken) (*jwt.Claims, *PrivateClaims, error) {
	for _, key := range a.keys {
		public, private := &jwt.Claims{}, &PrivateClaims{}
		if err := tok.Claims(key, public, private); err == nil {
			return public, private, nil
		}
	}
	return nil, nil, errSignature
}

// validateBinding checks that what the token is bound to still exists,
// with the same UID, and returns the identity.
func (a *Authenticator) validateBinding(ctx context.Context, public *jwt.Claims, private *PrivateClaims, now time.Time) (*apiserverserviceaccount.ServiceAccountInfo, error) {
	k := private.Kubernetes
	if k.Namespace == "" || k.ServiceAccount == nil || k.ServiceAccount.Name == "" || k.ServiceAccount.UID == "" {
		return nil, errInvalid
	}
	if public.Subject != apiserverserviceaccount.MakeUsername(k.Namespace, k.ServiceAccount.Name) {
		return nil, errInvalid
	}
	logger := klog.FromContext(ctx)

	sa, err := a.getter.GetServiceAccount(ctx, k.Namespace, k.ServiceAccount.Name)
	if err := checkFound(err, sa != nil && string(sa.UID) == k.ServiceAccount.UID); err != nil {
		logger.V(4).Info("Service account of token is gone", "serviceAccount", klog.KRef(k.Namespace, k.ServiceAccount.Name), "err", err)
		return nil, err
	}
	info := &apiserverserviceaccount.ServiceAccountInfo{
		Namespace:    k.Namespace,
		Name:         k.ServiceAccount.Name,
		UID:          k.ServiceAccount.UID,
		CredentialID: apiserverjwt.CredentialIDForJTI(public.ID),
	}
	if k.Pod != nil {
		pod, err := a.getter.GetPod(ctx, k.Namespace, k.Pod.Name)
		if err := checkFound(err, pod != nil && string(pod.UID) == k.Pod.UID); err != nil {
			logger.V(4).Info("Pod of token is gone", "pod", klog.KRef(k.Namespace, k.Pod.Name), "err", err)
			return nil, err
		}
		if pod.DeletionTimestamp != nil && !pod.DeletionTimestamp.After(now) {
			return nil, errInvalidated
		}
		info.PodName, info.PodUID = k.Pod.Name, k.Pod.UID
	}
	if k.Secret != nil {
		secret, err := a.getter.GetSecret(ctx, k.Namespace, k.Secret.Name)
		if err := checkFound(err, secret != nil && string(secret.UID) == k.Secret.UID); err != nil {
			return nil, err
		}
		if secret.DeletionTimestamp != nil {
			return nil, errInvalidated
		}
	}
	if k.Node != nil {
		info.NodeName = k.Node.Name
		// A node named by a pod binding is informational; a node binding
		// must still exist.
		if k.Pod == nil {
			node, err := a.getter.GetNode(ctx, k.Node.Name)
			if err := checkFound(err, node != nil && string(node.UID) == k.Node.UID); err != nil {
				return nil, err
			}
			if node.DeletionTimestamp != nil {
				return nil, errInvalidated
			}
		}
		info.NodeUID = k.Node.UID
	}
	return info, nil
}

// checkFound turns a lookup result into the authentication error.
func checkFound(err error, uidMatches bool) error {
	switch {
	case apierrors.IsNotFound(err):
		return errInvalidated
	case err != nil:
		return fmt.Errorf("service account token could not be validated: %w", err)
	case !uidMatches:
		return errInvalidated
	}
	return nil
}
