package pods

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strata-dev/strata/kubelet/cri"
)

// HookRunner runs a container's lifecycle hooks (postStart, preStop).
type HookRunner interface {
	// Run runs handler for the container with runtime ID containerID and
	// returns, on failure, a message for the event.
	Run(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, podIPs []string, handler *corev1.LifecycleHandler) (string, error)
}

// Hooks runs lifecycle handlers as upstream: exec in the container through
// the runtime, httpGet against the pod, sleep.
type Hooks struct {
	Runtime cri.RuntimeService
	// HTTP does the httpGet hooks (an insecure client when nil: hooks do
	// not verify certificates).
	HTTP *http.Client
}

// Run implements HookRunner.
func (h *Hooks) Run(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, podIPs []string, handler *corev1.LifecycleHandler) (string, error) {
	switch {
	case handler.Exec != nil:
		timeout := time.Duration(0)
		if deadline, ok := ctx.Deadline(); ok {
			timeout = time.Until(deadline)
		}
		stdout, stderr, err := h.Runtime.ExecSync(ctx, containerID, handler.Exec.Command, timeout)
		if err != nil {
			output := string(append(stdout, stderr...))
			return fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q",
				handler.Exec.Command, c.Name, podFullName(pod), err, output), err
		}
		return "", nil
	case handler.HTTPGet != nil:
		if err := h.httpGet(ctx, pod, c, podIPs, handler.HTTPGet); err != nil {
			return fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v",
				handler.HTTPGet.Path, c.Name, podFullName(pod), err), err
		}
		return "", nil
	case handler.Sleep != nil:
		t := time.NewTimer(time.Duration(handler.Sleep.Seconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
			return "", nil
		case <-ctx.Done():
			return "", nil // the grace period is over: not a failure
		}
	case handler.TCPSocket != nil:
		err := errors.New("tcpSocket is not supported in lifecycle hooks")
		return fmt.Sprintf("Lifecycle hook for Container %q in Pod %q failed - error: %v", c.Name, podFullName(pod), err), err
	}
	err := errors.New("the lifecycle handler has no action")
	return err.Error(), err
}

func (h *Hooks) httpGet(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIPs []string, action *corev1.HTTPGetAction) error {
	host := action.Host
	if host == "" {
		if len(podIPs) == 0 {
			return errors.New("the pod has no IP")
		}
		host = podIPs[0]
	}
	port, err := resolvePort(action.Port, c)
	if err != nil {
		return err
	}
	scheme := strings.ToLower(string(action.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	path := action.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, strconv.Itoa(port)), path))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	for _, header := range action.HTTPHeaders {
		if strings.EqualFold(header.Name, "host") {
			req.Host = header.Value
			continue
		}
		req.Header.Add(header.Name, header.Value)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "kube-lifecycle/strata")
	}
	client := h.HTTP
	if client == nil {
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // as upstream, hooks do not verify
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10*1024))
	if resp.StatusCode < http.StatusOK || resp.StatusCode >= http.StatusBadRequest {
		return fmt.Errorf("HTTP lifecycle hook (%s) returned %d", action.Path, resp.StatusCode)
	}
	return nil
}

// resolvePort turns a port number or the name of one of the container's
// ports into a number.
func resolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	if port.Type == intstr.Int {
		if port.IntVal <= 0 || port.IntVal > 65535 {
			return 0, fmt.Errorf("invalid port number: %d", port.IntVal)
		}
		return int(port.IntVal), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil && n > 0 && n <= 65535 {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port: %v in %v", port.StrVal, c.Name)
}
