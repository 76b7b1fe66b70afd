package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/strata-dev/strata/nucleus/options"
	"github.com/strata-dev/strata/nucleus/testenv"
)

const defaultIssuer = "https://kubernetes.default.svc.cluster.local"

// tokenClient is a client presenting only the bearer token.
func tokenClient(t testing.TB, e *testenv.Env, token string) kubernetes.Interface {
	t.Helper()
	cfg := e.AnonymousConfig(func(c *rest.Config) { c.BearerToken = token })
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return recordServerErrors{rt} })
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// whoami asks the server who the token is.
func whoami(t testing.TB, e *testenv.Env, token string) (authenticationv1.UserInfo, error) {
	t.Helper()
	r, err := tokenClient(t, e, token).AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	return r.Status.UserInfo, nil
}

func createServiceAccount(t testing.TB, cs kubernetes.Interface, ns, name string) *corev1.ServiceAccount {
	t.Helper()
	sa, err := cs.CoreV1().ServiceAccounts(ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating service account: %v", err)
	}
	return sa
}

func requestToken(t testing.TB, cs kubernetes.Interface, ns, name string, spec authenticationv1.TokenRequestSpec) *authenticationv1.TokenRequest {
	t.Helper()
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name, &authenticationv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token for %s/%s: %v", ns, name, err)
	}
	return tr
}

func TestTokenRequestAuthenticatesAsServiceAccount(t *testing.T) {
	ns := newNamespace(t)
	sa := createServiceAccount(t, c.kube, ns, "builder")
	before := time.Now()
	tr := requestToken(t, c.kube, ns, "builder", authenticationv1.TokenRequestSpec{})

	if got := tr.Spec.Audiences; !slices.Equal(got, []string{defaultIssuer}) {
		t.Errorf("spec.audiences = %q; want the API audiences", got)
	}
	if got := deref(tr.Spec.ExpirationSeconds); got != 3600 {
		t.Errorf("spec.expirationSeconds = %d; want 3600", got)
	}
	if exp := tr.Status.ExpirationTimestamp.Time; exp.Before(before.Add(time.Hour-time.Minute)) || exp.After(time.Now().Add(time.Hour+time.Second)) {
		t.Errorf("status.expirationTimestamp = %v; want an hour from now", exp)
	}

	u, err := whoami(t, env, tr.Status.Token)
	if err != nil {
		t.Fatalf("SelfSubjectReview with the token: %v", err)
	}
	if u.Username != "system:serviceaccount:"+ns+":builder" || u.UID != string(sa.UID) {
		t.Errorf("user = %q (uid %q); want system:serviceaccount:%s:builder (uid %q)", u.Username, u.UID, ns, sa.UID)
	}
	for _, g := range []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"} {
		if !slices.Contains(u.Groups, g) {
			t.Errorf("groups %q lack %q", u.Groups, g)
		}
	}
	if id := u.Extra["authentication.kubernetes.io/credential-id"]; len(id) != 1 || !strings.HasPrefix(id[0], "JTI=") {
		t.Errorf("credential-id = %q; want JTI=<jti>", id)
	}

	// Authenticated, but not allowed to list pods: 403, not 401.
	if _, err := tokenClient(t, env, tr.Status.Token).CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing pods as the service account: %v; want 403", err)
	}

	// A deleted and recreated ServiceAccount does not accept old tokens.
	if err := c.kube.CoreV1().ServiceAccounts(ns).Delete(context.Background(), "builder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	createServiceAccount(t, c.kube, ns, "builder")
	expectUnauthorized(t, env, tr.Status.Token)
}

// expectUnauthorized waits (caches catch up within moments) until the
// token gets 401.
func expectUnauthorized(t testing.TB, e *testenv.Env, token string) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		_, last = whoami(t, e, token)
		return apierrors.IsUnauthorized(last), nil
	})
	if err != nil {
		t.Fatalf("token still accepted or wrong error: %v; want 401", last)
	}
}

