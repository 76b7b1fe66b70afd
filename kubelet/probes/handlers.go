package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	remote "k8s.io/cri-client/pkg"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/pods"
)

// exec runs the probe's command in the container through the runtime: an
// exit code of 0 succeeds, any other fails with the command's output, a
// command that timed out fails.
func (p *prober) exec(ctx context.Context, c *corev1.Container, containerID string, action *corev1.ExecAction, timeout time.Duration) probeOutput {
	if p.runtime == nil {
		return probeOutput{outcome: outcomeUnknown, err: errors.New("no container runtime to run exec probes")}
	}
	command := expandStatic(action.Command, c.Env)
	stdout, stderr, err := p.runtime.ExecSync(ctx, containerID, command, timeout)
	// As upstream: stdout then stderr, not interleaved.
	output := truncate(string(stdout) + string(stderr))
	if err != nil {
		if code, ok := cri.ExitCode(err); ok {
			if code == 0 {
				return probeOutput{outcome: outcomeSuccess, output: output}
			}
			return probeOutput{outcome: outcomeFailure, output: output}
		}
		if errors.Is(err, remote.ErrCommandTimedOut) {
			return probeOutput{outcome: outcomeFailure, output: err.Error()}
		}
		return probeOutput{outcome: outcomeUnknown, err: err}
	}
	return probeOutput{outcome: outcomeSuccess, output: output}
}

// expandStatic expands $(VAR) in an exec probe's command with the values
// of the container's env, as upstream's (no valueFrom, no envFrom: the
// probe does not see the resolved environment).
func expandStatic(command []string, env []corev1.EnvVar) []string {
	values := make(map[string]string, len(env))
	for _, e := range env {
		values[e.Name] = e.Value
	}
	lookup := func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	}
	out := make([]string, len(command))
	for i, s := range command {
		out[i] = pods.Expand(s, lookup)
	}
	return out
}

// tcpSocket opens a TCP connection to the port (on the pod's IP unless the
// probe names a host): it succeeds if the connection opens.
func (p *prober) tcpSocket(ctx context.Context, c *corev1.Container, podIP string, action *corev1.TCPSocketAction, timeout time.Duration) probeOutput {
	port, err := resolvePort(action.Port, c)
	if err != nil {
		return probeOutput{outcome: outcomeUnknown, err: err}
	}
	host := action.Host
	if host == "" {
		host = podIP
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		// Errors are failures, so that timeouts are.
		return probeOutput{outcome: outcomeFailure, output: err.Error()}
	}
	_ = conn.Close()
	return probeOutput{outcome: outcomeSuccess}
}

// resolvePort turns a probe's port, a number or the name of one of the
// container's ports, into a number, as upstream's ResolveContainerPort.
func resolvePort(param intstr.IntOrString, c *corev1.Container) (int, error) {
	port := -1
	switch param.Type {
	case intstr.Int:
		port = param.IntValue()
	case intstr.String:
		found := false
		for _, p := range c.Ports {
			if p.Name == param.StrVal {
				port, found = int(p.ContainerPort), true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("port %q not found", param.StrVal)
		}
	default:
		return port, fmt.Errorf("intOrString had no kind: %+v", param)
	}
	if port > 0 && port < 65536 {
		return port, nil
	}
	return port, fmt.Errorf("invalid port number: %v", port)
}

// truncate keeps the first maxOutputLength bytes of a probe's output.
func truncate(s string) string {
	if len(s) > maxOutputLength {
		return s[:maxOutputLength]
	}
	return s
}
