package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/strata-dev/strata/nucleus/authorization/webhook"
	"github.com/strata-dev/strata/nucleus/options"
	"github.com/strata-dev/strata/nucleus/pki"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// userClient is a client authenticating as user in groups with a client
// certificate of e's CA.
func userClient(t testing.TB, e *testenv.Env, user string, groups ...string) kubernetes.Interface {
	t.Helper()
	cfg, err := e.UserConfig(user, groups...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return recordServerErrors{rt} })
	cfg.WarningHandler = rest.NoWarnings{}
	return kubernetes.NewForConfigOrDie(cfg)
}

func adminClient(t testing.TB, e *testenv.Env) kubernetes.Interface {
	t.Helper()
	cfg := rest.CopyConfig(e.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return recordServerErrors{rt} })
	return kubernetes.NewForConfigOrDie(cfg)
}

// eventually polls cond for up to 20 seconds.
func eventually(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		ok, err := cond()
		last = err
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: timed out (last error: %v)", what, last)
	}
}

func TestAuthorizationPlainUserIsForbidden(t *testing.T) {
	alice := userClient(t, env, "alice")
	_, err := alice.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("alice listing pods: got %v, want 403", err)
	}
	want := `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"`
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err.Error(), want)
	}
	// Discovery and health are still open to her.
	if _, err := alice.Discovery().ServerGroups(); err != nil {
		t.Errorf("alice reading discovery: %v", err)
	}
	if _, err := alice.Discovery().ServerVersion(); err != nil {
		t.Errorf("alice reading /version: %v", err)
	}
}

func TestAuthorizationNode(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	node := "node-" + ns
	for _, name := range []string{"used", "unused"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: map[string]string{"k": "v"}}
		if _, err := c.kube.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"k": "v"}}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{Name: "app", Image: "busybox", EnvFrom: []corev1.EnvFromSource{
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
			}}},
			Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "used"}}}},
		},
	}
	if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	other := pod.DeepCopy()
	other.Name, other.Spec.NodeName = "elsewhere", "other-"+node
	if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	kubelet := userClient(t, env, "system:node:"+node, "system:nodes")
	// The authorizer learns about the pod through an informer.
	eventually(t, "the node reads the secret its pod uses", func() (bool, error) {
		_, err := kubelet.CoreV1().Secrets(ns).Get(ctx, "used", metav1.GetOptions{})
		return err == nil, err
	})
	if _, err := kubelet.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{}); err != nil {
		t.Errorf("the node reading the configmap its pod uses: %v", err)
	}
	_, err := kubelet.CoreV1().Secrets(ns).Get(ctx, "unused", metav1.GetOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("the node reading a secret no pod on it uses: got %v, want 403", err)
	}
	if _, err := kubelet.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node}); err != nil {
		t.Errorf("the node listing its pods: %v", err)
	}
	if _, err := kubelet.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the node listing all pods: got %v, want 403", err)
	}
	if _, err := kubelet.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Errorf("the node reading its pod: %v", err)
	}
	if _, err := kubelet.CoreV1().Pods(ns).Get(ctx, "elsewhere", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the node reading a pod of another node: got %v, want 403", err)
	}
	// Its own Node, not another's.
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}
	if _, err := kubelet.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Errorf("the node registering itself: %v", err)
	}
	if _, err := c.kube.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "other-" + node}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kubelet.CoreV1().Nodes().Delete(ctx, "other-"+node, metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the node deleting another node: got %v, want 403", err)
	}
	if _, err := kubelet.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the node listing namespaces: got %v, want 403", err)
	}
}

// testWebhook is a webhook authorizer answering SubjectAccessReviews: it
// allows alice to list configmaps and has no opinion on the rest.
type testWebhook struct {
	server *httptest.Server
	ca     []byte
	port   int
}