func TestTokenBoundToPodStopsWorkingWhenPodIsDeleted(t *testing.T) {
	ns := newNamespace(t)
	createServiceAccount(t, c.kube, ns, "runner")
	createServiceAccount(t, c.kube, ns, "other")
	pod, err := c.kube.CoreV1().Pods(ns).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{
			ServiceAccountName: "runner",
			Containers:         []corev1.Container{{Name: "c", Image: "busybox"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod: %v", err)
	}
	ref := &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "web", UID: pod.UID}

	// The UID must be the pod's: 409 otherwise.
	_, err = c.kube.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), "runner", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "web", UID: "not-the-uid"},
	}}, metav1.CreateOptions{})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "does not match the UID in record") {
		t.Errorf("token bound to a wrong pod UID: %v; want 409", err)
	}
	// The pod must run as the ServiceAccount: 400 otherwise.
	_, err = c.kube.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), "other", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: ref}}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("token for another service account bound to the pod: %v; want 400", err)
	}
	// Binding to a kind tokens cannot be bound to: 400.
	_, err = c.kube.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), "runner", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "ConfigMap", APIVersion: "v1", Name: "x"},
	}}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("token bound to a ConfigMap: %v; want 400", err)
	}

	tr := requestToken(t, c.kube, ns, "runner", authenticationv1.TokenRequestSpec{BoundObjectRef: ref})
	u, err := whoami(t, env, tr.Status.Token)
	if err != nil {
		t.Fatalf("SelfSubjectReview with the pod-bound token: %v", err)
	}
	if got := u.Extra["authentication.kubernetes.io/pod-name"]; !slices.Equal(got, []string{"web"}) {
		t.Errorf("pod-name = %q; want web", got)
	}
	if got := u.Extra["authentication.kubernetes.io/pod-uid"]; !slices.Equal(got, []string{string(pod.UID)}) {
		t.Errorf("pod-uid = %q; want %s", got, pod.UID)
	}

	// The kubelet's default request (3607s) gets a token living a year
	// that warns after the requested lifetime, as upstream; the status
	// reports the requested expiration.
	kubelet := requestToken(t, c.kube, ns, "runner", authenticationv1.TokenRequestSpec{BoundObjectRef: ref, ExpirationSeconds: ptr[int64](3607)})
	if got := time.Until(kubelet.Status.ExpirationTimestamp.Time); got > 3607*time.Second || got < 3500*time.Second {
		t.Errorf("status.expirationTimestamp in %v; want 3607s", got)
	}
	claims := unverifiedClaims(t, kubelet.Status.Token)
	if got := time.Until(claims.Expiry.Time()); got < 364*24*time.Hour {
		t.Errorf("extended token expires in %v; want a year", got)
	}
	if claims.Kubernetes.WarnAfter == nil || time.Until(claims.Kubernetes.WarnAfter.Time()) > 3607*time.Second {
		t.Errorf("warnafter = %v; want in 3607s", claims.Kubernetes.WarnAfter)
	}
	if claims.Kubernetes.Pod == nil || claims.Kubernetes.Pod.UID != string(pod.UID) {
		t.Errorf("kubernetes.io.pod = %+v; want the pod", claims.Kubernetes.Pod)
	}

	if err := c.kube.CoreV1().Pods(ns).Delete(context.Background(), "web", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	expectUnauthorized(t, env, tr.Status.Token)
	expectUnauthorized(t, env, kubelet.Status.Token)
}

