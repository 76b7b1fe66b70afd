package pod

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// The kubelet API paths the pod subresources are proxied to.
const (
	kubeletLogsPath        = "/containerLogs/%s/%s/%s"
	kubeletExecPath        = "/exec/%s/%s/%s"
	kubeletAttachPath      = "/attach/%s/%s/%s"
	kubeletPortForwardPath = "/portForward/%s/%s"
)

// containerFor returns the container a log, exec or attach request is for:
// the named one, which must be one of the pod's (init, regular or
// ephemeral) containers, or else the pod's only regular container. The
// errors are upstream's 400s.
func containerFor(pod *corev1.Pod, name string) (string, error) {
	if name != "" {
		if !hasContainer(pod, name) {
			return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
		}
		return name, nil
	}
	switch len(pod.Spec.Containers) {
	case 1:
		return pod.Spec.Containers[0].Name, nil
	case 0:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
	default:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %s", pod.Name, containerNames(pod)))
	}
}

// containerNames lists the pod's containers in upstream's visiting order:
// init containers, regular containers, ephemeral containers.
func containerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	return names
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, n := range containerNames(pod) {
		if n == name {
			return true
		}
	}
	return false
}

// logQuery is the kubelet query for a pods/log request.
func logQuery(opts *corev1.PodLogOptions) url.Values {
	q := url.Values{}
	if opts.Follow {
		q.Set("follow", "true")
	}
	if opts.Previous {
		q.Set("previous", "true")
	}
	if opts.Timestamps {
		q.Set("timestamps", "true")
	}
	if opts.SinceSeconds != nil {
		q.Set("sinceSeconds", strconv.FormatInt(*opts.SinceSeconds, 10))
	}
	if opts.SinceTime != nil {
		q.Set("sinceTime", opts.SinceTime.Format(time.RFC3339))
	}
	if opts.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*opts.TailLines, 10))
	}
	if opts.LimitBytes != nil {
		q.Set("limitBytes", strconv.FormatInt(*opts.LimitBytes, 10))
	}
	if opts.Stream != nil {
		q.Set("stream", *opts.Stream)
	}
	return q
}

// streamQuery is the kubelet query for exec and attach: the streams as
// "1" flags under the kubelet's names, and the command.
func streamQuery(stdin, stdout, stderr, tty bool, command []string) url.Values {
	q := url.Values{}
	for param, on := range map[string]bool{
		corev1.ExecStdinParam:  stdin,
		corev1.ExecStdoutParam: stdout,
		corev1.ExecStderrParam: stderr,
		corev1.ExecTTYParam:    tty,
	} {
		if on {
			q.Set(param, "1")
		}
	}
	for _, c := range command {
		q.Add(corev1.ExecCommandParam, c)
	}
	return q
}

// portForwardQuery is the kubelet query for port forwarding: the ports,
// comma separated.
func portForwardQuery(opts *corev1.PodPortForwardOptions) url.Values {
	q := url.Values{}
	if len(opts.Ports) > 0 {
		ports := make([]string, len(opts.Ports))
		for i, p := range opts.Ports {
			ports[i] = strconv.Itoa(int(p))
		}
		q.Set(corev1.PortHeader, strings.Join(ports, ","))
	}
	return q
}
