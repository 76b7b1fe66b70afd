// Package server is the kubelet's HTTPS API on the node (port 10250): the
// endpoints the nucleus proxies pods/log, pods/exec, pods/attach,
// pods/portforward and nodes/proxy to, as upstream's kubelet serves them.
//
//	GET       /healthz
//	GET       /pods                                   the pods the kubelet runs (PodList)
//	GET       /stats/summary                          CPU and memory of the node, pods, containers
//	GET       /containerLogs/{ns}/{pod}/{container}   ?follow&previous&tailLines&timestamps&sinceSeconds&sinceTime&limitBytes&stream
//	GET|POST  /exec/{ns}/{pod}[/{uid}]/{container}    ?command=…&input=1&output=1&error=1&tty=1
//	GET|POST  /attach/{ns}/{pod}[/{uid}]/{container}  ?input=1&output=1&error=1&tty=1
//	GET|POST  /portForward/{ns}/{pod}[/{uid}]         ?port=…
//
// Exec, attach and port forwarding ask the container runtime (CRI Exec,
// Attach, PortForward) for a URL on its streaming server and proxy the
// client's upgraded SPDY connection to it. Logs are read from the CRI log
// files (package containerlogs).
//
// Every request is authenticated and authorized as upstream's kubelet does
// with webhook authentication and authorization (auth.go): a client
// certificate signed by the client CA or a bearer token checked with a
// TokenReview, then a SubjectAccessReview for the nodes subresource of the
// path (RequestAttributes); answers are cached.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/stats"
)

// DefaultPort is the kubelet API's port.
const DefaultPort = 10250

// PodSource lists the pods the kubelet runs, each with the status the
// kubelet last computed for it (container IDs and states).
type PodSource interface {
	Pods() []*corev1.Pod
}

// Runtime is the part of CRI's RuntimeService the server uses; a
// k8s.io/cri-client runtime service is one.
type Runtime interface {
	// ContainerStatus gives a container's log path and state.
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	// ListPodSandbox finds a pod's sandbox, for port forwarding.
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	// Exec, Attach and PortForward return URLs on the runtime's streaming
	// server.
	Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error)
	Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error)
	PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error)
}

// StatsProvider answers /stats/summary; *stats.Provider is one.
type StatsProvider interface {
	Summary(ctx context.Context) (*stats.Summary, error)
}

// Config is what the server serves from.
type Config struct {
	Pods    PodSource
	Runtime Runtime
	// Stats is optional; without it /stats/summary answers 404.
	Stats StatsProvider
	// NodeName is the node this kubelet runs: requests are authorized as
	// subresources of the nodes object of that name.
	NodeName string
	// Authenticator identifies clients (see NewAuthenticator); nil
	// refuses every request (401).
	Authenticator authenticator.Request
	// Authorizer decides on RequestAttributes (see NewAuthorizer); nil
	// refuses every request (403).
	Authorizer authorizer.UnconditionalAuthorizer
	// Now is the clock for sinceSeconds; time.Now if nil.
	Now func() time.Time
	// LogPollInterval is how often a log follower looks for output
	// (containerlogs' default if zero).
	LogPollInterval time.Duration
}

// Server is the kubelet API.
type Server struct {
	cfg     Config
	handler http.Handler
}

// New builds the server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /pods", s.pods)
	if cfg.Stats != nil {
		mux.HandleFunc("GET /stats/summary", s.summary)
	}
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.containerLogs)
	for _, method := range []string{"GET", "POST"} {
		mux.HandleFunc(method+" /exec/{namespace}/{pod}/{container}", s.exec)
		mux.HandleFunc(method+" /exec/{namespace}/{pod}/{uid}/{container}", s.exec)
		mux.HandleFunc(method+" /attach/{namespace}/{pod}/{container}", s.attach)
		mux.HandleFunc(method+" /attach/{namespace}/{pod}/{uid}/{container}", s.attach)
		mux.HandleFunc(method+" /portForward/{namespace}/{pod}", s.portForward)
		mux.HandleFunc(method+" /portForward/{namespace}/{pod}/{uid}", s.portForward)
	}
	s.handler = s.withAuth(mux)
	return s
}

// Handler is the API with authentication and authorization, for a server
// whose TLS configuration asks for client certificates (see TLSConfig).
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves HTTPS on address until ctx ends.
func (s *Server) Run(ctx context.Context, address string, tlsConfig *tls.Config) error {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", address, err)
	}
	return s.Serve(ctx, ln, tlsConfig)
}

// Serve serves HTTPS on ln until ctx ends. HTTP/2 is off: SPDY and
// WebSocket upgrades need HTTP/1.1.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsConfig *tls.Config) error {
	srv := &http.Server{
		Handler:           s.handler,
		TLSConfig:         tlsConfig,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// Streams (follows, exec sessions) are hijacked or long: close them.
		if err := srv.Shutdown(shutdown); err != nil {
			_ = srv.Close()
		}
	}()
	klog.FromContext(ctx).Info("Serving the kubelet API", "address", ln.Addr().String())
	if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-stopped
	return nil
}

// writeError answers with a plain text message, as the kubelet does; the
// nucleus passes it on as the message of its own error.
func writeError(w http.ResponseWriter, msg string, code int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}

// pod finds a pod the kubelet runs; a uid, when given, must match.
func (s *Server) pod(namespace, name, uid string) (*corev1.Pod, bool) {
	for _, p := range s.cfg.Pods.Pods() {
		if p.Namespace == namespace && p.Name == name && (uid == "" || string(p.UID) == uid) {
			return p, true
		}
	}
	return nil, false
}
