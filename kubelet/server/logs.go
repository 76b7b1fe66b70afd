package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/strata-dev/strata/kubelet/containerlogs"
	"github.com/strata-dev/strata/nucleus/validation"
)

// containerLogs serves /containerLogs/{namespace}/{pod}/{container} with
// upstream's answers: 400 for a bad query or a container without logs
// yet, 422 for invalid options, 404 for an unknown pod or container.
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) {
	namespace, name, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	opts, err := parseLogOptions(r.URL.Query())
	if err != nil {
		writeError(w, `{"message": "Unable to decode query."}`, http.StatusBadRequest)
		return
	}
	if errs := validation.ValidatePodLogOptions(opts); len(errs) > 0 {
		writeError(w, `{"message": "Invalid request."}`, http.StatusUnprocessableEntity)
		return
	}
	pod, ok := s.pod(namespace, name, "")
	if !ok {
		writeError(w, fmt.Sprintf("pod %q does not exist", name), http.StatusNotFound)
		return
	}
	if !hasContainer(pod, container) {
		writeError(w, fmt.Sprintf("container %q not found in pod %q", container, name), http.StatusNotFound)
		return
	}
	id, err := logContainerID(pod, container, opts.Previous)
	if err != nil {
		writeError(w, err.Error(), http.StatusBadRequest)
		return
	}
	path, _, err := s.containerLog(r.Context(), id)
	if err != nil {
		writeError(w, err.Error(), http.StatusBadRequest)
		return
	}

	copts := containerlogs.FromPodLogOptions(opts, s.cfg.Now())
	copts.PollInterval = s.cfg.LogPollInterval
	copts.Running = func(ctx context.Context) bool {
		_, running, err := s.containerLog(ctx, id)
		return err == nil && running
	}
	w.Header().Set("Content-Type", "text/plain")
	out := io.Writer(w)
	if f, ok := w.(http.Flusher); ok && opts.Follow {
		out = flushWriter{w: w, f: f}
	}
	if err := containerlogs.Copy(r.Context(), out, path, copts); err != nil {
		// Part of the log may be out already: the status is sent.
		fmt.Fprintf(w, "\nreading the log of container %q: %v\n", container, err)
	}
}

// containerLog asks the runtime for a container's log file and whether it
// runs.
func (s *Server) containerLog(ctx context.Context, id string) (string, bool, error) {
	resp, err := s.cfg.Runtime.ContainerStatus(ctx, id, false)
	if err != nil {
		return "", false, fmt.Errorf("failed to get container status %q: %w", id, err)
	}
	status := resp.GetStatus()
	if status.GetLogPath() == "" {
		return "", false, fmt.Errorf("container %q has no log file", id)
	}
	return status.GetLogPath(), status.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING, nil
}

// flushWriter sends every write to the client at once, for followers.
type flushWriter struct {
	w io.Writer
	f http.Flusher
}

func (fw flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	fw.f.Flush()
	return n, err
}

// parseLogOptions reads PodLogOptions from the query, accepting the
// legacy tail=N|all for tailLines.
func parseLogOptions(query url.Values) (*corev1.PodLogOptions, error) {
	opts := &corev1.PodLogOptions{}
	if tail := query.Get("tail"); tail != "" {
		query = cloneValues(query)
		query.Del("tail")
		if tail != "all" {
			query.Set("tailLines", tail)
		}
	}
	opts.Container = query.Get("container")
	for key, out := range map[string]*bool{
		"follow": &opts.Follow, "previous": &opts.Previous, "timestamps": &opts.Timestamps,
		"insecureSkipTLSVerifyBackend": &opts.InsecureSkipTLSVerifyBackend,
	} {
		if values, ok := query[key]; ok {
			if err := runtime.Convert_Slice_string_To_bool(&values, out, nil); err != nil {
				return nil, err
			}
		}
	}
	for key, out := range map[string]**int64{"sinceSeconds": &opts.SinceSeconds, "tailLines": &opts.TailLines, "limitBytes": &opts.LimitBytes} {
		if values, ok := query[key]; ok {
			if err := runtime.Convert_Slice_string_To_Pointer_int64(&values, out, nil); err != nil {
				return nil, err
			}
		}
	}
	if values, ok := query["sinceTime"]; ok {
		if err := metav1.Convert_Slice_string_To_Pointer_v1_Time(&values, &opts.SinceTime, nil); err != nil {
			return nil, err
		}
	}
	if values, ok := query["stream"]; ok && len(values) > 0 {
		opts.Stream = &values[0]
	}
	return opts, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// hasContainer reports whether the pod's spec has the container.
func hasContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// logContainerID picks the runtime container whose log a request reads,
// from the pod's status: the running or last terminated one, or with
// previous the one before. The errors are the kubelet's.
func logContainerID(pod *corev1.Pod, container string, previous bool) (string, error) {
	status, found := containerStatus(pod, container)
	if !found {
		return "", fmt.Errorf("container %q in pod %q is not available", container, pod.Name)
	}
	last := status.LastTerminationState.Terminated
	var id string
	switch state := status.State; {
	case previous:
		if last == nil || last.ContainerID == "" {
			return "", fmt.Errorf("previous terminated container %q in pod %q not found", container, pod.Name)
		}
		id = last.ContainerID
	case state.Running != nil:
		id = status.ContainerID
	case state.Terminated != nil:
		// A restart that failed to create the next container leaves only
		// the last one's logs.
		switch {
		case state.Terminated.ContainerID != "":
			id = state.Terminated.ContainerID
		case last != nil && last.ContainerID != "":
			id = last.ContainerID
		default:
			return "", fmt.Errorf("container %q in pod %q is terminated", container, pod.Name)
		}
	case last != nil:
		if last.ContainerID == "" {
			return "", fmt.Errorf("container %q in pod %q is terminated", container, pod.Name)
		}
		id = last.ContainerID
	case state.Waiting != nil:
		switch reason := state.Waiting.Reason; reason {
		case "ErrImagePull":
			return "", fmt.Errorf("container %q in pod %q is waiting to start: image can't be pulled", container, pod.Name)
		case "ImagePullBackOff":
			return "", fmt.Errorf("container %q in pod %q is waiting to start: trying and failing to pull image", container, pod.Name)
		default:
			return "", fmt.Errorf("container %q in pod %q is waiting to start: %s", container, pod.Name, reason)
		}
	default:
		return "", fmt.Errorf("container %q in pod %q is waiting to start - no logs yet", container, pod.Name)
	}
	return runtimeID(id), nil
}

// containerStatus finds a container's status among the pod's regular,
// init and ephemeral container statuses.
func containerStatus(pod *corev1.Pod, name string) (corev1.ContainerStatus, bool) {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for _, s := range list {
			if s.Name == name {
				return s, true
			}
		}
	}
	return corev1.ContainerStatus{}, false
}

// runtimeID strips the runtime's scheme from a status' containerID
// ("containerd://abc" → "abc").
func runtimeID(id string) string {
	if _, after, ok := strings.Cut(id, "://"); ok {
		return after
	}
	return id
}
