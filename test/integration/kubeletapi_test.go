package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"
	utilptr "k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/server"
	"github.com/strata-dev/strata/kubelet/server/fakeruntime"
	"github.com/strata-dev/strata/nucleus/kubeletclient"
	"github.com/strata-dev/strata/nucleus/options"
	"github.com/strata-dev/strata/nucleus/pki"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// apiPods is a kubelet's view of its pods: those bound to its node, as
// the API has them.
type apiPods struct {
	client kubernetes.Interface
	node   string
}

func (p apiPods) Pods() []*corev1.Pod {
	list, err := p.client.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", p.node).String(),
	})
	if err != nil {
		return nil
	}
	out := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out
}

// fakeKubelet is a kubelet API server with a fake runtime, serving a
// certificate signed by ca for 127.0.0.1.
type fakeKubelet struct {
	runtime *fakeruntime.Runtime
	port    int
	logDir  string
}

// startFakeKubelet runs a kubelet API server for node whose serving
// certificate servingCA signs. As a real kubelet, it accepts client
// certificates of the cluster's CA and bearer tokens, and asks the nucleus
// (TokenReview, SubjectAccessReview) with the node's credentials.
func startFakeKubelet(t *testing.T, e *testenv.Env, client kubernetes.Interface, node string, servingCA *pki.CA, clusterPKI pki.Dir) *fakeKubelet {
	t.Helper()
	dir := pki.Dir(t.TempDir())
	if err := dir.EnsureServingCert(servingCA, "kubelet", []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	apiCerts, err := server.LoadCertificates(dir.CertFile("kubelet"), dir.KeyFile("kubelet"), clusterPKI.CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := apiCerts.TLSConfig()
	nodeConfig, err := e.UserConfig("system:node:"+node, "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	nodeClient := kubernetes.NewForConfigOrDie(nodeConfig)
	authn, err := server.NewAuthenticator(server.AuthenticatorConfig{ClientCA: apiCerts.ClientCA(), TokenReviews: nodeClient.AuthenticationV1()})
	if err != nil {
		t.Fatal(err)
	}
	authz, err := server.NewAuthorizer(server.AuthorizerConfig{SubjectAccessReviews: nodeClient.AuthorizationV1()})
	if err != nil {
		t.Fatal(err)
	}
	rt := fakeruntime.New()
	t.Cleanup(rt.Close)
	s := server.New(server.Config{NodeName: node, Authenticator: authn, Authorizer: authz,
		Pods: apiPods{client: client, node: node}, Runtime: rt, LogPollInterval: 20 * time.Millisecond})
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	ts.TLS = tlsConfig
	ts.StartTLS()
	t.Cleanup(ts.Close)
	port, _ := strconv.Atoi(ts.URL[strings.LastIndex(ts.URL, ":")+1:])
	return &fakeKubelet{runtime: rt, port: port, logDir: t.TempDir()}
}

// runContainer gives the fake runtime a running container with a log.
func (k *fakeKubelet) runContainer(t *testing.T, id string, log ...string) {
	t.Helper()
	path := filepath.Join(k.logDir, id+".log")
	if err := os.WriteFile(path, []byte(strings.Join(log, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	k.runtime.SetContainer(id, fakeruntime.Container{LogPath: path, Running: true})
}

func logLine(sec int, stream, text string) string {
	return time.Date(2026, 1, 1, 0, 0, sec, 0, time.UTC).Format(time.RFC3339Nano) + " " + stream + " F " + text + "\n"
}

// TestKubeletAPI runs the pod subresources and nodes/proxy of a nucleus
// against a kubelet API server with a fake runtime, over real TLS with the
// nucleus' kubelet client certificate; the kubelet authorizes the nucleus
// and direct clients by asking the nucleus.
func TestKubeletAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte("admin-token,token-admin,uid-admin,\"system:masters\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := testenv.Start(t, testenv.WithOptions(func(o *options.Options) {
		o.Controllers = []string{"serviceaccount"}
		o.Authentication.TokenAuthFile = tokens
	}))
	ctx := t.Context()
	client := kubernetes.NewForConfigOrDie(e.Config)
	clusterPKI := pki.Dir(filepath.Join(e.DataDir, "pki"))
	clusterCA, err := clusterPKI.LoadCA()
	if err != nil {
		t.Fatal(err)
	}
	const nodeName = "kubelet-api-node"
	kubelet := startFakeKubelet(t, e, client, nodeName, clusterCA, clusterPKI)
	addNode(t, client, nodeName, kubelet.port)
	ns := "default"
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatal("no default ServiceAccount")
	}

	// runPod creates a pod on the node whose containers run in the fake
	// runtime, with the status a kubelet reports.
	runPod := func(t *testing.T, name string, containers ...string) *corev1.Pod {
		t.Helper()
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: nodeName}}
		for _, c := range containers {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
		}
		pod, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod.Status.Phase = corev1.PodRunning
		for _, c := range containers {
			id := name + "-" + c
			kubelet.runContainer(t, id, logLine(0, "stdout", c+" says hello"), logLine(1, "stderr", c+" warns"), logLine(2, "stdout", c+" says bye"))
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: c, Image: "busybox", ImageID: "sha256:busybox", Ready: true, ContainerID: "containerd://" + id,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
			})
		}
		pod, err = client.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		kubelet.runtime.AddSandbox("sb-"+name, string(pod.UID))
		return pod
	}
	// logs reads a log as kubectl does (a stream; errors decoded from the
	// Status the server sends).
	logs := func(name string, opts *corev1.PodLogOptions) (string, error) {
		stream, err := client.CoreV1().Pods(ns).GetLogs(name, opts).Stream(ctx)
		if err != nil {
			return "", err
		}
		defer stream.Close()
		raw, err := io.ReadAll(stream)
		return string(raw), err
	}

	web := runPod(t, "web", "app")
	runPod(t, "two", "a", "b")

	t.Run("logs", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			opts corev1.PodLogOptions
			want string
		}{
			{name: "default container", want: "app says hello\napp warns\napp says bye\n"},
			{name: "tail", opts: corev1.PodLogOptions{TailLines: utilptr.To[int64](1)}, want: "app says bye\n"},
			{name: "timestamps and limit", opts: corev1.PodLogOptions{Container: "app", Timestamps: true, LimitBytes: utilptr.To[int64](34)},
				want: "2026-01-01T00:00:00.000000000Z app"},
			{name: "since time", opts: corev1.PodLogOptions{SinceTime: &metav1.Time{Time: time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)}},
				want: "app warns\napp says bye\n"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := logs("web", &tt.opts)
				if err != nil || got != tt.want {
					t.Errorf("logs = %q, %v; want %q", got, err, tt.want)
				}
			})
		}
	})

	t.Run("log errors", func(t *testing.T) {
		if _, err := logs("two", &corev1.PodLogOptions{}); !apierrors.IsBadRequest(err) ||
			err.Error() != "a container name must be specified for pod two, choose one of: [a b]" {
			t.Errorf("logs of a pod with two containers: %v", err)
		}
		if got, err := logs("two", &corev1.PodLogOptions{Container: "b", TailLines: utilptr.To[int64](1)}); err != nil || got != "b says bye\n" {
			t.Errorf("logs of container b = %q, %v", got, err)
		}
		if _, err := logs("two", &corev1.PodLogOptions{Container: "c"}); !apierrors.IsBadRequest(err) || err.Error() != "container c is not valid for pod two" {
			t.Errorf("logs of an unknown container: %v", err)
		}
		if _, err := logs("web", &corev1.PodLogOptions{TailLines: utilptr.To[int64](-1)}); !apierrors.IsInvalid(err) ||
			!strings.Contains(err.Error(), "tailLines: Invalid value: -1: must be greater than or equal to 0") {
			t.Errorf("logs with negative tailLines: %v", err)
		}
		if _, err := logs("web", &corev1.PodLogOptions{Previous: true}); !apierrors.IsBadRequest(err) ||
			err.Error() != `previous terminated container "app" in pod "web" not found` {
			t.Errorf("previous logs: %v", err)
		}
		if _, err := logs("missing", &corev1.PodLogOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("logs of a missing pod: %v", err)
		}

		// A container still waiting: the kubelet's message.
		pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pending"}, Spec: corev1.PodSpec{NodeName: nodeName,
			Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
		pending, err := client.CoreV1().Pods(ns).Create(ctx, pending, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pending.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "busybox",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
		if _, err := client.CoreV1().Pods(ns).UpdateStatus(ctx, pending, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs("pending", &corev1.PodLogOptions{}); !apierrors.IsBadRequest(err) ||
			err.Error() != `container "app" in pod "pending" is waiting to start: ContainerCreating` {
			t.Errorf("logs of a waiting container: %v", err)
		}

		// Not scheduled: no logs yet, and no streams.
		unscheduled := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "unscheduled"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
		if _, err := client.CoreV1().Pods(ns).Create(ctx, unscheduled, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, err := logs("unscheduled", &corev1.PodLogOptions{}); err != nil || got != "" {
			t.Errorf("logs of an unscheduled pod = %q, %v; want none", got, err)
		}
		if _, _, err := execIn(ctx, e.Config, "unscheduled", "POST", []string{"true"}, nil); err == nil ||
			!strings.Contains(err.Error(), "pod unscheduled does not have a host assigned") {
			t.Errorf("exec in an unscheduled pod: %v", err)
		}

		// Bound to a node that does not exist.
		orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan"}, Spec: corev1.PodSpec{NodeName: "no-such-node",
			Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
		if _, err := client.CoreV1().Pods(ns).Create(ctx, orphan, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs("orphan", &corev1.PodLogOptions{}); !apierrors.IsNotFound(err) || err.Error() != `nodes "no-such-node" not found` {
			t.Errorf("logs of a pod on a missing node: %v", err)
		}

		// Only the authorized.
		dev, err := e.UserConfig("dev")
		if err != nil {
			t.Fatal(err)
		}
		_, err = kubernetes.NewForConfigOrDie(dev).CoreV1().Pods(ns).GetLogs("web", &corev1.PodLogOptions{}).Stream(ctx)
		if !apierrors.IsForbidden(err) {
			t.Errorf("logs as an unauthorized user: %v", err)
		}
	})

	t.Run("follow", func(t *testing.T) {
		stream, err := client.CoreV1().Pods(ns).GetLogs("web", &corev1.PodLogOptions{Follow: true, TailLines: utilptr.To[int64](1)}).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stream)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		next := func() (string, bool) {
			select {
			case l, ok := <-lines:
				return l, ok
			case <-time.After(10 * time.Second):
				t.Fatal("no log line within 10s")
				return "", false
			}
		}
		if l, _ := next(); l != "app says bye" {
			t.Fatalf("first line = %q", l)
		}
		f, err := os.OpenFile(filepath.Join(kubelet.logDir, "web-app.log"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(f, logLine(3, "stdout", "app is back"))
		f.Close()
		if l, _ := next(); l != "app is back" {
			t.Fatalf("followed line = %q", l)
		}
		// The container exits: the stream ends.
		kubelet.runtime.SetContainer("web-app", fakeruntime.Container{LogPath: filepath.Join(kubelet.logDir, "web-app.log")})
		if l, ok := next(); ok {
			t.Fatalf("line %q after the container stopped", l)
		}
		kubelet.runtime.SetContainer("web-app", fakeruntime.Container{LogPath: filepath.Join(kubelet.logDir, "web-app.log"), Running: true})
	})

	t.Run("exec", func(t *testing.T) {
		for _, method := range []string{"POST", "GET"} { // SPDY, WebSocket (translated to SPDY)
			t.Run(method, func(t *testing.T) {
				stdout, stderr, err := execIn(ctx, e.Config, "web", method,
					[]string{"sh", "-c", "read name; echo hello $name; echo oops >&2; exit 7"}, strings.NewReader("strata\n"))
				var exitErr exec.CodeExitError
				if !errors.As(err, &exitErr) || exitErr.Code != 7 {
					t.Errorf("exec error = %v, want exit code 7", err)
				}
				if stdout != "hello strata\n" || stderr != "oops\n" {
					t.Errorf("exec output = %q, %q", stdout, stderr)
				}
				if stdout, _, err := execIn(ctx, e.Config, "web", method, []string{"echo", "fine"}, nil); err != nil || stdout != "fine\n" {
					t.Errorf("exec echo = %q, %v", stdout, err)
				}
			})
		}
		if _, _, err := execIn(ctx, e.Config, "two", "POST", []string{"true"}, nil); err == nil ||
			!strings.Contains(err.Error(), "a container name must be specified for pod two, choose one of: [a b]") {
			t.Errorf("exec in a pod with two containers: %v", err)
		}
	})

	t.Run("attach", func(t *testing.T) {
		u := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name("web").SubResource("attach").
			VersionedParams(&corev1.PodAttachOptions{Stdin: true, Stdout: true}, scheme.ParameterCodec).URL()
		ex, err := remotecommand.NewSPDYExecutor(e.Config, "POST", u)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("ping"), Stdout: &out}); err != nil || out.String() != "ping" {
			t.Errorf("attach = %q, %v", out.String(), err)
		}
	})

	t.Run("port-forward", func(t *testing.T) {
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("pod answers")) }))
		defer target.Close()
		kubelet.runtime.ForwardPort(80, target.Listener.Addr().String())
		u := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(web.Name).SubResource("portforward").URL()

		transport, upgrader, err := spdy.RoundTripperFor(e.Config)
		if err != nil {
			t.Fatal(err)
		}
		spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
		wsDialer, err := portforward.NewSPDYOverWebsocketDialer(u, e.Config)
		if err != nil {
			t.Fatal(err)
		}
		for name, dialer := range map[string]httpstream.Dialer{"SPDY": spdyDialer, "WebSocket": wsDialer} {
			t.Run(name, func(t *testing.T) {
				if got := forwardAndGet(t, dialer, 80); got != "pod answers" {
					t.Errorf("forwarded answer = %q", got)
				}
			})
		}
	})

	t.Run("unreachable and untrusted kubelets", func(t *testing.T) {
		// A kubelet whose serving certificate the cluster CA did not sign.
		otherCA, err := pki.Dir(t.TempDir()).EnsureCA()
		if err != nil {
			t.Fatal(err)
		}
		untrusted := startFakeKubelet(t, e, client, "untrusted-node", otherCA, clusterPKI)
		addNode(t, client, "untrusted-node", untrusted.port)
		// A node whose kubelet does not answer.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		downPort := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		addNode(t, client, "down-node", downPort)

		for _, node := range []string{"untrusted-node", "down-node"} {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "on-" + node}, Spec: corev1.PodSpec{NodeName: node,
				Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
			if _, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := logs("on-untrusted-node", &corev1.PodLogOptions{}); !apierrors.IsServiceUnavailable(err) ||
			!strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Errorf("logs from an untrusted kubelet: %v", err)
		}
		// The client may skip the check: the kubelet still checks the
		// nucleus' certificate and answers (the pod has no container yet).
		if _, err := logs("on-untrusted-node", &corev1.PodLogOptions{InsecureSkipTLSVerifyBackend: true}); !apierrors.IsBadRequest(err) ||
			err.Error() != `container "app" in pod "on-untrusted-node" is not available` {
			t.Errorf("logs from an untrusted kubelet, skipping verification: %v", err)
		}
		if _, err := logs("on-down-node", &corev1.PodLogOptions{}); !apierrors.IsServiceUnavailable(err) ||
			!strings.Contains(err.Error(), "connection refused") {
			t.Errorf("logs from a kubelet that is down: %v", err)
		}
		if _, _, err := execIn(ctx, e.Config, "on-down-node", "POST", []string{"true"}, nil); err == nil ||
			!strings.Contains(err.Error(), "connection refused") {
			t.Errorf("exec on a kubelet that is down: %v", err)
		}
	})

	t.Run("direct clients", func(t *testing.T) {
		// Clients of the kubelet API itself, as a monitoring agent or an
		// administrator with curl would be.
		kubeletURL := "https://127.0.0.1:" + strconv.Itoa(kubelet.port)
		direct := func(cfg *rest.Config) *rest.Config {
			cfg = rest.CopyConfig(cfg)
			cfg.Host = kubeletURL
			cfg.CAData, cfg.CAFile, cfg.ServerName = nil, clusterPKI.CACertFile(), ""
			return cfg
		}
		do := func(t *testing.T, cfg *rest.Config, method, path string) (int, string) {
			t.Helper()
			httpClient, err := rest.HTTPClientFor(cfg)
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, method, kubeletURL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		token, err := client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "default", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		saConfig := direct(e.AnonymousConfig(func(c *rest.Config) { c.BearerToken = token.Status.Token }))
		nodeConfig, err := e.UserConfig("system:node:"+nodeName, "system:nodes")
		if err != nil {
			t.Fatal(err)
		}
		adminToken := direct(e.AnonymousConfig(func(c *rest.Config) { c.BearerToken = "admin-token" }))
		const exec = "/exec/default/web/app?command=echo&command=hi&output=1"
		for _, tt := range []struct {
			name         string
			cfg          *rest.Config
			method, path string
			code         int
			want         string
		}{
			{"anonymous", direct(e.AnonymousConfig()), "GET", "/pods", 401, "Unauthorized"},
			{"anonymous healthz", direct(e.AnonymousConfig()), "GET", "/healthz", 401, "Unauthorized"},
			{"invalid token", direct(e.AnonymousConfig(func(c *rest.Config) { c.BearerToken = "not-a-token" })), "GET", "/pods", 401, "Unauthorized"},
			{"service account pods", saConfig, "GET", "/pods", 403,
				"Forbidden (user=system:serviceaccount:default:default, verb=get, resource=nodes, subresource(s)=[pods proxy])\n"},
			{"service account exec", saConfig, "POST", exec, 403,
				"Forbidden (user=system:serviceaccount:default:default, verb=create, resource=nodes, subresource(s)=[proxy])\n"},
			{"service account logs", saConfig, "GET", "/containerLogs/default/web/app", 403,
				"Forbidden (user=system:serviceaccount:default:default, verb=get, resource=nodes, subresource(s)=[proxy])\n"},
			{"service account healthz", saConfig, "GET", "/healthz", 403,
				"Forbidden (user=system:serviceaccount:default:default, verb=get, resource=nodes, subresource(s)=[healthz proxy])\n"},
			{"the node itself", direct(nodeConfig), "GET", "/pods", 403,
				"Forbidden (user=system:node:kubelet-api-node, verb=get, resource=nodes, subresource(s)=[pods proxy])\n"},
			{"admin certificate", direct(e.Config), "GET", "/healthz", 200, "ok"},
			{"admin token", adminToken, "GET", "/healthz", 200, "ok"},
			{"admin token logs", adminToken, "GET", "/containerLogs/default/web/app?limitBytes=14", 200, "app says hello"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, body := do(t, tt.cfg, tt.method, tt.path)
				if code != tt.code || body != tt.want {
					t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, code, body, tt.code, tt.want)
				}
			})
		}
		// An administrator's /pods is the kubelet's PodList.
		code, body := do(t, direct(e.Config), "GET", "/pods")
		if code != 200 || !strings.Contains(body, `"kind":"PodList"`) || !strings.Contains(body, `"name":"web"`) {
			t.Errorf("GET /pods as admin = %d %.200s", code, body)
		}
		// The nucleus answers the kubelet's questions the same way.
		for _, tt := range []struct {
			user, verb, subresource string
			want                    bool
		}{
			{kubeletclient.ClientUser, "create", "proxy", true},
			{kubeletclient.ClientUser, "get", "stats", true},
			{"system:serviceaccount:default:default", "get", "proxy", false},
		} {
			sar, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: tt.user, Groups: []string{"system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: tt.verb, Version: "v1", Resource: "nodes", Subresource: tt.subresource, Name: nodeName},
			}}, metav1.CreateOptions{})
			if err != nil || sar.Status.Allowed != tt.want {
				t.Errorf("may %s %s nodes/%s? %+v, %v; want %v", tt.user, tt.verb, tt.subresource, sar.Status, err, tt.want)
			}
		}
	})

	t.Run("nodes/proxy", func(t *testing.T) {
		// The node's address is loopback, which nodes/proxy refuses (as
		// upstream: no proxying into the API server's own host).
		err := client.CoreV1().RESTClient().Get().Resource("nodes").Name(nodeName).SubResource("proxy").Suffix("healthz").Do(ctx).Error()
		if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "address not allowed") {
			t.Errorf("nodes/proxy to a loopback node: %v", err)
		}
	})
}

