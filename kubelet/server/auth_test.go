package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/client-go/kubernetes"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	"k8s.io/client-go/rest"

	"github.com/strata-dev/strata/nucleus/pki"
)

// nucleusUser is the CN of the nucleus' kubelet client certificate.
const nucleusUser = "strata:kubelet-client"

// nucleusAndMasters allows the nucleus and system:masters everything.
var nucleusAndMasters = authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.GetUser().GetName() == nucleusUser || slices.Contains(a.GetUser().GetGroups(), user.SystemPrivilegedGroup) {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
})

// allowAllAuth authenticates every request as admin and allows it.
type allowAllAuth struct{}

func (allowAllAuth) AuthenticateRequest(*http.Request) (*authenticator.Response, bool, error) {
	return &authenticator.Response{User: &user.DefaultInfo{Name: "admin"}}, true, nil
}
func (allowAllAuth) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionAllow, "", nil
}

var allowAll allowAllAuth

// goodToken is the one token the fake TokenReview accepts, for
// system:serviceaccount:default:metrics.
const goodToken = "good-token"

// fakeAPIServer answers TokenReviews and SubjectAccessReviews as review
// and access say, over HTTP as the webhooks expect.
func fakeAPIServer(t *testing.T, review func(*authenticationv1.TokenReview), access func(*authorizationv1.SubjectAccessReview)) *kubernetes.Clientset {
	t.Helper()
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, r *http.Request, obj any, fill func()) {
		if err := json.NewDecoder(r.Body).Decode(obj); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fill()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(obj)
	}
	mux.HandleFunc("POST /apis/authentication.k8s.io/v1/tokenreviews", func(w http.ResponseWriter, r *http.Request) {
		var tr authenticationv1.TokenReview
		answer(w, r, &tr, func() { review(&tr) })
	})
	mux.HandleFunc("POST /apis/authorization.k8s.io/v1/subjectaccessreviews", func(w http.ResponseWriter, r *http.Request) {
		var sar authorizationv1.SubjectAccessReview
		answer(w, r, &sar, func() { access(&sar) })
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return kubernetes.NewForConfigOrDie(&rest.Config{Host: ts.URL})
}

// tokenReviews is a fake TokenReview API that accepts goodToken.
func tokenReviews(t *testing.T) authenticationv1client.AuthenticationV1Interface {
	t.Helper()
	return fakeAPIServer(t, func(tr *authenticationv1.TokenReview) {
		if tr.Spec.Token == goodToken {
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
				Username: "system:serviceaccount:default:metrics", Groups: []string{"system:serviceaccounts", "system:authenticated"}}}
		}
	}, nil).AuthenticationV1()
}

func TestRequestAttributes(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		verb         string
		subresources []string
	}{
		{"GET", "/pods", "get", []string{"pods", "proxy"}},
		{"GET", "/pods/", "get", []string{"pods", "proxy"}},
		{"GET", "/runningpods/", "get", []string{"pods", "proxy"}},
		{"GET", "/healthz", "get", []string{"healthz", "proxy"}},
		{"GET", "/healthz/syncloop", "get", []string{"healthz", "proxy"}},
		{"GET", "/configz", "get", []string{"configz", "proxy"}},
		{"GET", "/statusz", "get", []string{"statusz", "proxy"}},
		{"GET", "/stats/summary", "get", []string{"stats"}},
		{"GET", "/stats", "get", []string{"stats"}},
		{"GET", "/statsx", "get", []string{"proxy"}},
		{"GET", "/metrics", "get", []string{"metrics"}},
		{"GET", "/metrics/cadvisor", "get", []string{"metrics"}},
		{"GET", "/logs/syslog", "get", []string{"log"}},
		{"POST", "/checkpoint/default/web/app", "create", []string{"checkpoint"}},
		{"GET", "/containerLogs/default/web/app", "get", []string{"proxy"}},
		{"POST", "/exec/default/web/app", "create", []string{"proxy"}},
		{"GET", "/exec/default/web/app", "get", []string{"proxy"}}, // WebSocket
		{"POST", "/attach/default/web/uid/app", "create", []string{"proxy"}},
		{"POST", "/portForward/default/web", "create", []string{"proxy"}},
		{"POST", "/run/default/web/app", "create", []string{"proxy"}},
		{"GET", "/spec/", "get", []string{"proxy"}}, // no such endpoint any more
		{"PUT", "/pods", "update", []string{"pods", "proxy"}},
		{"PATCH", "/x", "patch", []string{"proxy"}},
		{"DELETE", "/x", "delete", []string{"proxy"}},
		{"HEAD", "/healthz", "", []string{"healthz", "proxy"}},
		{"OPTIONS", "/x", "", []string{"proxy"}},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			u := &user.DefaultInfo{Name: "bob"}
			var want []authorizer.Attributes
			for _, sub := range tt.subresources {
				want = append(want, authorizer.AttributesRecord{User: u, Verb: tt.verb, APIVersion: "v1", Resource: "nodes",
					Subresource: sub, Name: "n1", ResourceRequest: true, Path: tt.path})
			}
			got := RequestAttributes("n1", u, httptest.NewRequest(tt.method, tt.path+"?x=1", nil))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RequestAttributes (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeAuthz allows the listed user/subresource pairs, fails for user
// "broken", and records what it was asked.
type fakeAuthz struct {
	mu    sync.Mutex
	allow map[[2]string]bool
	asked []string
}

func (f *fakeAuthz) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, a.GetVerb()+" "+a.GetResource()+"/"+a.GetSubresource()+" "+a.GetName())
	if a.GetUser().GetName() == "broken" {
		return authorizer.DecisionNoOpinion, "", errors.New("the API server is down")
	}
	if f.allow[[2]string{a.GetUser().GetName(), a.GetSubresource()}] {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "no rule", nil
}

// headerAuthn authenticates the user named by the X-User header; "error"
// makes it fail.
var headerAuthn = authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
	name := r.Header.Get("X-User")
	switch name {
	case "":
		return nil, false, nil
	case "error":
		return nil, false, errors.New("TokenReview failed")
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: name, Groups: []string{user.AllAuthenticated}}}, true, nil
})

