package serviceaccount

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

const testIssuer = "https://kubernetes.default.svc.cluster.local"

// fakeGetter serves objects from maps keyed by "namespace/name".
type fakeGetter struct {
	serviceAccounts map[string]*corev1.ServiceAccount
	pods            map[string]*corev1.Pod
	secrets         map[string]*corev1.Secret
	nodes           map[string]*corev1.Node
}

func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
}

func (f fakeGetter) GetServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	if o, ok := f.serviceAccounts[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("serviceaccounts", name)
}

func (f fakeGetter) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	if o, ok := f.pods[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("pods", name)
}

func (f fakeGetter) GetSecret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if o, ok := f.secrets[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("secrets", name)
}

func (f fakeGetter) GetNode(_ context.Context, name string) (*corev1.Node, error) {
	if o, ok := f.nodes[name]; ok {
		return o, nil
	}
	return nil, notFound("nodes", name)
}

func objectMeta(ns, name, uid string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}
}

func testKey(t *testing.T) crypto.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestAuthenticateToken(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	key, otherKey := testKey(t), testKey(t)
	issuer, err := NewIssuer(testIssuer, key)
	if err != nil {
		t.Fatal(err)
	}
	otherIssuer, err := NewIssuer(testIssuer, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	deleting := metav1.NewTime(now.Add(-time.Second))
	getter := fakeGetter{
		serviceAccounts: map[string]*corev1.ServiceAccount{"ns/builder": {ObjectMeta: objectMeta("ns", "builder", "sa-uid")}},
		pods: map[string]*corev1.Pod{
			"ns/web":  {ObjectMeta: objectMeta("ns", "web", "pod-uid")},
			"ns/gone": {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gone", UID: "gone-uid", DeletionTimestamp: &deleting}},
		},
		secrets: map[string]*corev1.Secret{"ns/s": {ObjectMeta: objectMeta("ns", "s", "secret-uid")}},
		nodes:   map[string]*corev1.Node{"n1": {ObjectMeta: objectMeta("", "n1", "node-uid")}},
	}
	sa := Ref{Name: "builder", UID: "sa-uid"}
	good := Binding{Namespace: "ns", ServiceAccount: sa}
	life := Lifetime{IssuedAt: now.Add(-time.Minute), Expiration: time.Hour}
	sign := func(i *Issuer, iss string, auds []string, b Binding, l Lifetime) string {
		public, private := Claims(iss, auds, b, l, "the-jti")
		tok, err := i.Sign(public, private)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	apiAuds := []string{testIssuer}
	goodToken := sign(issuer, testIssuer, apiAuds, good, life)
	// A payload with the SA name changed, keeping the original signature.
	parts := strings.Split(goodToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "builder", "admin00", -1))) + "." + parts[2]

	saUser := func(extra map[string][]string) *user.DefaultInfo {
		e := map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=the-jti"}}
		for k, v := range extra {
			e[k] = v
		}
		return &user.DefaultInfo{
			Name:   "system:serviceaccount:ns:builder",
			UID:    "sa-uid",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns"},
			Extra:  e,
		}
	}

	tests := []struct {
		name      string
		token     string
		audiences authenticator.Audiences
		wantUser  *user.DefaultInfo
		wantAuds  authenticator.Audiences
		wantErr   string // substring; "" with wantUser nil means "not ours"
	}{
		{name: "good token", token: goodToken, wantUser: saUser(nil), wantAuds: apiAuds},
		{name: "requested audience", token: sign(issuer, testIssuer, []string{"vault", "other"}, good, life), audiences: authenticator.Audiences{"vault"}, wantUser: saUser(nil), wantAuds: authenticator.Audiences{"vault"}},
		{name: "bound to a pod", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Pod: &Ref{Name: "web", UID: "pod-uid"}, Node: &Ref{Name: "n1", UID: "node-uid"}}, life),
			wantUser: saUser(map[string][]string{
				"authentication.kubernetes.io/pod-name":  {"web"},
				"authentication.kubernetes.io/pod-uid":   {"pod-uid"},
				"authentication.kubernetes.io/node-name": {"n1"},
				"authentication.kubernetes.io/node-uid":  {"node-uid"},
			}), wantAuds: apiAuds},
		{name: "bound to a secret", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Secret: &Ref{Name: "s", UID: "secret-uid"}}, life), wantUser: saUser(nil), wantAuds: apiAuds},
		{name: "bound to a node", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Node: &Ref{Name: "n1", UID: "node-uid"}}, life),
			wantUser: saUser(map[string][]string{"authentication.kubernetes.io/node-name": {"n1"}, "authentication.kubernetes.io/node-uid": {"node-uid"}}), wantAuds: apiAuds},
		{name: "not a JWT", token: "abc.def", wantErr: ""},
		{name: "another issuer's JWT", token: sign(issuer, "https://elsewhere", apiAuds, good, life), wantErr: ""},
		{name: "expired", token: sign(issuer, testIssuer, apiAuds, good, Lifetime{IssuedAt: now.Add(-3 * time.Hour), Expiration: time.Hour}), wantErr: "service account token has expired"},
		{name: "expired within leeway", token: sign(issuer, testIssuer, apiAuds, good, Lifetime{IssuedAt: now.Add(-time.Hour - 30*time.Second), Expiration: time.Hour}), wantUser: saUser(nil), wantAuds: apiAuds},
		{name: "not yet valid", token: sign(issuer, testIssuer, apiAuds, good, Lifetime{IssuedAt: now.Add(time.Hour), Expiration: time.Hour}), wantErr: "service account token is not valid yet"},
		{name: "wrong audience", token: sign(issuer, testIssuer, []string{"vault"}, good, life), wantErr: "token audiences"},
		{name: "requested audience missing", token: goodToken, audiences: authenticator.Audiences{"vault"}, wantErr: "token audiences"},
		{name: "signed by another key", token: sign(otherIssuer, testIssuer, apiAuds, good, life), wantErr: "invalid signature"},
		{name: "tampered payload", token: tampered, wantErr: "invalid signature"},
		{name: "missing service account", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: Ref{Name: "ghost", UID: "sa-uid"}}, life), wantErr: "invalidated"},
		{name: "service account UID mismatch", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: Ref{Name: "builder", UID: "old-uid"}}, life), wantErr: "invalidated"},
		{name: "missing pod", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Pod: &Ref{Name: "nope", UID: "x"}}, life), wantErr: "invalidated"},
		{name: "pod UID mismatch", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Pod: &Ref{Name: "web", UID: "old"}}, life), wantErr: "invalidated"},
		{name: "pod being deleted", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Pod: &Ref{Name: "gone", UID: "gone-uid"}}, life), wantErr: "invalidated"},
		{name: "secret UID mismatch", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Secret: &Ref{Name: "s", UID: "old"}}, life), wantErr: "invalidated"},
		{name: "missing node", token: sign(issuer, testIssuer, apiAuds, Binding{Namespace: "ns", ServiceAccount: sa, Node: &Ref{Name: "n2", UID: "x"}}, life), wantErr: "invalidated"},
		{name: "missing kubernetes.io claim", token: func() string {
			public, _ := Claims(testIssuer, apiAuds, good, life, "j")
			tok, _ := issuer.Sign(public, &PrivateClaims{})
			return tok
		}(), wantErr: "could not be validated"},
	}
	a := NewAuthenticator(testIssuer, []crypto.PublicKey{key.Public()}, apiAuds, getter)
	a.now = func() time.Time { return now }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.audiences != nil {
				ctx = authenticator.WithAudiences(ctx, tt.audiences)
			}
			resp, ok, err := a.AuthenticateToken(ctx, tt.token)
			if tt.wantUser != nil {
				if err != nil || !ok {
					t.Fatalf("AuthenticateToken() = %v, %v; want success", ok, err)
				}
				if diff := cmp.Diff(tt.wantUser, resp.User); diff != "" {
					t.Errorf("user (-want +got)\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantAuds, resp.Audiences); diff != "" {
					t.Errorf("audiences (-want +got)\n%s", diff)
				}
				return
			}
			if ok || resp != nil {
				t.Fatalf("AuthenticateToken() authenticated %v; want rejection", resp.User)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("AuthenticateToken() error = %v; want the token left to others", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("AuthenticateToken() error = %v; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	public, private := Claims(testIssuer, []string{"a"}, Binding{Namespace: "ns", ServiceAccount: Ref{Name: "sa", UID: "u"}, Pod: &Ref{Name: "p", UID: "pu"}},
		Lifetime{IssuedAt: now, Expiration: time.Hour, WarnAfter: now.Add(10 * time.Minute)}, "jti")
	if public.Subject != "system:serviceaccount:ns:sa" || public.ID != "jti" || public.Expiry.Time() != now.Add(time.Hour) || public.NotBefore.Time() != now || public.IssuedAt.Time() != now {
		t.Errorf("public claims = %+v", public)
	}
	want := &PrivateClaims{Kubernetes: Kubernetes{Namespace: "ns", ServiceAccount: &Ref{Name: "sa", UID: "u"}, Pod: &Ref{Name: "p", UID: "pu"}}}
	if private.Kubernetes.WarnAfter == nil || private.Kubernetes.WarnAfter.Time() != now.Add(10*time.Minute) {
		t.Errorf("warnafter = %v", private.Kubernetes.WarnAfter)
	}
	private.Kubernetes.WarnAfter = nil
	if diff := cmp.Diff(want, private); diff != "" {
		t.Errorf("private claims (-want +got)\n%s", diff)
	}
}

func TestEnsureSigningKeyIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pki", "sa.key")
	first, err := EnsureSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := EnsureSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := KeyID(first.Public())
	id2, _ := KeyID(second.Public())
	if id1 != id2 {
		t.Errorf("key changed across loads: %s != %s", id1, id2)
	}
}
