package probes

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	remote "k8s.io/cri-client/pkg"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/pods"
)

// hostPort splits a listener's address.
func hostPort(t *testing.T, addr net.Addr) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, p
}

// closedPort is a local port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port := hostPort(t, l.Addr())
	_ = l.Close()
	return port
}

func TestHTTPGet(t *testing.T) {
	var seen http.Header
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		seen.Set("Host", r.Host)
		_, _ = fmt.Fprint(w, "fine")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, strings.Repeat("x", 20<<10))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "secret", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/same-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host, port := hostPort(t, srv.Listener.Addr())
	mux.HandleFunc("/other-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://localhost:%d/ok", port), http.StatusMovedPermanently)
	})
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	p := &prober{http: NewHTTPClient()}
	get := func(path string, timeout time.Duration, headers ...corev1.HTTPHeader) probeOutput {
		return p.httpGet(context.Background(), c, host, &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http"), HTTPHeaders: headers}, timeout)
	}

	out := get("/ok", time.Second, corev1.HTTPHeader{Name: "X-Probe", Value: "1"}, corev1.HTTPHeader{Name: "Host", Value: "app.test"})
	diff(t, "success", probeOutput{outcome: outcomeSuccess, output: "fine"}, out, cmpOutput)
	diff(t, "User-Agent", "kube-probe/1.37", seen.Get("User-Agent"))
	diff(t, "Accept", "*/*", seen.Get("Accept"))
	diff(t, "X-Probe", "1", seen.Get("X-Probe"))
	diff(t, "Host", "app.test", seen.Get("Host"))
	diff(t, "Accept-Encoding", "", seen.Get("Accept-Encoding"))

	out = get("/big", time.Second)
	diff(t, "body kept", maxOutputLength, len(out.output))

	diff(t, "failure", probeOutput{outcome: outcomeFailure, output: "HTTP probe failed with statuscode: 503"}, get("/fail", time.Second), cmpOutput)
	diff(t, "redirect on the same host", probeOutput{outcome: outcomeSuccess, output: "fine"}, get("/same-host", time.Second), cmpOutput)
	diff(t, "redirect elsewhere", probeOutput{outcome: outcomeWarning, output: "Probe terminated redirects, Response body: <a href=\"http://localhost:" + strconv.Itoa(port) + "/ok\">Moved Permanently</a>.\n\n"}, get("/other-host", time.Second), cmpOutput)

	out = get("/slow", 50*time.Millisecond)
	if out.outcome != outcomeFailure || !strings.Contains(out.output, "Client.Timeout exceeded") {
		t.Errorf("timeout: %+v", out)
	}

	out = p.httpGet(context.Background(), c, "127.0.0.1", &corev1.HTTPGetAction{Port: intstr.FromInt32(int32(closedPort(t)))}, time.Second)
	if out.outcome != outcomeFailure || !strings.Contains(out.output, "connection refused") {
		t.Errorf("refused: %+v", out)
	}
	out = p.httpGet(context.Background(), c, host, &corev1.HTTPGetAction{Port: intstr.FromString("nope")}, time.Second)
	if out.outcome != outcomeUnknown || out.err == nil {
		t.Errorf("unknown port: %+v", out)
	}
}

// cmpOutput compares probe outputs by outcome, output and error text.
var cmpOutput = cmp.Comparer(func(a, b probeOutput) bool {
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	return a.outcome == b.outcome && a.output == b.output && errText(a.err) == errText(b.err)
})

func TestTCPSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	host, port := hostPort(t, l.Addr())
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "db", ContainerPort: int32(port)}}}
	p := &prober{}

	out := p.tcpSocket(context.Background(), c, host, &corev1.TCPSocketAction{Port: intstr.FromString("db")}, time.Second)
	diff(t, "open port", probeOutput{outcome: outcomeSuccess}, out, cmpOutput)
	out = p.tcpSocket(context.Background(), c, "10.0.0.1", &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port)), Host: host}, time.Second)
	diff(t, "host overrides the pod IP", probeOutput{outcome: outcomeSuccess}, out, cmpOutput)
	out = p.tcpSocket(context.Background(), c, host, &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(closedPort(t)))}, time.Second)
	if out.outcome != outcomeFailure || !strings.Contains(out.output, "connection refused") {
		t.Errorf("closed port: %+v", out)
	}
}

