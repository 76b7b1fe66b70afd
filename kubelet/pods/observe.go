package pods

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/strata-dev/strata/kubelet/cri"
)

// Limits of a termination message, as upstream's.
const (
	maxTerminationMessageLength   = 4 * 1024
	maxTerminationMessageLogBytes = 2 * 1024
	maxTerminationMessageLogLines = 80
)

// Observe reads what the runtime runs for the pod with uid: its sandboxes
// and containers with their statuses, newest first, and the termination
// messages of exited containers. runtimeName prefixes container IDs.
func Observe(ctx context.Context, runtime cri.RuntimeService, uid types.UID, runtimeName string) (*RuntimePod, error) {
	rt := &RuntimePod{UID: uid, RuntimeName: runtimeName}
	selector := map[string]string{PodUIDLabel: string(uid)}

	sandboxes, err := runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("listing the sandboxes of pod %s: %w", uid, err)
	}
	sort.SliceStable(sandboxes, func(i, j int) bool { return sandboxes[i].CreatedAt > sandboxes[j].CreatedAt })
	for _, s := range sandboxes {
		resp, err := runtime.PodSandboxStatus(ctx, s.Id, false)
		if cri.IsNotFound(err) {
			continue // removed since listed
		}
		if err != nil {
			return nil, fmt.Errorf("reading the status of sandbox %s: %w", s.Id, err)
		}
		if resp.GetStatus() == nil {
			return nil, fmt.Errorf("sandbox %s has no status", s.Id)
		}
		rt.Sandboxes = append(rt.Sandboxes, resp.Status)
	}
	if len(rt.Sandboxes) > 0 && rt.Sandboxes[0].State == runtimeapi.PodSandboxState_SANDBOX_READY {
		rt.IPs = sandboxIPs(rt.Sandboxes[0])
	}

	containers, err := runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("listing the containers of pod %s: %w", uid, err)
	}
	for _, c := range containers {
		resp, err := runtime.ContainerStatus(ctx, c.Id, false)
		if cri.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the status of container %s: %w", c.Id, err)
		}
		if resp.GetStatus() == nil {
			return nil, fmt.Errorf("container %s has no status", c.Id)
		}
		rt.Containers = append(rt.Containers, toRuntimeContainer(resp.Status, c.PodSandboxId, os.ReadFile))
	}
	sort.SliceStable(rt.Containers, func(i, j int) bool { return rt.Containers[i].CreatedAt.After(rt.Containers[j].CreatedAt) })
	return rt, nil
}

// sandboxIPs are a sandbox's IPs, primary first.
func sandboxIPs(s *runtimeapi.PodSandboxStatus) []string {
	var ips []string
	if ip := s.GetNetwork().GetIp(); ip != "" {
		ips = append(ips, ip)
	}
	for _, ip := range s.GetNetwork().GetAdditionalIps() {
		if ip.GetIp() != "" {
			ips = append(ips, ip.GetIp())
		}
	}
	return ips
}

// toRuntimeContainer reads a CRI container status, with the labels and
// annotations the kubelet put on it.
func toRuntimeContainer(s *runtimeapi.ContainerStatus, sandboxID string, readFile func(string) ([]byte, error)) *RuntimeContainer {
	c := &RuntimeContainer{
		ID:        s.Id,
		Name:      s.Labels[ContainerNameLabel],
		SandboxID: sandboxID,
		State:     toContainerState(s.State),
		CreatedAt: time.Unix(0, s.CreatedAt),
		Image:     s.GetImage().GetUserSpecifiedImage(),
		ImageRef:  s.ImageRef,
		Hash:      s.Annotations[containerHashAnnotation],
		LogPath:   s.LogPath,
	}
	if c.Name == "" {
		c.Name = s.GetMetadata().GetName()
	}
	if c.Image == "" {
		c.Image = s.GetImage().GetImage()
	}
	c.RestartCount, _ = strconv.Atoi(s.Annotations[containerRestartCountAnnotation])
	if linux := s.GetUser().GetLinux(); linux != nil {
		c.User = &corev1.ContainerUser{Linux: &corev1.LinuxContainerUser{
			UID:                linux.Uid,
			GID:                linux.Gid,
			SupplementalGroups: linux.SupplementalGroups,
		}}
	}
	if s.State != runtimeapi.ContainerState_CONTAINER_CREATED {
		c.StartedAt = time.Unix(0, s.StartedAt)
	}
	if s.State == runtimeapi.ContainerState_CONTAINER_EXITED {
		c.Reason = s.Reason
		c.Message = s.Message
		c.ExitCode = s.ExitCode
		c.FinishedAt = time.Unix(0, s.FinishedAt)
		fallbackToLogs := corev1.TerminationMessagePolicy(s.Annotations[containerTerminationMessagePolicyAnnotation]) == corev1.TerminationMessageFallbackToLogsOnError &&
			s.ExitCode != 0 && s.Reason != "ContainerCannotRun"
		message, checkLogs := terminationMessage(s, s.Annotations[containerTerminationMessagePathAnnotation], fallbackToLogs, readFile)
		if checkLogs {
			message = lastLogLines(s.LogPath, readFile)
		}
		if message != "" {
			if c.Message != "" {
				c.Message += ": "
			}
			c.Message += message
		}
	}
	return c
}

func toContainerState(s runtimeapi.ContainerState) ContainerState {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return ContainerCreated
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return ContainerRunning
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return ContainerExited
	}
	return ContainerUnknown
}

// terminationMessage reads the file the container wrote at its
// terminationMessagePath, through the mount the kubelet made for it, and
// says whether to fall back to the container's log.
func terminationMessage(s *runtimeapi.ContainerStatus, path string, fallbackToLogs bool, readFile func(string) ([]byte, error)) (string, bool) {
	if path == "" {
		return "", fallbackToLogs
	}
	for _, m := range s.Mounts {
		if m.ContainerPath != path {
			continue
		}
		data, err := readFile(m.HostPath)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fallbackToLogs
			}
			return fmt.Sprintf("Error on reading termination log %s: %v", m.HostPath, err), false
		}
		if len(data) > maxTerminationMessageLength {
			data = data[len(data)-maxTerminationMessageLength:]
		}
		return string(data), fallbackToLogs && len(data) == 0
	}
	return "", fallbackToLogs
}

// lastLogLines is the end of a container's log (CRI log format:
// "<time> <stream> <P|F> <text>"), at most 80 lines and 2KiB.
func lastLogLines(path string, readFile func(string) ([]byte, error)) string {
	if path == "" {
		return ""
	}
	data, err := readFile(path)
	if err != nil {
		return fmt.Sprintf("Error on reading termination message from logs: %v", err)
	}
	var out bytes.Buffer
	for _, line := range bytes.Split(data, []byte("\n")) {
		fields := bytes.SplitN(line, []byte(" "), 4)
		if len(fields) < 4 {
			continue
		}
		out.Write(fields[3])
		if string(fields[2]) != "P" {
			out.WriteByte('\n')
		}
	}
	lines := bytes.SplitAfter(out.Bytes(), []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	if len(lines) > maxTerminationMessageLogLines {
		lines = lines[len(lines)-maxTerminationMessageLogLines:]
	}
	tail := bytes.Join(lines, nil)
	if len(tail) > maxTerminationMessageLogBytes {
		tail = tail[len(tail)-maxTerminationMessageLogBytes:]
	}
	return string(tail)
}