func TestWithAuth(t *testing.T) {
	for _, tt := range []struct {
		name, who, method, path string
		nilAuthn, nilAuthz      bool
		code                    int
		body                    string
		asked                   []string
	}{
		{name: "anonymous", method: "GET", path: "/healthz", code: 401, body: "Unauthorized"},
		{name: "authentication fails", who: "error", method: "GET", path: "/healthz", code: 401, body: "Unauthorized"},
		{name: "no authenticator", who: "alice", nilAuthn: true, method: "GET", path: "/healthz", code: 401, body: "Unauthorized"},
		{name: "fine-grained", who: "metrics", method: "GET", path: "/healthz", code: 200, body: "ok",
			asked: []string{"get nodes/healthz n1"}},
		{name: "falls back to proxy", who: "alice", method: "GET", path: "/healthz", code: 200, body: "ok",
			asked: []string{"get nodes/healthz n1", "get nodes/proxy n1"}},
		{name: "pods denied", who: "bob", method: "GET", path: "/pods", code: 403,
			body:  "Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[pods proxy])\n",
			asked: []string{"get nodes/pods n1", "get nodes/proxy n1"}},
		{name: "exec denied", who: "bob", method: "POST", path: "/exec/default/web/app", code: 403,
			body:  "Forbidden (user=bob, verb=create, resource=nodes, subresource(s)=[proxy])\n",
			asked: []string{"create nodes/proxy n1"}},
		{name: "stats denied", who: "alice", method: "GET", path: "/stats/summary", code: 403,
			body:  "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[stats])\n",
			asked: []string{"get nodes/stats n1"}},
		{name: "no authorizer", who: "alice", nilAuthz: true, method: "GET", path: "/healthz", code: 403,
			body: "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[healthz proxy])\n"},
		{name: "authorizer fails", who: "broken", method: "GET", path: "/stats/summary", code: 500,
			body:  "Authorization error (user=broken, verb=get, resource=nodes, subresource=stats)",
			asked: []string{"get nodes/stats n1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			authz := &fakeAuthz{allow: map[[2]string]bool{{"metrics", "healthz"}: true, {"alice", "proxy"}: true}}
			cfg := Config{NodeName: "n1", Pods: podList{}, Stats: fakeStats{}, Authenticator: headerAuthn, Authorizer: authz}
			if tt.nilAuthn {
				cfg.Authenticator = nil
			}
			if tt.nilAuthz {
				cfg.Authorizer = nil
			}
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.who != "" {
				r.Header.Set("X-User", tt.who)
			}
			w := httptest.NewRecorder()
			New(cfg).Handler().ServeHTTP(w, r)
			if w.Code != tt.code || w.Body.String() != tt.body {
				t.Errorf("%s %s as %q = %d %q, want %d %q", tt.method, tt.path, tt.who, w.Code, w.Body.String(), tt.code, tt.body)
			}
			if diff := cmp.Diff(tt.asked, authz.asked); diff != "" {
				t.Errorf("authorizer asked (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthentication runs the real authenticator over TLS: certificates of
// the client CA, TokenReview-checked bearer tokens, nothing else.
func TestAuthentication(t *testing.T) {
	e := start(t)
	for _, tt := range []struct {
		who, path, want string
		code            int
	}{
		{who: "nucleus", path: "/healthz", code: 200, want: "ok"},
		{who: "admin", path: "/healthz", code: 200, want: "ok"},
		{who: "bob", path: "/pods", code: 403, want: "Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[pods proxy])\n"},
		{who: "bob", path: "/stats/summary", code: 403, want: "Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[stats])\n"},
	} {
		code, body := e.get(t, tt.who, tt.path)
		if code != tt.code || body != tt.want {
			t.Errorf("%s GET %s = %d %q, want %d %q", tt.who, tt.path, code, body, tt.code, tt.want)
		}
	}

	get := func(cfg *rest.Config) (int, string) {
		t.Helper()
		client, err := rest.HTTPClientFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Get(e.url + "/pods")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	anonymous := e.config("nucleus")
	anonymous.CertFile, anonymous.KeyFile = "", ""
	if code, body := get(anonymous); code != 401 || body != "Unauthorized" {
		t.Errorf("GET without credentials = %d %q, want 401 Unauthorized", code, body)
	}

	// A certificate of another CA, even with the nucleus' name, is not
	// believed.
	other := pki.Dir(t.TempDir())
	otherCA, _ := other.EnsureCA()
	if err := other.WriteClientCert(otherCA, "x", nucleusUser, nil); err != nil {
		t.Fatal(err)
	}
	foreign := e.config("nucleus")
	foreign.CertFile, foreign.KeyFile = other.CertFile("x"), other.KeyFile("x")
	if code, body := get(foreign); code != 401 || body != "Unauthorized" {
		t.Errorf("GET with a foreign certificate = %d %q, want 401 Unauthorized", code, body)
	}

	// Bearer tokens: what the TokenReview says.
	withToken := func(token string) *rest.Config {
		cfg := rest.CopyConfig(anonymous)
		cfg.BearerToken = token
		return cfg
	}
	if code, body := get(withToken("bad-token")); code != 401 || body != "Unauthorized" {
		t.Errorf("GET with a bad token = %d %q, want 401 Unauthorized", code, body)
	}
	if code, body := get(withToken(goodToken)); code != 403 ||
		body != "Forbidden (user=system:serviceaccount:default:metrics, verb=get, resource=nodes, subresource(s)=[pods proxy])\n" {
		t.Errorf("GET with a token = %d %q", code, body)
	}
}

// TestDelegation checks what the authenticator and authorizer ask the API
// server, and that they cache the answers.
func TestDelegation(t *testing.T) {
	var reviews, accessReviews []string
	var mu sync.Mutex
	client := fakeAPIServer(t, func(tr *authenticationv1.TokenReview) {
		mu.Lock()
		reviews = append(reviews, tr.Spec.Token)
		mu.Unlock()
		tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{
			Username: "system:serviceaccount:ns:sa", UID: "uid-1", Groups: []string{"system:serviceaccounts"}}}
	}, func(sar *authorizationv1.SubjectAccessReview) {
		ra := sar.Spec.ResourceAttributes
		mu.Lock()
		accessReviews = append(accessReviews, strings.Join([]string{sar.Spec.User, sar.Spec.UID, strings.Join(sar.Spec.Groups, ","),
			ra.Verb, ra.Version, ra.Resource, ra.Subresource, ra.Name}, " "))
		mu.Unlock()
		sar.Status.Allowed = ra.Subresource == "proxy"
	})
	authn, err := NewAuthenticator(AuthenticatorConfig{ClientCA: testCA(t), TokenReviews: client.AuthenticationV1()})
	if err != nil {
		t.Fatal(err)
	}
	authz, err := NewAuthorizer(AuthorizerConfig{SubjectAccessReviews: client.AuthorizationV1()})
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{NodeName: "n1", Pods: podList{}, Authenticator: authn, Authorizer: authz}).Handler()
	for range 3 {
		r := httptest.NewRequest("GET", "/pods", nil)
		r.Header.Set("Authorization", "Bearer t1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("GET /pods = %d %s", w.Code, w.Body)
		}
	}
	if diff := cmp.Diff([]string{"t1"}, reviews); diff != "" {
		t.Errorf("TokenReviews (-want +got):\n%s", diff)
	}
	// pods is not allowed, proxy is: both answers are cached.
	want := []string{
		"system:serviceaccount:ns:sa uid-1 system:serviceaccounts,system:authenticated get v1 nodes pods n1",
		"system:serviceaccount:ns:sa uid-1 system:serviceaccounts,system:authenticated get v1 nodes proxy n1",
	}
	if diff := cmp.Diff(want, accessReviews); diff != "" {
		t.Errorf("SubjectAccessReviews (-want +got):\n%s", diff)
	}
}

func testCA(t *testing.T) dynamiccertificates.CAContentProvider {
	t.Helper()
	dir := pki.Dir(t.TempDir())
	if _, err := dir.EnsureCA(); err != nil {
		t.Fatal(err)
	}
	ca, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca-bundle", dir.CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
