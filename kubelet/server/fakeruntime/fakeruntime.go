// Package fakeruntime is a container runtime for tests of the kubelet API:
// containers are log files, and its CRI streaming server is real over the
// wire (SPDY, the protocols of upstream's CRI streaming servers) but runs
// exec commands as local processes, attaches to an echo, and forwards
// ports to local addresses.
package fakeruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/remotecommand"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Runtime is the fake. Its zero value is not usable; call New.
type Runtime struct {
	server *httptest.Server

	mu         sync.Mutex
	containers map[string]*Container
	sandboxes  []*runtimeapi.PodSandbox
	// requests are the pending streaming requests by token.
	requests map[string]any
	// portTargets maps a forwarded pod port to a local address.
	portTargets map[int32]string
}

// Container is a container the runtime knows.
type Container struct {
	LogPath string
	Running bool
}

// New starts the runtime's streaming server; Close stops it.
func New() *Runtime {
	r := &Runtime{containers: map[string]*Container{}, requests: map[string]any{}, portTargets: map[int32]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/{token}", r.serveExec)
	mux.HandleFunc("/attach/{token}", r.serveAttach)
	mux.HandleFunc("/portforward/{token}", r.servePortForward)
	r.server = httptest.NewServer(mux)
	return r
}

// Close stops the streaming server.
func (r *Runtime) Close() { r.server.Close() }

// SetContainer adds or changes a container.
func (r *Runtime) SetContainer(id string, c Container) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.containers[id] = &c
}

// AddSandbox adds a ready sandbox for the pod with uid.
func (r *Runtime) AddSandbox(id string, podUID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sandboxes = append(r.sandboxes, &runtimeapi.PodSandbox{
		Id: id, State: runtimeapi.PodSandboxState_SANDBOX_READY,
		Labels: map[string]string{"io.kubernetes.pod.uid": podUID},
	})
}

// ForwardPort makes port forwards of port reach address.
func (r *Runtime) ForwardPort(port int32, address string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.portTargets[port] = address
}

// ContainerStatus reports the container's log path and state.
func (r *Runtime) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "container %q not found", id)
	}
	state := runtimeapi.ContainerState_CONTAINER_EXITED
	if c.Running {
		state = runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: id, LogPath: c.LogPath, State: state}}, nil
}

// ListPodSandbox lists the sandboxes matching the filter's state and
// labels.
func (r *Runtime) ListPodSandbox(_ context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtimeapi.PodSandbox
	for _, sb := range r.sandboxes {
		if filter.GetState() != nil && filter.GetState().GetState() != sb.State {
			continue
		}
		match := true
		for k, v := range filter.GetLabelSelector() {
			match = match && sb.Labels[k] == v
		}
		if match {
			out = append(out, sb)
		}
	}
	return out, nil
}

// Exec returns the URL that runs the request's command.
func (r *Runtime) Exec(_ context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	if err := r.running(req.GetContainerId()); err != nil {
		return nil, err
	}
	if len(req.GetCmd()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "cmd must not be empty")
	}
	return &runtimeapi.ExecResponse{Url: r.url("exec", req)}, nil
}

// Attach returns the URL of the container's streams (an echo).
func (r *Runtime) Attach(_ context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	if err := r.running(req.GetContainerId()); err != nil {
		return nil, err
	}
	return &runtimeapi.AttachResponse{Url: r.url("attach", req)}, nil
}

// PortForward returns the URL that forwards the sandbox's ports.
func (r *Runtime) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	return &runtimeapi.PortForwardResponse{Url: r.url("portforward", req)}, nil
}

func (r *Runtime) running(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.containers[id]; !ok || !c.Running {
		return status.Errorf(codes.NotFound, "container %q is not running", id)
	}
	return nil
}

// url registers a streaming request under a one-time token.
func (r *Runtime) url(kind string, req any) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	r.mu.Lock()
	r.requests[token] = req
	r.mu.Unlock()
	return r.server.URL + "/" + kind + "/" + token
}

func (r *Runtime) take(token string) any {
	r.mu.Lock()
	defer r.mu.Unlock()
	req := r.requests[token]
	delete(r.requests, token)
	return req
}

// remoteCommandProtocols are the exec and attach protocols served: v4
// (exit codes as a Status on the error stream), which clients since
// Kubernetes 1.4 speak.
var remoteCommandProtocols = []string{remotecommand.StreamProtocolV4Name}

// commandStreams are the streams of an exec or attach.
type commandStreams struct {
	conn                          httpstream.Connection
	stdin, stdout, stderr, status httpstream.Stream
}

// acceptStreams upgrades the connection and waits for the client's
// streams: the status (error) stream, the requested standard streams and,
// with a tty, the resize stream.
func acceptStreams(w http.ResponseWriter, req *http.Request, stdin, stdout, stderr, tty bool) (*commandStreams, bool) {
	if _, err := httpstream.Handshake(req, w, remoteCommandProtocols); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return nil, false
	}
	streamCh := make(chan httpstream.Stream, 8)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, req, func(s httpstream.Stream, _ <-chan struct{}) error {
		streamCh <- s
		return nil
	})
	if conn == nil {
		return nil, false
	}
	conn.SetIdleTimeout(time.Minute)
	expected := 1
	for _, on := range []bool{stdin, stdout, stderr && !tty, tty} {
		if on {
			expected++
		}
	}
	cs := &commandStreams{conn: conn}
	timeout := time.After(10 * time.Second)
	for i := 0; i < expected; i++ {
		select {
		case s := <-streamCh:
			switch s.Headers().Get(corev1.StreamType) {
			case corev1.StreamTypeError:
				cs.status = s
			case corev1.StreamTypeStdin:
				cs.stdin = s
			case corev1.StreamTypeStdout:
				cs.stdout = s
			case corev1.StreamTypeStderr:
				cs.stderr = s
			case corev1.StreamTypeResize:
				// Terminal sizes are ignored.
				go func() { _, _ = io.Copy(io.Discard, s) }()
			}
		case <-timeout:
			conn.Close()
			return nil, false
		}
	}
	return cs, true
}

