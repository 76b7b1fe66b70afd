package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"

	"github.com/strata-dev/strata/kubelet/server/fakeruntime"
	"github.com/strata-dev/strata/kubelet/stats"
	"github.com/strata-dev/strata/nucleus/pki"
)

// podList is a fixed PodSource.
type podList []*corev1.Pod

func (p podList) Pods() []*corev1.Pod { return p }

type fakeStats struct{}

func (fakeStats) Summary(context.Context) (*stats.Summary, error) {
	return &stats.Summary{Node: stats.NodeStats{NodeName: "n1"}, Pods: []stats.PodStats{}}, nil
}

// env is a kubelet API server over TLS with a fake runtime, and client
// credentials signed by its CA.
type env struct {
	url     string
	runtime *fakeruntime.Runtime
	dir     pki.Dir
	logDir  string
}

func running(name, id string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, ContainerID: "containerd://" + id,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func start(t *testing.T) *env {
	t.Helper()
	dir := pki.Dir(t.TempDir())
	ca, err := dir.EnsureCA()
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.EnsureServingCert(ca, "kubelet", []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	for name, subject := range map[string][2]string{"nucleus": {nucleusUser, ""}, "admin": {"admin", "system:masters"}, "bob": {"bob", "devs"}} {
		var groups []string
		if subject[1] != "" {
			groups = []string{subject[1]}
		}
		if err := dir.WriteClientCert(ca, name, subject[0], groups); err != nil {
			t.Fatal(err)
		}
	}
	rt := fakeruntime.New()
	t.Cleanup(rt.Close)
	logDir := t.TempDir()
	web := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-web"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "sidecar"}, {Name: "pending"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{
			running("app", "c-app"),
			{Name: "sidecar", ContainerID: "containerd://c-side", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ContainerID: "containerd://c-side"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ContainerID: "containerd://c-side-0"}}},
			{Name: "pending", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}},
		}},
	}
	rt.SetContainer("c-app", fakeruntime.Container{LogPath: filepath.Join(logDir, "app.log"), Running: true})
	rt.SetContainer("c-side", fakeruntime.Container{LogPath: filepath.Join(logDir, "side.log")})
	rt.SetContainer("c-side-0", fakeruntime.Container{LogPath: filepath.Join(logDir, "side-0.log")})
	rt.AddSandbox("sb-web", "uid-web")
	writeFile(t, filepath.Join(logDir, "app.log"),
		"2026-01-01T00:00:00Z stdout F hello\n2026-01-01T00:00:01Z stderr F oops\n2026-01-01T00:00:02Z stdout F world\n")
	writeFile(t, filepath.Join(logDir, "side.log"), "2026-01-01T00:00:00Z stdout F second run\n")
	writeFile(t, filepath.Join(logDir, "side-0.log"), "2026-01-01T00:00:00Z stdout F first run\n")

	certs, err := LoadCertificates(dir.CertFile("kubelet"), dir.KeyFile("kubelet"), dir.CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	authn, err := NewAuthenticator(AuthenticatorConfig{ClientCA: certs.ClientCA(), TokenReviews: tokenReviews(t)})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{NodeName: "n1", Authenticator: authn, Authorizer: nucleusAndMasters,
		Pods: podList{web}, Runtime: rt, Stats: fakeStats{}, LogPollInterval: 10 * time.Millisecond})
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.TLS = certs.TLSConfig()
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &env{url: ts.URL, runtime: rt, dir: dir, logDir: logDir}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// config is a client of the kubelet as the named identity.
func (e *env) config(name string) *rest.Config {
	return &rest.Config{Host: e.url, TLSClientConfig: rest.TLSClientConfig{
		CAFile: e.dir.CACertFile(), CertFile: e.dir.CertFile(name), KeyFile: e.dir.KeyFile(name),
	}}
}

