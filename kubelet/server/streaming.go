package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/proxy"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// podUIDLabel is the label the kubelet puts on a pod's sandbox with the
// pod's UID (upstream's key).
const podUIDLabel = "io.kubernetes.pod.uid"

// runtimeUID is the UID a pod's sandbox is labelled with: a mirror pod's
// is its static pod's (kubelet/pods.PodUID).
func runtimeUID(pod *corev1.Pod) types.UID {
	if hash := pod.Annotations[corev1.MirrorPodAnnotationKey]; hash != "" {
		return types.UID(hash)
	}
	return pod.UID
}

// streams are the standard streams a client asked for.
type streams struct {
	stdin, stdout, stderr, tty bool
}

// parseStreams reads the stream flags as upstream's kubelet does: a tty
// carries stderr in stdout, and at least one stream is needed.
func parseStreams(q url.Values) (streams, error) {
	s := streams{
		stdin:  q.Get(corev1.ExecStdinParam) == "1",
		stdout: q.Get(corev1.ExecStdoutParam) == "1",
		stderr: q.Get(corev1.ExecStderrParam) == "1",
		tty:    q.Get(corev1.ExecTTYParam) == "1",
	}
	if s.tty && s.stderr {
		s.stderr = false
	}
	if !s.stdin && !s.stdout && !s.stderr {
		return s, errors.New("you must specify at least 1 of stdin, stdout, stderr")
	}
	return s, nil
}

// exec runs a command in a container: the runtime's streaming server
// serves it, the kubelet proxies the client to it.
func (s *Server) exec(w http.ResponseWriter, r *http.Request) {
	id, st, ok := s.streamTarget(w, r)
	if !ok {
		return
	}
	resp, err := s.cfg.Runtime.Exec(r.Context(), &runtimeapi.ExecRequest{
		ContainerId: id, Cmd: r.URL.Query()[corev1.ExecCommandParam],
		Tty: st.tty, Stdin: st.stdin, Stdout: st.stdout, Stderr: st.stderr,
	})
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	proxyStream(w, r, resp.GetUrl())
}

// attach attaches to a running container's streams.
func (s *Server) attach(w http.ResponseWriter, r *http.Request) {
	id, st, ok := s.streamTarget(w, r)
	if !ok {
		return
	}
	resp, err := s.cfg.Runtime.Attach(r.Context(), &runtimeapi.AttachRequest{
		ContainerId: id, Tty: st.tty, Stdin: st.stdin, Stdout: st.stdout, Stderr: st.stderr,
	})
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	proxyStream(w, r, resp.GetUrl())
}

// streamTarget resolves the running container and the streams of an exec
// or attach request, answering the client itself when it cannot.
func (s *Server) streamTarget(w http.ResponseWriter, r *http.Request) (string, streams, bool) {
	st, err := parseStreams(r.URL.Query())
	if err != nil {
		writeError(w, err.Error(), http.StatusBadRequest)
		return "", st, false
	}
	pod, ok := s.pod(r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("uid"))
	if !ok {
		writeError(w, "pod does not exist", http.StatusNotFound)
		return "", st, false
	}
	container := r.PathValue("container")
	status, found := containerStatus(pod, container)
	if !found || status.State.Running == nil || status.ContainerID == "" {
		writeError(w, fmt.Sprintf("container not found (%q)", container), http.StatusNotFound)
		return "", st, false
	}
	return runtimeID(status.ContainerID), st, true
}

// portForward forwards the client's streams to ports in the pod's
// network namespace, through its sandbox.
func (s *Server) portForward(w http.ResponseWriter, r *http.Request) {
	ports, err := parsePorts(r.URL.Query().Get(corev1.PortHeader))
	if err != nil {
		writeError(w, err.Error(), http.StatusBadRequest)
		return
	}
	pod, ok := s.pod(r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("uid"))
	if !ok {
		writeError(w, "pod does not exist", http.StatusNotFound)
		return
	}
	sandboxes, err := s.cfg.Runtime.ListPodSandbox(r.Context(), &runtimeapi.PodSandboxFilter{
		State:         &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
		LabelSelector: map[string]string{podUIDLabel: string(runtimeUID(pod))},
	})
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	if len(sandboxes) == 0 {
		writeError(w, fmt.Sprintf("pod not found (%q)", pod.Name+"_"+pod.Namespace), http.StatusNotFound)
		return
	}
	resp, err := s.cfg.Runtime.PortForward(r.Context(), &runtimeapi.PortForwardRequest{PodSandboxId: sandboxes[0].GetId(), Port: ports})
	if err != nil {
		writeRuntimeError(w, err)
		return
	}
	proxyStream(w, r, resp.GetUrl())
}

// parsePorts reads the comma separated ports of a port forward; SPDY
// clients name them per stream instead, so none is fine.
func parsePorts(value string) ([]int32, error) {
	if value == "" {
		return nil, nil
	}
	var ports []int32
	for _, p := range strings.Split(value, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("unable to parse %q as a port", p)
		}
		ports = append(ports, int32(n))
	}
	return ports, nil
}

// proxyStream proxies the client's upgrade request to the runtime's
// streaming server.
func proxyStream(w http.ResponseWriter, r *http.Request, rawURL string) {
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() {
		writeError(w, fmt.Sprintf("the runtime returned an unusable streaming URL %q", rawURL), http.StatusInternalServerError)
		return
	}
	proxy.NewUpgradeAwareHandler(u, nil, false, true, errorResponder{}).ServeHTTP(w, r)
}

// errorResponder answers proxy failures with a 500 carrying the error.
type errorResponder struct{}

func (errorResponder) Error(w http.ResponseWriter, r *http.Request, err error) {
	klog.FromContext(r.Context()).Error(err, "Proxying a stream to the runtime failed", "path", r.URL.Path)
	writeError(w, err.Error(), http.StatusInternalServerError)
}

// writeRuntimeError answers a failed CRI call with the status its gRPC
// code maps to, as the kubelet's streaming errors do.
func writeRuntimeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.NotFound:
			code = http.StatusNotFound
		case codes.ResourceExhausted:
			code = http.StatusTooManyRequests
		case codes.InvalidArgument:
			code = http.StatusBadRequest
		case codes.Unavailable:
			code = http.StatusServiceUnavailable
		}
	}
	writeError(w, err.Error(), code)
}
