package serviceaccount

import (
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"k8s.io/apimachinery/pkg/util/uuid"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
)

// PrivateClaims are the Kubernetes-specific claims of a token.
type PrivateClaims struct {
	Kubernetes Kubernetes `json:"kubernetes.io,omitempty"`
}

// Kubernetes is the "kubernetes.io" claim: what the token is bound to.
type Kubernetes struct {
	Namespace      string           `json:"namespace,omitempty"`
	ServiceAccount *Ref             `json:"serviceaccount,omitempty"`
	Pod            *Ref             `json:"pod,omitempty"`
	Secret         *Ref             `json:"secret,omitempty"`
	Node           *Ref             `json:"node,omitempty"`
	WarnAfter      *jwt.NumericDate `json:"warnafter,omitempty"`
}

// Ref names an object by name and UID.
type Ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// Binding is what a token is issued for: a ServiceAccount and optionally
// the Pod, Secret or Node whose lifetime bounds the token's.
type Binding struct {
	Namespace      string
	ServiceAccount Ref
	// Pod and Secret are exclusive; Node is set for a Node binding or for
	// the node a bound Pod runs on (its UID may be empty when unknown).
	Pod    *Ref
	Secret *Ref
	Node   *Ref
}

// Lifetime is when a token is valid.
type Lifetime struct {
	// IssuedAt is the issuing time, also the not-before time.
	IssuedAt time.Time
	// Expiration is how long the token is valid.
	Expiration time.Duration
	// WarnAfter, if not zero, is when a client using an extended token
	// should be warned that it is using a token past its requested life.
	WarnAfter time.Time
}

// Claims builds the public and private claims of a token.
func Claims(issuer string, audiences []string, b Binding, l Lifetime, jti string) (*jwt.Claims, *PrivateClaims) {
	if jti == "" {
		jti = string(uuid.NewUUID())
	}
	sa := b.ServiceAccount
	public := &jwt.Claims{
		Issuer:    issuer,
		Subject:   apiserverserviceaccount.MakeUsername(b.Namespace, sa.Name),
		Audience:  jwt.Audience(audiences),
		IssuedAt:  jwt.NewNumericDate(l.IssuedAt),
		NotBefore: jwt.NewNumericDate(l.IssuedAt),
		Expiry:    jwt.NewNumericDate(l.IssuedAt.Add(l.Expiration)),
		ID:        jti,
	}
	private := &PrivateClaims{Kubernetes: Kubernetes{
		Namespace:      b.Namespace,
		ServiceAccount: &sa,
		Pod:            b.Pod,
		Secret:         b.Secret,
		Node:           b.Node,
	}}
	if !l.WarnAfter.IsZero() {
		private.Kubernetes.WarnAfter = jwt.NewNumericDate(l.WarnAfter)
	}
	return public, private
}