func (e *env) get(t *testing.T, who, path string) (int, string) {
	t.Helper()
	client, err := rest.HTTPClientFor(e.config(who))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(e.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPodsAndStats(t *testing.T) {
	e := start(t)
	code, body := e.get(t, "nucleus", "/pods")
	var list corev1.PodList
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil {
		t.Fatalf("GET /pods = %d %v: %s", code, err, body)
	}
	if list.Kind != "PodList" || list.APIVersion != "v1" || len(list.Items) != 1 || list.Items[0].Name != "web" {
		t.Errorf("pods = %+v", list)
	}
	code, body = e.get(t, "nucleus", "/stats/summary")
	if code != 200 || !strings.Contains(body, `"nodeName":"n1"`) {
		t.Errorf("GET /stats/summary = %d %s", code, body)
	}
}

func TestContainerLogs(t *testing.T) {
	e := start(t)
	tests := []struct {
		name, path string
		code       int
		want       string
	}{
		{name: "all", path: "/containerLogs/default/web/app", code: 200, want: "hello\noops\nworld\n"},
		{name: "tail and timestamps", path: "/containerLogs/default/web/app?tailLines=1&timestamps=true", code: 200,
			want: "2026-01-01T00:00:02.000000000Z world\n"},
		{name: "legacy tail", path: "/containerLogs/default/web/app?tail=2", code: 200, want: "oops\nworld\n"},
		{name: "stderr", path: "/containerLogs/default/web/app?stream=Stderr", code: 200, want: "oops\n"},
		{name: "limit", path: "/containerLogs/default/web/app?limitBytes=3", code: 200, want: "hel"},
		{name: "terminated container", path: "/containerLogs/default/web/sidecar", code: 200, want: "second run\n"},
		{name: "previous", path: "/containerLogs/default/web/sidecar?previous=true", code: 200, want: "first run\n"},
		{name: "no previous", path: "/containerLogs/default/web/app?previous=true", code: 400,
			want: "previous terminated container \"app\" in pod \"web\" not found"},
		{name: "waiting", path: "/containerLogs/default/web/pending", code: 400,
			want: "container \"pending\" in pod \"web\" is waiting to start: ContainerCreating"},
		{name: "unknown pod", path: "/containerLogs/default/db/app", code: 404, want: "pod \"db\" does not exist"},
		{name: "unknown container", path: "/containerLogs/default/web/db", code: 404, want: "container \"db\" not found in pod \"web\""},
		{name: "bad query", path: "/containerLogs/default/web/app?tailLines=x", code: 400, want: "{\"message\": \"Unable to decode query.\"}"},
		{name: "invalid options", path: "/containerLogs/default/web/app?limitBytes=0", code: 422, want: "{\"message\": \"Invalid request.\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.get(t, "nucleus", tt.path)
			if code != tt.code || body != tt.want {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, code, body, tt.code, tt.want)
			}
		})
	}
}