func TestGRPC(t *testing.T) {
	serve := func(withHealth bool) (string, int, *health.Server) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer()
		hs := health.NewServer()
		if withHealth {
			healthpb.RegisterHealthServer(s, hs)
		}
		go func() { _ = s.Serve(l) }()
		t.Cleanup(s.Stop)
		host, port := hostPort(t, l.Addr())
		return host, port, hs
	}
	host, port, hs := serve(true)
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	p := &prober{}
	probe := func(host string, port int, service *string, timeout time.Duration) probeOutput {
		return p.grpc(context.Background(), host, &corev1.GRPCAction{Port: int32(port), Service: service}, timeout)
	}

	diff(t, "serving", probeOutput{outcome: outcomeSuccess, output: "service healthy"}, probe(host, port, nil, time.Second), cmpOutput)
	diff(t, "not serving", probeOutput{outcome: outcomeFailure, output: `service unhealthy (responded with "NOT_SERVING")`}, probe(host, port, ptr.To("down"), time.Second), cmpOutput)
	out := probe(host, port, ptr.To("unknown"), time.Second)
	if out.outcome != outcomeFailure || !strings.HasPrefix(out.output, "error: health rpc probe failed: ") {
		t.Errorf("unknown service: %+v", out)
	}

	host, port, _ = serve(false)
	out = probe(host, port, nil, time.Second)
	if out.outcome != outcomeFailure || !strings.HasPrefix(out.output, "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ") {
		t.Errorf("no health service: %+v", out)
	}

	closed := closedPort(t)
	out = probe("127.0.0.1", closed, nil, 100*time.Millisecond)
	diff(t, "nothing listens", probeOutput{outcome: outcomeFailure, output: fmt.Sprintf(`timeout: failed to connect service "127.0.0.1:%d" within 100ms: context deadline exceeded`, closed)}, out, cmpOutput)
}

func TestExec(t *testing.T) {
	pod := makePod("web", corev1.Container{Name: "app"})
	env := newTestEnv(t)
	id := env.start(pod, "app")
	p := &prober{runtime: env.runtime}
	c := &corev1.Container{Name: "app", Env: []corev1.EnvVar{{Name: "PORT", Value: "80"}}}
	var got []string
	env.runtime.SetExec(func(_ string, cmd []string) (string, string, int) {
		got = cmd
		if cmd[0] == "fail" {
			return "out\n", "err\n", 3
		}
		return "ok", "", 0
	})

	out := p.exec(context.Background(), c, id, &corev1.ExecAction{Command: []string{"check", "$(PORT)"}}, time.Second)
	diff(t, "success", probeOutput{outcome: outcomeSuccess, output: "ok"}, out, cmpOutput)
	diff(t, "command", []string{"check", "80"}, got)
	out = p.exec(context.Background(), c, id, &corev1.ExecAction{Command: []string{"fail"}}, time.Second)
	diff(t, "failure: stdout then stderr", probeOutput{outcome: outcomeFailure, output: "out\nerr\n"}, out, cmpOutput)

	timedOut := fmt.Errorf("%w: %q timed out after 1s", remote.ErrCommandTimedOut, "sleep 10")
	env.runtime.InjectError("ExecSync", timedOut)
	out = p.exec(context.Background(), c, id, &corev1.ExecAction{Command: []string{"sleep", "10"}}, time.Second)
	diff(t, "timeout", probeOutput{outcome: outcomeFailure, output: `command timed out: "sleep 10" timed out after 1s`}, out, cmpOutput)

	out = p.exec(context.Background(), c, "gone", &corev1.ExecAction{Command: []string{"check"}}, time.Second)
	if out.outcome != outcomeUnknown || out.err == nil {
		t.Errorf("missing container: %+v", out)
	}
}

func TestInterpretAndMissingHandler(t *testing.T) {
	rec := &recorder{}
	p := &prober{recorder: rec}
	always := corev1.ContainerRestartPolicyAlways
	pod := makePod("web")
	pod.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: &always}}
	c := &pod.Spec.InitContainers[0]

	out := p.probe(context.Background(), pods.Readiness, &corev1.Probe{}, pod, c, "id", "10.88.0.2")
	diff(t, "no handler", probeOutput{outcome: outcomeUnknown, err: fmt.Errorf("missing probe handler for web_default(uid-web):proxy")}, out, cmpOutput)

	tests := []struct {
		out        probeOutput
		want       pods.ProbeResult
		wantOK     bool
		wantEvents []string
	}{
		{probeOutput{outcome: outcomeSuccess, output: "fine"}, pods.ProbeSuccess, true, nil},
		{probeOutput{outcome: outcomeWarning, output: "Probe terminated redirects, Response body: "}, pods.ProbeSuccess, true,
			[]string{"spec.initContainers{proxy} Warning ProbeWarning: Readiness probe warning: Probe terminated redirects, Response body: "}},
		{probeOutput{outcome: outcomeFailure, output: "HTTP probe failed with statuscode: 500"}, pods.ProbeFailure, true,
			[]string{"spec.initContainers{proxy} Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500"}},
		{probeOutput{outcome: outcomeUnknown}, pods.ProbeFailure, true, nil},
		{out, 0, false, []string{"spec.initContainers{proxy} Warning Unhealthy: Readiness probe errored and resulted in unknown state: missing probe handler for web_default(uid-web):proxy"}},
	}
	for _, tt := range tests {
		got, ok := p.interpret(context.Background(), pods.Readiness, pod, c, tt.out)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("interpret(%+v) = %v, %v; want %v, %v", tt.out, got, ok, tt.want, tt.wantOK)
		}
		diff(t, fmt.Sprintf("events of %+v", tt.out), tt.wantEvents, rec.take())
	}
}
