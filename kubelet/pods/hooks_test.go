package pods

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func execHandler(cmd ...string) *corev1.LifecycleHandler {
	return &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: cmd}}
}

func TestWorkerPreStopHookRunsBeforeTheStop(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) {
		c.Lifecycle = &corev1.Lifecycle{PreStop: execHandler("sh", "-c", "nginx -s quit")}
	}).Obj()
	w := e.worker(pod)
	e.sync(w, pod)
	e.calls()

	deleted := makePod("web").Containers("app").Deleted(20).Obj()
	deleted.Spec = pod.Spec
	if _, err := w.Terminate(e.ctx, deleted, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, "calls", []string{
		"ExecSync default/web/app sh -c nginx -s quit",
		"StopContainer default/web/app timeout=20",
		"StopPodSandbox default/web",
	}, e.calls())
}

func TestWorkerFailedPreStopHook(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) {
		c.Lifecycle = &corev1.Lifecycle{PreStop: execHandler("false")}
	}).Obj()
	e.runtime.SetExec(func(string, []string) (string, string, int) { return "", "nope", 1 })
	w := e.worker(pod)
	e.sync(w, pod)
	e.events()
	if _, err := w.Terminate(e.ctx, pod, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, "events", []string{
		"Normal Killing Stopping container app",
		`Warning FailedPreStopHook Exec lifecycle hook ([false]) for Container "app" in Pod "web_default(uid-web)" failed - error: command 'false' exited with 1: nope, message: "nope"`,
	}, e.events())
}

func TestWorkerFailedPostStartHook(t *testing.T) {
	e := newTestEnv(t)
	pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) {
		c.Lifecycle = &corev1.Lifecycle{PostStart: execHandler("/bin/setup")}
	}).Obj()
	e.runtime.SetExec(func(string, []string) (string, string, int) { return "", "missing config", 2 })
	w := e.worker(pod)
	res := e.sync(w, pod)
	diff(t, "calls", []string{
		"RunPodSandbox default/web attempt=0",
		"PullImage busybox:latest",
		"CreateContainer default/web/app attempt=0",
		"StartContainer default/web/app",
		"ExecSync default/web/app /bin/setup",
		"StopContainer default/web/app timeout=30",
	}, e.calls())
	diff(t, "containers", []string{
		`app: waiting(PostStartHookError: Exec lifecycle hook ([/bin/setup]) for Container "app" in Pod "web_default(uid-web)" failed - error: command '/bin/setup' exited with 2: missing config, message: "missing config") last=terminated(137 Error) restarts=0`,
	}, containerSummary(res.Status.ContainerStatuses))
	events := e.events()
	if !contains(events, "Warning FailedPostStartHook PostStartHook failed") || !contains(events, "Normal Killing FailedPostStartHook") {
		t.Errorf("events %q lack the hook's failure or the kill", events)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestHooksHTTPGet(t *testing.T) {
	var mu sync.Mutex
	var got []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("X-Hook")+" "+r.Host)
		mu.Unlock()
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer server.Close()
	host, portStr, _ := net.SplitHostPort(strings.TrimPrefix(server.URL, "http://"))
	port, _ := strconv.Atoi(portStr)

	pod := makePod("web").Containers("app").Edit("app", func(c *corev1.Container) {
		c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}
	}).Obj()
	c := &pod.Spec.Containers[0]
	h := &Hooks{}
	handler := func(path string, port intstr.IntOrString, hostHeader string) *corev1.LifecycleHandler {
		a := &corev1.HTTPGetAction{Path: path, Port: port, HTTPHeaders: []corev1.HTTPHeader{{Name: "X-Hook", Value: "yes"}}}
		if hostHeader != "" {
			a.HTTPHeaders = append(a.HTTPHeaders, corev1.HTTPHeader{Name: "Host", Value: hostHeader})
		}
		return &corev1.LifecycleHandler{HTTPGet: a}
	}

	if msg, err := h.Run(context.Background(), pod, c, "id", []string{host}, handler("/quit", intstr.FromString("http"), "web.local")); err != nil {
		t.Errorf("named port: %v (%s)", err, msg)
	}
	if msg, err := h.Run(context.Background(), pod, c, "id", []string{host}, handler("ready", intstr.FromInt32(int32(port)), "")); err != nil {
		t.Errorf("numbered port: %v (%s)", err, msg)
	}
	msg, err := h.Run(context.Background(), pod, c, "id", []string{host}, handler("/fail", intstr.FromInt32(int32(port)), ""))
	if err == nil {
		t.Error("a 503 is not a failure")
	}
	diff(t, "failure message", `HTTP lifecycle hook (/fail) for Container "app" in Pod "web_default(uid-web)" failed - error: HTTP lifecycle hook (/fail) returned 503`, msg)
	if _, err := h.Run(context.Background(), pod, c, "id", []string{host}, handler("/x", intstr.FromString("nope"), "")); err == nil {
		t.Error("unknown named port accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	diff(t, "requests", []string{"/quit yes web.local", "/ready yes " + server.Listener.Addr().String(), "/fail yes " + server.Listener.Addr().String()}, got)
}

func TestHooksSleepEndsWithTheGracePeriod(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pod := makePod("web").Containers("app").Obj()
	h := &Hooks{}
	if _, err := h.Run(ctx, pod, &pod.Spec.Containers[0], "id", nil, &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 3600}}); err != nil {
		t.Errorf("sleep cut short by the grace period: %v", err)
	}
	_ = ptr.To(1)
}