// finish reports the exit code on the status stream and closes the
// connection.
func (cs *commandStreams) finish(exitCode int, err error) {
	st := metav1.Status{Status: metav1.StatusSuccess}
	switch {
	case err != nil:
		st = metav1.Status{Status: metav1.StatusFailure, Message: err.Error()}
	case exitCode != 0:
		st = metav1.Status{
			Status: metav1.StatusFailure, Reason: remotecommand.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: exit status %d", exitCode),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: remotecommand.ExitCodeCauseType, Message: strconv.Itoa(exitCode)}}},
		}
	}
	if cs.status != nil {
		_ = json.NewEncoder(cs.status).Encode(st)
		cs.status.Close()
	}
	for _, s := range []httpstream.Stream{cs.stdout, cs.stderr} {
		if s != nil {
			s.Close()
		}
	}
	cs.conn.Close()
}

// serveExec runs the command as a local process wired to the streams.
func (r *Runtime) serveExec(w http.ResponseWriter, req *http.Request) {
	er, ok := r.take(req.PathValue("token")).(*runtimeapi.ExecRequest)
	if !ok {
		http.NotFound(w, req)
		return
	}
	cs, ok := acceptStreams(w, req, er.Stdin, er.Stdout, er.Stderr, er.Tty)
	if !ok {
		return
	}
	cmd := exec.CommandContext(req.Context(), er.Cmd[0], er.Cmd[1:]...)
	if cs.stdin != nil {
		cmd.Stdin = cs.stdin
	}
	if cs.stdout != nil {
		cmd.Stdout = cs.stdout
	}
	switch {
	case cs.stderr != nil:
		cmd.Stderr = cs.stderr
	case er.Tty:
		cmd.Stderr = cmd.Stdout
	}
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		cs.finish(exitErr.ExitCode(), nil)
		return
	}
	cs.finish(0, err)
}

// serveAttach attaches to an echo: stdin comes back on stdout until the
// client closes it.
func (r *Runtime) serveAttach(w http.ResponseWriter, req *http.Request) {
	ar, ok := r.take(req.PathValue("token")).(*runtimeapi.AttachRequest)
	if !ok {
		http.NotFound(w, req)
		return
	}
	cs, ok := acceptStreams(w, req, ar.Stdin, ar.Stdout, ar.Stderr, ar.Tty)
	if !ok {
		return
	}
	if cs.stdin != nil && cs.stdout != nil {
		_, _ = io.Copy(cs.stdout, cs.stdin)
	}
	cs.finish(0, nil)
}

// servePortForward serves the SPDY port forwarding protocol: each pair of
// streams (error, data) with a port header is connected to the port's
// local address.
func (r *Runtime) servePortForward(w http.ResponseWriter, req *http.Request) {
	if _, ok := r.take(req.PathValue("token")).(*runtimeapi.PortForwardRequest); !ok {
		http.NotFound(w, req)
		return
	}
	if _, err := httpstream.Handshake(req, w, []string{"portforward.k8s.io"}); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	var mu sync.Mutex
	errorStreams := map[string]httpstream.Stream{}
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, req, func(s httpstream.Stream, replySent <-chan struct{}) error {
		id := s.Headers().Get(corev1.PortForwardRequestIDHeader)
		switch s.Headers().Get(corev1.StreamType) {
		case corev1.StreamTypeError:
			mu.Lock()
			errorStreams[id] = s
			mu.Unlock()
		case corev1.StreamTypeData:
			mu.Lock()
			errStream := errorStreams[id]
			delete(errorStreams, id)
			mu.Unlock()
			go func() {
				<-replySent
				r.forward(s, errStream)
			}()
		}
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	conn.SetIdleTimeout(time.Minute)
	select {
	case <-conn.CloseChan():
	case <-req.Context().Done():
	}
}

// forward connects a data stream to its port's local address.
func (r *Runtime) forward(data, errStream httpstream.Stream) {
	defer data.Close()
	if errStream != nil {
		defer errStream.Close()
	}
	port, _ := strconv.Atoi(data.Headers().Get(corev1.PortHeader))
	r.mu.Lock()
	address, ok := r.portTargets[int32(port)]
	r.mu.Unlock()
	var target net.Conn
	var err error
	if ok {
		target, err = net.Dial("tcp", address)
	} else {
		err = fmt.Errorf("nothing listens on port %d", port)
	}
	if err != nil {
		if errStream != nil {
			fmt.Fprintf(errStream, "error forwarding port %d: %v", port, err)
		}
		return
	}
	defer target.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(target, data); done <- struct{}{} }()
	go func() { _, _ = io.Copy(data, target); done <- struct{}{} }()
	<-done
}