func startTestWebhook(t *testing.T, hosts ...string) *testWebhook {
	t.Helper()
	dir := pki.Dir(t.TempDir())
	ca, err := dir.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.EnsureServingCert(ca, "webhook", hosts); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sar authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&sar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ra := sar.Spec.ResourceAttributes
		sar.Status = authorizationv1.SubjectAccessReviewStatus{}
		if sar.Spec.User == "alice" && ra != nil && ra.Resource == "configmaps" && ra.Verb == "list" {
			sar.Status.Allowed = true
			sar.Status.Reason = "the test webhook likes alice"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&sar)
	}))
	cert, err := tlsPair(dir.CertFile("webhook"), dir.KeyFile("webhook"))
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = cert
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM, err := os.ReadFile(dir.CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &testWebhook{server: srv, ca: caPEM, port: p}
}

func registration(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: webhook.Namespace, Labels: map[string]string{webhook.Label: "true"}},
		Data:       data,
	}
}

func canListConfigMaps(cs kubernetes.Interface) error {
	_, err := cs.CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	return err
}

func TestAuthorizationWebhook(t *testing.T) {
	e := testenv.Start(t)
	ctx := context.Background()
	admin := adminClient(t, e)
	alice := userClient(t, e, "alice")
	manager := userClient(t, e, "system:serviceaccount:strata-system:manager", "system:serviceaccounts", "system:serviceaccounts:strata-system")
	authz := userClient(t, e, "system:serviceaccount:strata-system:rbac", "system:serviceaccounts", "system:serviceaccounts:strata-system")
	outsider := userClient(t, e, "system:serviceaccount:default:manager", "system:serviceaccounts", "system:serviceaccounts:default")

	// The layer bootstrap rule: before any authorizer is registered, the
	// layers' ServiceAccounts may work, others may not.
	eventually(t, "the layer manager is allowed before an authorizer is registered", func() (bool, error) {
		err := canListConfigMaps(manager)
		return err == nil, err
	})
	if err := canListConfigMaps(outsider); !apierrors.IsForbidden(err) {
		t.Errorf("a ServiceAccount of another namespace: got %v, want 403", err)
	}
	if err := canListConfigMaps(alice); !apierrors.IsForbidden(err) {
		t.Fatalf("alice before registration: got %v, want 403", err)
	}

	wh := startTestWebhook(t, "127.0.0.1", "authz.authz-test.svc")

	t.Run("by URL", func(t *testing.T) {
		reg := registration("test-url", map[string]string{
			"url":                   fmt.Sprintf("https://127.0.0.1:%d/authorize", wh.port),
			"caBundle":              string(wh.ca),
			"timeout":               "5s",
			"exemptServiceAccounts": "rbac",
		})
		if _, err := admin.CoreV1().ConfigMaps(webhook.Namespace).Create(ctx, reg, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice is allowed once the webhook is registered", func() (bool, error) {
			err := canListConfigMaps(alice)
			return err == nil, err
		})
		if _, err := alice.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("alice listing secrets: got %v, want 403", err)
		}
		// The bootstrap grant is gone, except for the exempt account.
		if err := canListConfigMaps(manager); !apierrors.IsForbidden(err) {
			t.Errorf("the layer manager after registration: got %v, want 403", err)
		}
		if err := canListConfigMaps(authz); err != nil {
			t.Errorf("the exempt ServiceAccount after registration: %v", err)
		}
		if err := admin.CoreV1().ConfigMaps(webhook.Namespace).Delete(ctx, reg.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice is refused once the webhook is removed", func() (bool, error) {
			err := canListConfigMaps(alice)
			return apierrors.IsForbidden(err), err
		})
		eventually(t, "the layer manager is allowed again", func() (bool, error) {
			err := canListConfigMaps(manager)
			return err == nil, err
		})
	})

	t.Run("by Service", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "authz-test"}}
		if _, err := admin.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Endpoints and EndpointSlices may not point at loopback addresses
		// (as upstream), so the Service names the test server's host:
		// the nucleus dials localhost:<port> and still expects a
		// certificate for authz.authz-test.svc.
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "authz"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
		}
		if _, err := admin.CoreV1().Services(ns.Name).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		reg := registration("test-service", map[string]string{
			"service":  fmt.Sprintf("authz-test/authz:%d", wh.port),
			"path":     "/authorize",
			"caBundle": string(wh.ca),
		})
		if _, err := admin.CoreV1().ConfigMaps(webhook.Namespace).Create(ctx, reg, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice is allowed through the Service", func() (bool, error) {
			err := canListConfigMaps(alice)
			return err == nil, err
		})
		if err := admin.CoreV1().ConfigMaps(webhook.Namespace).Delete(ctx, reg.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice is refused once the webhook is removed", func() (bool, error) {
			err := canListConfigMaps(alice)
			return apierrors.IsForbidden(err), err
		})
	})

	t.Run("invalid registration is ignored", func(t *testing.T) {
		reg := registration("test-bad", map[string]string{"url": "http://127.0.0.1:1/"})
		if _, err := admin.CoreV1().ConfigMaps(webhook.Namespace).Create(ctx, reg, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "an event says the registration is invalid", func() (bool, error) {
			events, err := admin.CoreV1().Events(webhook.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=test-bad"})
			if err != nil {
				return false, err
			}
			for _, e := range events.Items {
				if e.Reason == "InvalidRegistration" && e.Type == corev1.EventTypeWarning {
					t.Logf("event: %s", e.Message)
					return true, nil
				}
			}
			return false, nil
		})
		if err := canListConfigMaps(manager); err != nil {
			t.Errorf("the layer manager with only an invalid registration: %v", err)
		}
		if err := canListConfigMaps(alice); !apierrors.IsForbidden(err) {
			t.Errorf("alice with only an invalid registration: got %v, want 403", err)
		}
	})

	t.Run("unreachable with failurePolicy Deny", func(t *testing.T) {
		reg := registration("test-down", map[string]string{
			"url":                   "https://127.0.0.1:1/",
			"failurePolicy":         "Deny",
			"timeout":               "1s",
			"exemptServiceAccounts": "rbac",
		})
		if _, err := admin.CoreV1().ConfigMaps(webhook.Namespace).Create(ctx, reg, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice is refused with a 403", func() (bool, error) {
			err := canListConfigMaps(alice)
			var status apierrors.APIStatus
			if errors.As(err, &status) && status.Status().Code == http.StatusForbidden && status.Status().Message != "" {
				return true, nil
			}
			return false, err
		})
		if err := canListConfigMaps(authz); err != nil {
			t.Errorf("the exempt ServiceAccount with its authorizer down: %v", err)
		}
		// Admins are never locked out.
		if err := canListConfigMaps(admin); err != nil {
			t.Errorf("admin with the authorizer down: %v", err)
		}
		if err := admin.CoreV1().ConfigMaps(webhook.Namespace).Delete(ctx, reg.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAuthorizationDefaultAllow(t *testing.T) {
	e := testenv.Start(t, testenv.WithOptions(func(o *options.Options) { o.Authorization.Default = "allow" }))
	alice := userClient(t, e, "alice")
	if _, err := alice.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Errorf("alice with --authorization-default=allow: %v", err)
	}
	anon := kubernetes.NewForConfigOrDie(e.AnonymousConfig())
	if _, err := anon.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("anonymous with --authorization-default=allow: got %v, want 403", err)
	}
	if _, err := anon.Discovery().ServerVersion(); err != nil {
		t.Errorf("anonymous reading /version: %v", err)
	}
}

func sar(user string, groups []string, verb, resource, ns string) *authorizationv1.SubjectAccessReview {
	return &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user, Groups: groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Namespace: ns},
	}}
}

