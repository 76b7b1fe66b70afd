// Package integration drives a real nucleus (nucleus/testenv) through the
// clients layers and users have: client-go's typed, dynamic and discovery
// clients, controller-runtime's client and raw HTTP.
//
// The package shares one nucleus, started in TestMain; tests that restart the
// server or compact etcd start their own. Tests of resources the nucleus does
// not serve yet skip (the server answers 404 for their type), so the suite
// grows with the implementation. Any 5xx answer seen by any client fails the
// run.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	corev1 "k8s.io/api/core/v1"

	"github.com/strata-dev/strata/nucleus/options"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// env is the nucleus shared by the package's tests.
var (
	env *testenv.Env
	c   *clients
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrllog.SetLogger(logr.Discard())
	dir, err := os.MkdirTemp("", "strata-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	env, err = testenv.New(context.Background(), dir, quietControllers)
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the nucleus: %v\n", err)
		return 1
	}
	defer env.Stop()
	c, err = newClients(env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	stopAppsCluster()
	if errs := serverErrors.list(); len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the server answered %d request(s) with a 5xx status:\n", len(errs))
		for _, e := range errs {
			fmt.Fprintf(os.Stderr, "  %s\n", e)
		}
		code = 1
	}
	return code
}

// quietControllers turns off the controller that puts the
// default ServiceAccount and the kube-root-ca.crt ConfigMap into every
// namespace: many tests here assert the exact content of a fresh namespace
// (watch event sequences, page sizes, remainingItemCount). The controller's
// own test starts a nucleus with it. The scheduler is off too: it would write
// the status of the pods tests create (and bind them to other tests' nodes);
// scheduler_test.go starts its own nucleus.
var quietControllers = testenv.WithOptions(func(o *options.Options) {
	o.Controllers = []string{"*", "-serviceaccount", "-scheduler"}
})

// clients are the ways tests talk to a nucleus. Every one of them records
// 5xx answers in serverErrors.
type clients struct {
	config  *rest.Config
	kube    kubernetes.Interface
	dynamic dynamic.Interface
	ctrl    ctrlclient.Client
	http    *http.Client
	url     string
}

func newClients(e *testenv.Env) (*clients, error) {
	cfg := rest.CopyConfig(e.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return recordServerErrors{rt} })
	// Tests look at warnings themselves; keep them out of the output.
	cfg.WarningHandler = rest.NoWarnings{}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctrl, err := ctrlclient.New(cfg, ctrlclient.Options{})
	if err != nil {
		return nil, err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{config: cfg, kube: kube, dynamic: dyn, ctrl: ctrl, http: hc, url: e.URL}, nil
}

// serverErrors collects the requests the server answered with 5xx.
var serverErrors errorLog

type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, s)
}

func (l *errorLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

type recordServerErrors struct{ next http.RoundTripper }

func (r recordServerErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 500 {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	serverErrors.add(fmt.Sprintf("%s %s → %d: %s", req.Method, req.URL, resp.StatusCode, strings.TrimSpace(string(body))))
	return resp, nil
}

// served remembers which resources the nucleus serves.
var served sync.Map // schema.GroupVersionResource → bool

// requireResource skips the test if the nucleus does not serve gvr yet,
// that is if listing it answers 404.
func requireResource(t testing.TB, gvr schema.GroupVersionResource) {
	t.Helper()
	if ok, known := served.Load(gvr); known {
		if !ok.(bool) {
			t.Skipf("%s is not served by the nucleus yet (404)", gvr.GroupResource())
		}
		return
	}
	_, err := c.dynamic.Resource(gvr).List(context.Background(), metav1.ListOptions{Limit: 1})
	switch {
	case err == nil:
		served.Store(gvr, true)
	case apierrors.IsNotFound(err):
		served.Store(gvr, false)
		t.Skipf("%s is not served by the nucleus yet (404)", gvr.GroupResource())
	default:
		t.Fatalf("listing %s: %v", gvr.GroupResource(), err)
	}
}

// newNamespace creates a namespace for one test. The nucleus stops at the
// end of the run, so it is not deleted.
func newNamespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "it-" + rand.String(8)}}
	if _, err := c.kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns.Name, err)
	}
	return ns.Name
}

// rawResponse is an answer to a raw HTTP request.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// do sends a raw request with the admin credentials.
func (cl *clients) do(t testing.TB, method, path, contentType string, body []byte) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, cl.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := cl.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// warningRecorder collects the warnings of the requests of a client.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (w *warningRecorder) HandleWarningHeader(code int, agent string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.warnings = append(w.warnings, text)
}

func (w *warningRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.warnings...)
}