type tokenClaims struct {
	jwt.Claims
	Kubernetes struct {
		Pod *struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"pod"`
		WarnAfter *jwt.NumericDate `json:"warnafter"`
	} `json:"kubernetes.io"`
}

// unverifiedClaims decodes the claims of a token without checking it.
func unverifiedClaims(t testing.TB, token string) tokenClaims {
	t.Helper()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var c tokenClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenRequestValidation(t *testing.T) {
	ns := newNamespace(t)
	createServiceAccount(t, c.kube, ns, "sa")

	_, err := c.kube.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), "sa", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](599)},
	}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("expirationSeconds 599: %v; want 422", err)
	}
	status := err.(apierrors.APIStatus).Status()
	if status.Details == nil || len(status.Details.Causes) != 1 || status.Details.Causes[0].Field != "spec.expirationSeconds" {
		t.Errorf("422 details = %+v; want one cause on spec.expirationSeconds", status.Details)
	}

	_, err = c.kube.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), "missing", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("token for a missing service account: %v; want 404", err)
	}
	tr := requestToken(t, c.kube, ns, "sa", authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](600)})
	if got := time.Until(tr.Status.ExpirationTimestamp.Time); got > 10*time.Minute || got < 9*time.Minute {
		t.Errorf("expiration in %v; want 10m", got)
	}
}

func TestTokenAudiences(t *testing.T) {
	ns := newNamespace(t)
	createServiceAccount(t, c.kube, ns, "sa")
	tr := requestToken(t, c.kube, ns, "sa", authenticationv1.TokenRequestSpec{Audiences: []string{"vault"}})

	// Not meant for the API: 401.
	if _, err := whoami(t, env, tr.Status.Token); !apierrors.IsUnauthorized(err) {
		t.Errorf("token for audience vault against the API: %v; want 401", err)
	}

	// A relying party asks the API whether it is valid for itself.
	review, err := c.kube.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token, Audiences: []string{"vault"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !review.Status.Authenticated || review.Status.User.Username != "system:serviceaccount:"+ns+":sa" || !slices.Equal(review.Status.Audiences, []string{"vault"}) {
		t.Errorf("review status = %+v; want authenticated for audience vault", review.Status)
	}
	review, err = c.kube.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token, Audiences: []string{"elsewhere"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if review.Status.Authenticated || review.Status.Error == "" {
		t.Errorf("review for another audience = %+v; want unauthenticated with an error", review.Status)
	}
}

func TestTokenReview(t *testing.T) {
	ns := newNamespace(t)
	sa := createServiceAccount(t, c.kube, ns, "sa")
	tr := requestToken(t, c.kube, ns, "sa", authenticationv1.TokenRequestSpec{})

	review, err := c.kube.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := review.Status
	if !s.Authenticated || s.User.Username != "system:serviceaccount:"+ns+":sa" || s.User.UID != string(sa.UID) || !slices.Contains(s.User.Groups, "system:authenticated") || !slices.Equal(s.Audiences, []string{defaultIssuer}) {
		t.Errorf("review of a valid token = %+v", s)
	}

	for _, token := range []string{"garbage", tr.Status.Token[:len(tr.Status.Token)-4] + "AAAA"} {
		review, err = c.kube.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
			Spec: authenticationv1.TokenReviewSpec{Token: token},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if review.Status.Authenticated || review.Status.Error == "" || review.Status.User.Username != "" {
			t.Errorf("review of an invalid token = %+v; want unauthenticated with an error", review.Status)
		}
	}

	_, err = c.kube.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("review without a token: %v; want 400", err)
	}

	// Reviewing tokens is a privilege.
	if _, err := tokenClient(t, env, tr.Status.Token).AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token},
	}, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("TokenReview by a service account: %v; want 403", err)
	}
}

func TestIssuerDiscovery(t *testing.T) {
	ns := newNamespace(t)
	createServiceAccount(t, c.kube, ns, "sa")
	tr := requestToken(t, c.kube, ns, "sa", authenticationv1.TokenRequestSpec{})

	hc, err := rest.HTTPClientFor(env.AnonymousConfig())
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, wantType string) []byte {
		t.Helper()
		resp, err := hc.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != wantType {
			t.Fatalf("anonymous GET %s = %d %q: %s; want 200 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body, wantType)
		}
		return body
	}
	var config struct {
		Issuer        string   `json:"issuer"`
		JWKSURI       string   `json:"jwks_uri"`
		ResponseTypes []string `json:"response_types_supported"`
		SubjectTypes  []string `json:"subject_types_supported"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(get("/.well-known/openid-configuration", "application/json"), &config); err != nil {
		t.Fatal(err)
	}
	if config.Issuer != defaultIssuer || !strings.HasSuffix(config.JWKSURI, "/openid/v1/jwks") ||
		!slices.Equal(config.ResponseTypes, []string{"id_token"}) || !slices.Equal(config.SubjectTypes, []string{"public"}) || !slices.Equal(config.Algs, []string{"RS256"}) {
		t.Errorf("openid-configuration = %+v", config)
	}

	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(get("/openid/v1/jwks", "application/jwk-set+json"), &keys); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(tr.Status.Token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	if err := tok.Claims(keys, &claims); err != nil {
		t.Fatalf("verifying an issued token with the published JWKS: %v", err)
	}
	if claims.Issuer != defaultIssuer || claims.Subject != "system:serviceaccount:"+ns+":sa" {
		t.Errorf("claims = %+v", claims)
	}
}

func TestMalformedBearerTokensAreUnauthorized(t *testing.T) {
	ns := newNamespace(t)
	createServiceAccount(t, c.kube, ns, "sa")
	valid := requestToken(t, c.kube, ns, "sa", authenticationv1.TokenRequestSpec{}).Status.Token
	parts := strings.Split(valid, ".")
	tokens := map[string]string{
		"garbage":            "garbage",
		"three dots":         "a.b.c",
		"bad base64":         "!!!.???.***",
		"truncated":          valid[:len(valid)/2],
		"no signature":       parts[0] + "." + parts[1] + ".",
		"alg none":           "eyJhbGciOiJub25lIn0." + parts[1] + ".",
		"swapped payload":    parts[0] + "." + parts[0] + "." + parts[2],
		"very long":          strings.Repeat("x", 64<<10),
		"json header only":   "eyJ9.eyJ9.eyJ9",
		"signature stripped": parts[0] + "." + parts[1],
	}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			if _, err := whoami(t, env, token); !apierrors.IsUnauthorized(err) {
				t.Errorf("got %v; want 401", err)
			}
		})
	}
	if _, err := whoami(t, env, valid); err != nil {
		t.Errorf("the server stopped accepting a valid token: %v", err)
	}
}

func TestStaticTokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(file, []byte("s3cr3t,jane,jane-uid,\"dev,qa\"\nother,bob,bob-uid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := testenv.Start(t, testenv.WithOptions(func(o *options.Options) { o.Authentication.TokenAuthFile = file }))

	u, err := whoami(t, e, "s3cr3t")
	if err != nil {
		t.Fatalf("SelfSubjectReview with a static token: %v", err)
	}
	if u.Username != "jane" || u.UID != "jane-uid" || !slices.Equal(u.Groups, []string{"dev", "qa", "system:authenticated"}) {
		t.Errorf("user = %+v; want jane (jane-uid) in dev, qa", u)
	}
	if _, err := whoami(t, e, "wrong"); !apierrors.IsUnauthorized(err) {
		t.Errorf("unknown static token: %v; want 401", err)
	}
}

func TestServiceAccountTokensSurviveRestart(t *testing.T) {
	e := testenv.Start(t)
	admin, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	createServiceAccount(t, admin, "default", "survivor")
	token := requestToken(t, admin, "default", "survivor", authenticationv1.TokenRequestSpec{}).Status.Token
	if _, err := whoami(t, e, token); err != nil {
		t.Fatalf("before restart: %v", err)
	}
	if err := e.Restart(); err != nil {
		t.Fatal(err)
	}
	u, err := whoami(t, e, token)
	if err != nil {
		t.Fatalf("token issued before the restart: %v", err)
	}
	if u.Username != "system:serviceaccount:default:survivor" {
		t.Errorf("user = %q", u.Username)
	}
}

// TestJWTIssuerFromAuthenticationConfig runs a small OIDC issuer (discovery
// and JWKS over TLS) and authenticates with a token it signed.
func TestJWTIssuerFromAuthenticationConfig(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: "test-key", Algorithm: string(jose.ES256), Use: "sig"}
	mux := http.NewServeMux()
	issuer := httptest.NewUnstartedServer(mux)
	issuer.StartTLS()
	t.Cleanup(issuer.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"id_token_signing_alg_values_supported":["ES256"]}`, issuer.URL, issuer.URL+"/jwks")
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
	})
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer.Certificate().Raw})
	config := fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: %s
    audiences: [strata-test]
    certificateAuthority: |
%s
  claimMappings:
    username:
      claim: sub
      prefix: "oidc:"
    groups:
      claim: groups
      prefix: ""
`, issuer.URL, indent(string(caPEM), "      "))
	file := filepath.Join(t.TempDir(), "authn.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	e := testenv.Start(t, testenv.WithOptions(func(o *options.Options) { o.Authentication.AuthenticationConfig = file }))

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "test-key"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(aud string) string {
		now := time.Now()
		tok, err := jwt.Signed(signer).Claims(jwt.Claims{
			Issuer: issuer.URL, Subject: "alice", Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
		}).Claims(map[string]any{"groups": []string{"admins"}}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign("strata-test")

	// The authenticator fetches the issuer's keys in the background.
	var u authenticationv1.UserInfo
	var last error
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		u, last = whoami(t, e, good)
		return last == nil, nil
	}); err != nil {
		t.Fatalf("token of the configured issuer never authenticated: %v", last)
	}
	if u.Username != "oidc:alice" || !slices.Equal(u.Groups, []string{"admins", "system:authenticated"}) {
		t.Errorf("user = %+v; want oidc:alice in admins", u)
	}
	if _, err := whoami(t, e, sign("someone-else")); !apierrors.IsUnauthorized(err) {
		t.Errorf("token for another audience: %v; want 401", err)
	}
}

func TestBadAuthenticationConfigFailsStartup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "authn.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer:\n    url: http://insecure\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := testenv.New(context.Background(), t.TempDir(), testenv.WithOptions(func(o *options.Options) { o.Authentication.AuthenticationConfig = file }))
	if err == nil || !strings.Contains(err.Error(), "--authentication-config") || !strings.Contains(err.Error(), "jwt[0].issuer.url") {
		t.Fatalf("starting with an invalid authentication config: %v; want an error naming the file and the field", err)
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