// addNode registers a node whose kubelet listens on 127.0.0.1:port.
func addNode(t *testing.T, client kubernetes.Interface, name string, port int) {
	t.Helper()
	node, err := client.CoreV1().Nodes().Create(t.Context(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name + ".invalid"}, {Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	if _, err := client.CoreV1().Nodes().UpdateStatus(t.Context(), node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// execIn runs command in pod's only container through pods/exec, with
// SPDY (POST) or WebSocket (GET).
func execIn(ctx context.Context, cfg *rest.Config, pod, method string, command []string, stdin io.Reader) (string, string, error) {
	client := kubernetes.NewForConfigOrDie(cfg)
	u := client.CoreV1().RESTClient().Post().Resource("pods").Namespace("default").Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Command: command, Stdin: stdin != nil, Stdout: true, Stderr: true}, scheme.ParameterCodec).URL()
	var ex remotecommand.Executor
	var err error
	if method == "GET" {
		ex, err = remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	} else {
		ex, err = remotecommand.NewSPDYExecutor(cfg, "POST", u)
	}
	if err != nil {
		return "", "", err
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), stderr.String(), err
}

// forwardAndGet forwards a local port to the pod's port and GETs / through
// it.
func forwardAndGet(t *testing.T, dialer httpstream.Dialer, port int) string {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	var out bytes.Buffer
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, &out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pf.ForwardPorts() }()
	defer func() {
		close(stop)
		<-done
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("port forward failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("port forward not ready within 10s")
	}
	ports, err := pf.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))) + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}