func TestContainerLogsFollow(t *testing.T) {
	e := start(t)
	client, err := rest.HTTPClientFor(e.config("nucleus"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(e.url + "/containerLogs/default/web/app?follow=true&tailLines=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 10)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				lines <- string(buf[:n])
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no log output")
			return ""
		}
	}
	if got := next(); got != "world\n" {
		t.Fatalf("first output = %q", got)
	}
	f, err := os.OpenFile(filepath.Join(e.logDir, "app.log"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "2026-01-01T00:00:03Z stdout F again\n")
	f.Close()
	if got := next(); got != "again\n" {
		t.Fatalf("followed output = %q", got)
	}
	// The container stops: the stream ends.
	e.runtime.SetContainer("c-app", fakeruntime.Container{LogPath: filepath.Join(e.logDir, "app.log")})
	select {
	case _, open := <-lines:
		if open {
			t.Fatal("unexpected output after the container stopped")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the log stream did not end when the container stopped")
	}
}

func (e *env) exec(t *testing.T, path string, stdin io.Reader) (string, string, error) {
	t.Helper()
	u, err := url.Parse(e.url + path)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := remotecommand.NewSPDYExecutor(e.config("nucleus"), "POST", u)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdin: stdin, Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), stderr.String(), err
}

func TestExecAndAttach(t *testing.T) {
	e := start(t)
	q := url.Values{"command": {"sh", "-c", "read x; echo out:$x; echo err >&2; exit 3"}, "input": {"1"}, "output": {"1"}, "error": {"1"}}
	stdout, stderr, err := e.exec(t, "/exec/default/web/app?"+q.Encode(), strings.NewReader("hi\n"))
	var exitErr exec.CodeExitError
	if !errors.As(err, &exitErr) || exitErr.Code != 3 {
		t.Errorf("exec error = %v, want exit code 3", err)
	}
	if stdout != "out:hi\n" || stderr != "err\n" {
		t.Errorf("exec output = %q, %q", stdout, stderr)
	}

	// With the pod's UID in the path.
	q = url.Values{"command": {"echo", "ok"}, "output": {"1"}}
	if stdout, _, err := e.exec(t, "/exec/default/web/uid-web/app?"+q.Encode(), nil); err != nil || stdout != "ok\n" {
		t.Errorf("exec with uid = %q, %v", stdout, err)
	}

	for _, tt := range []struct{ path, want string }{
		{"/exec/default/web/other-uid/app?" + q.Encode(), "pod does not exist"},
		{"/exec/default/web/sidecar?" + q.Encode(), `container not found ("sidecar")`},
		{"/exec/default/web/app?command=true", "you must specify at least 1 of stdin, stdout, stderr"},
	} {
		if _, _, err := e.exec(t, tt.path, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("exec %s error = %v, want %q", tt.path, err, tt.want)
		}
	}

	stdout, _, err = e.exec(t, "/attach/default/web/app?input=1&output=1", strings.NewReader("echoed"))
	if err != nil || stdout != "echoed" {
		t.Errorf("attach = %q, %v", stdout, err)
	}
}

func TestPortForward(t *testing.T) {
	e := start(t)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("from the pod")) }))
	defer target.Close()
	e.runtime.ForwardPort(8080, target.Listener.Addr().String())

	cfg := e.config("nucleus")
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.url + "/portForward/default/web")
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	stop, ready := make(chan struct{}), make(chan struct{})
	var out syncBuffer
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:8080"}, stop, ready, &out, &out)
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
		t.Fatalf("port forward failed: %v (%s)", err, out.String())
	case <-time.After(10 * time.Second):
		t.Fatal("port forward not ready")
	}
	ports, err := pf.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/", net.JoinHostPort("127.0.0.1", fmt.Sprint(ports[0].Local))))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "from the pod" {
		t.Errorf("forwarded answer = %q", body)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogContainerID(t *testing.T) {
	terminated := func(id string) *corev1.ContainerStateTerminated {
		return &corev1.ContainerStateTerminated{ContainerID: id}
	}
	tests := []struct {
		name     string
		status   *corev1.ContainerStatus
		previous bool
		want     string
		wantErr  string
	}{
		{name: "missing", wantErr: `container "c" in pod "p" is not available`},
		{name: "running", status: &corev1.ContainerStatus{ContainerID: "containerd://a", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}, want: "a"},
		{name: "previous", previous: true, status: &corev1.ContainerStatus{ContainerID: "containerd://b",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, LastTerminationState: corev1.ContainerState{Terminated: terminated("containerd://a")}}, want: "a"},
		{name: "no previous", previous: true, status: &corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			wantErr: `previous terminated container "c" in pod "p" not found`},
		{name: "terminated", status: &corev1.ContainerStatus{State: corev1.ContainerState{Terminated: terminated("containerd://t")}}, want: "t"},
		{name: "terminated without id falls back", status: &corev1.ContainerStatus{State: corev1.ContainerState{Terminated: terminated("")},
			LastTerminationState: corev1.ContainerState{Terminated: terminated("containerd://l")}}, want: "l"},
		{name: "terminated without any id", status: &corev1.ContainerStatus{State: corev1.ContainerState{Terminated: terminated("")}},
			wantErr: `container "c" in pod "p" is terminated`},
		{name: "crash loop", status: &corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: terminated("containerd://l")}}, want: "l"},
		{name: "image pull", status: &corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}},
			wantErr: `container "c" in pod "p" is waiting to start: image can't be pulled`},
		{name: "image pull back-off", status: &corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}},
			wantErr: `container "c" in pod "p" is waiting to start: trying and failing to pull image`},
		{name: "creating", status: &corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}},
			wantErr: `container "c" in pod "p" is waiting to start: ContainerCreating`},
		{name: "no state", status: &corev1.ContainerStatus{}, wantErr: `container "c" in pod "p" is waiting to start - no logs yet`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
			if tt.status != nil {
				tt.status.Name = "c"
				pod.Status.InitContainerStatuses = []corev1.ContainerStatus{*tt.status}
			}
			got, err := logContainerID(pod, "c", tt.previous)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff([2]string{tt.want, tt.wantErr}, [2]string{got, gotErr}); diff != "" {
				t.Errorf("logContainerID (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServe(t *testing.T) {
	e := start(t)
	s := New(Config{Pods: podList{}, Runtime: e.runtime, Authenticator: allowAll, Authorizer: allowAll})
	certs, err := LoadCertificates(e.dir.CertFile("kubelet"), e.dir.KeyFile("kubelet"), e.dir.CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := certs.TLSConfig()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, tlsConfig) }()

	e.url = "https://" + ln.Addr().String()
	tlsClient, err := rest.TLSConfigFor(e.config("nucleus"))
	if err != nil {
		t.Fatal(err)
	}
	// Even a client that offers HTTP/2 gets HTTP/1.1, which upgrades need.
	tlsClient.NextProtos = []string{"h2", "http/1.1"}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsClient, ForceAttemptHTTP2: true}}
	resp, err := client.Get(e.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 1 {
		t.Errorf("GET /healthz = %d over %s, want 200 over HTTP/1.1", resp.StatusCode, resp.Proto)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}