func TestAuthorizationReviews(t *testing.T) {
	ctx := context.Background()
	reviews := c.kube.AuthorizationV1()

	t.Run("SubjectAccessReview", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			review  *authorizationv1.SubjectAccessReview
			allowed bool
		}{
			{"plain user", sar("alice", []string{"system:authenticated"}, "list", "pods", "default"), false},
			{"master", sar("root", []string{"system:masters"}, "delete", "nodes", ""), true},
			{"node own lease", sar("system:node:n1", []string{"system:nodes"}, "update", "leases", "kube-node-lease"), false},
			{"node reads nodes", sar("system:node:n1", []string{"system:nodes"}, "list", "nodes", ""), true},
			{"public path", &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: "alice", NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/healthz", Verb: "get"}}}, true},
		} {
			got, err := reviews.SubjectAccessReviews().Create(ctx, tc.review, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got.Status.Allowed != tc.allowed {
				t.Errorf("%s: allowed = %v, want %v (%+v)", tc.name, got.Status.Allowed, tc.allowed, got.Status)
			}
		}
		lease := sar("system:node:n1", []string{"system:nodes"}, "update", "leases", "kube-node-lease")
		lease.Spec.ResourceAttributes.Group, lease.Spec.ResourceAttributes.Name = "coordination.k8s.io", "n1"
		got, err := reviews.SubjectAccessReviews().Create(ctx, lease, metav1.CreateOptions{})
		if err != nil || !got.Status.Allowed {
			t.Errorf("node updating its lease: %v %+v", err, got)
		}
	})

	t.Run("SubjectAccessReview validation", func(t *testing.T) {
		_, err := reviews.SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice"}}, metav1.CreateOptions{})
		assertInvalid(t, err, "spec.resourceAttributes")
		both := sar("alice", nil, "get", "pods", "default")
		both.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: "/healthz", Verb: "get"}
		_, err = reviews.SubjectAccessReviews().Create(ctx, both, metav1.CreateOptions{})
		assertInvalid(t, err, "spec.nonResourceAttributes")
		_, err = reviews.SubjectAccessReviews().Create(ctx, sar("", nil, "get", "pods", "default"), metav1.CreateOptions{})
		assertInvalid(t, err, "spec.user")
	})

	t.Run("LocalSubjectAccessReview", func(t *testing.T) {
		l := &authorizationv1.LocalSubjectAccessReview{Spec: sar("root", []string{"system:masters"}, "get", "pods", "default").Spec}
		got, err := reviews.LocalSubjectAccessReviews("default").Create(ctx, l, metav1.CreateOptions{})
		if err != nil || !got.Status.Allowed {
			t.Fatalf("master: %v %+v", err, got)
		}
		l.Spec.ResourceAttributes.Namespace = "other"
		_, err = reviews.LocalSubjectAccessReviews("default").Create(ctx, l, metav1.CreateOptions{})
		assertInvalid(t, err, "spec.resourceAttributes.namespace")
	})

	t.Run("SelfSubjectAccessReview", func(t *testing.T) {
		alice := userClient(t, env, "alice")
		ssar := func(verb, resource string) *authorizationv1.SelfSubjectAccessReview {
			return &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource, Namespace: "default"}}}
		}
		got, err := alice.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar("list", "pods"), metav1.CreateOptions{})
		if err != nil || got.Status.Allowed {
			t.Errorf("alice list pods: %v %+v", err, got)
		}
		got, err = reviews.SelfSubjectAccessReviews().Create(ctx, ssar("list", "pods"), metav1.CreateOptions{})
		if err != nil || !got.Status.Allowed {
			t.Errorf("admin list pods: %v %+v", err, got)
		}
	})

	t.Run("SelfSubjectRulesReview", func(t *testing.T) {
		ssrr := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}
		got, err := reviews.SelfSubjectRulesReviews().Create(ctx, ssrr, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Status.ResourceRules) == 0 || got.Status.ResourceRules[0].Verbs[0] != "*" || got.Status.Incomplete {
			t.Errorf("admin rules: %+v", got.Status)
		}
		alice := userClient(t, env, "alice")
		got, err = alice.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, ssrr, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got.Status.ResourceRules {
			for _, res := range r.Resources {
				if res == "pods" || res == "*" {
					t.Errorf("alice has a rule for %s: %+v", res, r)
				}
			}
		}
		if len(got.Status.NonResourceRules) == 0 {
			t.Errorf("alice has no non-resource rules: %+v", got.Status)
		}
		_, err = alice.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{}, metav1.CreateOptions{})
		if !apierrors.IsBadRequest(err) {
			t.Errorf("no namespace: got %v, want 400", err)
		}
	})
}

func assertInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v, want 422", err)
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		t.Fatalf("no details in %v", err)
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == field {
			return
		}
	}
	t.Errorf("no cause for %s in %+v", field, status.Status().Details.Causes)
}

func tlsPair(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
}
