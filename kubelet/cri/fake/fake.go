// Package fake is an in-memory container runtime for unit tests of the
// kubelet. Sandboxes get IPs at once, containers run until a test makes
// them exit (Exit, OOMKill) or a Behavior does, images pull unless a test
// makes them fail, and every call that changes something is written to a
// log (Calls) in terms a test can compare: namespace/pod/container names
// rather than IDs.
package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"
	utilexec "k8s.io/utils/exec"

	"github.com/strata-dev/strata/kubelet/cri"
)

// Well-known label keys the kubelet puts on sandboxes and containers; the
// fake reads them to name objects in its call log.
const (
	podNameLabel       = "io.kubernetes.pod.name"
	podNamespaceLabel  = "io.kubernetes.pod.namespace"
	containerNameLabel = "io.kubernetes.container.name"
)

// Exit reasons as containerd reports them.
const (
	ReasonCompleted = "Completed"
	ReasonError     = "Error"
	ReasonOOMKilled = "OOMKilled"
)

// Behavior says what containers of one name do. The zero value runs until
// stopped.
type Behavior struct {
	// ExitOnStart makes the container exit with this code as soon as it
	// starts (a crashing or a run-to-completion container).
	ExitOnStart *int32
	// OOMOnStart makes the container be OOM-killed (exit code 137, reason
	// OOMKilled) as soon as it starts.
	OOMOnStart bool
	// StopExitCode is the exit code after StopContainer (137 when nil, as
	// a process killed after its grace period).
	StopExitCode *int32
	// CreateError and StartError fail CreateContainer and StartContainer.
	CreateError error
	StartError  error
}

// ExecFunc answers ExecSync: what the command prints and its exit code.
type ExecFunc func(containerID string, cmd []string) (stdout, stderr string, exitCode int)

// Runtime is an in-memory cri.Runtime. It is safe for concurrent use.
type Runtime struct {
	mu         sync.Mutex
	clock      clock.PassiveClock
	nextID     int
	nextIP     int
	lastCreate int64
	sandboxes  map[string]*sandbox
	containers map[string]*container
	images     map[string]*runtimeapi.Image
	pullErrors map[string]error
	pullUsers  map[string]string
	behaviors  map[string]Behavior
	injected   map[string][]error
	exec       ExecFunc
	calls      []string
	// conditions are what Status reports, by type.
	conditions map[string]*runtimeapi.RuntimeCondition
}

type sandbox struct {
	status *runtimeapi.PodSandboxStatus
	config *runtimeapi.PodSandboxConfig
}

type container struct {
	status    *runtimeapi.ContainerStatus
	sandboxID string
	config    *runtimeapi.ContainerConfig
}

var _ cri.Runtime = &Runtime{}

// New returns an empty runtime whose timestamps come from clk.
func New(clk clock.PassiveClock) *Runtime {
	return &Runtime{
		clock:      clk,
		sandboxes:  map[string]*sandbox{},
		containers: map[string]*container{},
		images:     map[string]*runtimeapi.Image{},
		pullErrors: map[string]error{},
		pullUsers:  map[string]string{},
		behaviors:  map[string]Behavior{},
		injected:   map[string][]error{},
		conditions: map[string]*runtimeapi.RuntimeCondition{
			runtimeapi.RuntimeReady: {Type: runtimeapi.RuntimeReady, Status: true},
			runtimeapi.NetworkReady: {Type: runtimeapi.NetworkReady, Status: true},
		},
	}
}

// --- Controls for tests ---

// SetBehavior sets what containers named name (in any pod) do from now on.
func (r *Runtime) SetBehavior(name string, b Behavior) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.behaviors[name] = b
}

// AddImage makes image present, as if pulled earlier.
func (r *Runtime) AddImage(image string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addImageLocked(image)
}

// RequirePullUser makes pulls of image fail as unauthorized unless they
// come with the credentials of user (empty: anonymous pulls succeed again).
func (r *Runtime) RequirePullUser(image, user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pullUsers[image] = user
}

// SetPullError makes pulls of image fail with err (nil: succeed again).
func (r *Runtime) SetPullError(image string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		delete(r.pullErrors, image)
		return
	}
	r.pullErrors[image] = err
}

// InjectError makes the next call of method (for example
// "RunPodSandbox") fail with err. Several injections fail as many calls.
func (r *Runtime) InjectError(method string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.injected[method] = append(r.injected[method], err)
}

// SetCondition sets a condition Status reports (RuntimeReady and
// NetworkReady are true until a test changes them).
func (r *Runtime) SetCondition(conditionType string, status bool, reason, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conditions[conditionType] = &runtimeapi.RuntimeCondition{Type: conditionType, Status: status, Reason: reason, Message: message}
}

// SetExec answers ExecSync calls.
func (r *Runtime) SetExec(f ExecFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exec = f
}

// Exit makes a running container exit with code and reason ("Completed"
// or "Error" by the code when empty).
func (r *Runtime) Exit(containerID string, code int32, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok {
		return cri.NotFound("container %q not found", containerID)
	}
	if c.status.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return fmt.Errorf("container %q is not running", containerID)
	}
	r.exitLocked(c, code, reason)
	return nil
}

// OOMKill makes a running container be killed by the OOM killer.
func (r *Runtime) OOMKill(containerID string) error {
	return r.Exit(containerID, 137, ReasonOOMKilled)
}

// ContainerID is the ID of the newest container named name in pod
// namespace/podName, or "" when there is none.
func (r *Runtime) ContainerID(namespace, podName, name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var newest *container
	for _, c := range r.containers {
		l := c.status.Labels
		if l[podNamespaceLabel] != namespace || l[podNameLabel] != podName || c.status.Metadata.Name != name {
			continue
		}
		if newest == nil || c.status.CreatedAt > newest.status.CreatedAt {
			newest = c
		}
	}
	if newest == nil {
		return ""
	}
	return newest.status.Id
}

// ContainerConfig is the config a container was created with.
func (r *Runtime) ContainerConfig(containerID string) *runtimeapi.ContainerConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.containers[containerID]; ok {
		return c.config
	}
	return nil
}

// SandboxConfigs are the configs of every sandbox, oldest first.
func (r *Runtime) SandboxConfigs() []*runtimeapi.PodSandboxConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := make([]*sandbox, 0, len(r.sandboxes))
	for _, s := range r.sandboxes {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].status.CreatedAt < all[j].status.CreatedAt })
	configs := make([]*runtimeapi.PodSandboxConfig, len(all))
	for i, s := range all {
		configs[i] = s.config
	}
	return configs
}

// Running lists the running containers as namespace/pod/container.
func (r *Runtime) Running() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, c := range r.containers {
		if c.status.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			names = append(names, containerName(c.status.Labels, c.status.Metadata.Name))
		}
	}
	sort.Strings(names)
	return names
}

// Calls is the log of the calls that changed something, oldest first, such
// as "RunPodSandbox default/web attempt=0", "PullImage busybox",
// "StartContainer default/web/app" or "StopContainer default/web/app timeout=30".
func (r *Runtime) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// ResetCalls empties the call log.
func (r *Runtime) ResetCalls() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// --- cri.RuntimeService ---

// Version implements cri.RuntimeService.
func (r *Runtime) Version(ctx context.Context, apiVersion string) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{
		Version:           "0.1.0",
		RuntimeName:       "fake",
		RuntimeVersion:    "1.0.0",
		RuntimeApiVersion: "v1",
	}, nil
}

// Status implements cri.RuntimeService: the conditions (see SetCondition)
// and the default handler.
func (r *Runtime) Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injectedLocked("Status"); err != nil {
		return nil, err
	}
	var conditions []*runtimeapi.RuntimeCondition
	for _, t := range slices.Sorted(maps.Keys(r.conditions)) {
		conditions = append(conditions, clone(r.conditions[t]))
	}
	return &runtimeapi.StatusResponse{
		Status:          &runtimeapi.RuntimeStatus{Conditions: conditions},
		RuntimeHandlers: []*runtimeapi.RuntimeHandler{{Name: "", Features: &runtimeapi.RuntimeHandlerFeatures{}}},
		Features:        &runtimeapi.RuntimeFeatures{},
	}, nil
}

// RunPodSandbox implements cri.RuntimeService.
func (r *Runtime) RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	meta := config.GetMetadata()
	r.logf("RunPodSandbox %s/%s attempt=%d", meta.GetNamespace(), meta.GetName(), meta.GetAttempt())
	if err := r.injectedLocked("RunPodSandbox"); err != nil {
		return "", err
	}
	id := r.newIDLocked("sandbox")
	status := &runtimeapi.PodSandboxStatus{
		Id:             id,
		Metadata:       meta,
		State:          runtimeapi.PodSandboxState_SANDBOX_READY,
		CreatedAt:      r.createdAtLocked(),
		Labels:         config.GetLabels(),
		Annotations:    config.GetAnnotations(),
		RuntimeHandler: runtimeHandler,
		Network:        &runtimeapi.PodSandboxNetworkStatus{},
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{
			Options: config.GetLinux().GetSecurityContext().GetNamespaceOptions(),
		}},
	}
	if config.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() != runtimeapi.NamespaceMode_NODE {
		n := r.nextIP
		r.nextIP++
		status.Network.Ip = fmt.Sprintf("10.88.%d.%d", n/250, n%250+2)
	}
	r.sandboxes[id] = &sandbox{status: status, config: config}
	return id, nil
}

// StopPodSandbox implements cri.RuntimeService: the sandbox's running
// containers are killed at once, as containerd does.
func (r *Runtime) StopPodSandbox(ctx context.Context, podSandboxID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[podSandboxID]
	if !ok {
		return cri.NotFound("pod sandbox %q not found", podSandboxID)
	}
	r.logf("StopPodSandbox %s/%s", s.status.Metadata.Namespace, s.status.Metadata.Name)
	if err := r.injectedLocked("StopPodSandbox"); err != nil {
		return err
	}
	for _, c := range r.containers {
		if c.sandboxID == podSandboxID && c.status.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			r.exitLocked(c, 137, "")
		}
	}
	s.status.State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	return nil
}

// RemovePodSandbox implements cri.RuntimeService.
func (r *Runtime) RemovePodSandbox(ctx context.Context, podSandboxID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[podSandboxID]
	if !ok {
		return nil
	}
	r.logf("RemovePodSandbox %s/%s", s.status.Metadata.Namespace, s.status.Metadata.Name)
	if err := r.injectedLocked("RemovePodSandbox"); err != nil {
		return err
	}
	for id, c := range r.containers {
		if c.sandboxID == podSandboxID {
			delete(r.containers, id)
		}
	}
	delete(r.sandboxes, podSandboxID)
	return nil
}

// PodSandboxStatus implements cri.RuntimeService.
func (r *Runtime) PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injectedLocked("PodSandboxStatus"); err != nil {
		return nil, err
	}
	s, ok := r.sandboxes[podSandboxID]
	if !ok {
		return nil, cri.NotFound("pod sandbox %q not found", podSandboxID)
	}
	return &runtimeapi.PodSandboxStatusResponse{Status: clone(s.status)}, nil
}

// ListPodSandbox implements cri.RuntimeService.
func (r *Runtime) ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injectedLocked("ListPodSandbox"); err != nil {
		return nil, err
	}
	var list []*runtimeapi.PodSandbox
	for _, s := range r.sandboxes {
		st := s.status
		if filter.GetId() != "" && filter.GetId() != st.Id {
			continue
		}
		if filter.GetState() != nil && filter.GetState().GetState() != st.State {
			continue
		}
		if !matches(filter.GetLabelSelector(), st.Labels) {
			continue
		}
		list = append(list, &runtimeapi.PodSandbox{
			Id:             st.Id,
			Metadata:       st.Metadata,
			State:          st.State,
			CreatedAt:      st.CreatedAt,
			Labels:         st.Labels,
			Annotations:    st.Annotations,
			RuntimeHandler: st.RuntimeHandler,
		})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].CreatedAt < list[j].CreatedAt })
	return list, nil
}

// CreateContainer implements cri.RuntimeService.
func (r *Runtime) CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := containerName(config.GetLabels(), config.GetMetadata().GetName())
	r.logf("CreateContainer %s attempt=%d", name, config.GetMetadata().GetAttempt())
	if err := r.injectedLocked("CreateContainer"); err != nil {
		return "", err
	}
	if err := r.behaviors[config.GetMetadata().GetName()].CreateError; err != nil {
		return "", err
	}
	s, ok := r.sandboxes[podSandboxID]
	if !ok {
		return "", cri.NotFound("pod sandbox %q not found", podSandboxID)
	}
	if s.status.State != runtimeapi.PodSandboxState_SANDBOX_READY {
		return "", fmt.Errorf("pod sandbox %q is not ready", podSandboxID)
	}
	image, ok := r.images[config.GetImage().GetImage()]
	if !ok {
		image, ok = r.imageByRefLocked(config.GetImage().GetImage())
	}
	if !ok {
		return "", cri.NotFound("image %q not found", config.GetImage().GetImage())
	}
	id := r.newIDLocked("container")
	r.containers[id] = &container{
		sandboxID: podSandboxID,
		config:    config,
		status: &runtimeapi.ContainerStatus{
			Id:          id,
			Metadata:    config.GetMetadata(),
			State:       runtimeapi.ContainerState_CONTAINER_CREATED,
			CreatedAt:   r.createdAtLocked(),
			Image:       &runtimeapi.ImageSpec{Image: config.GetImage().GetUserSpecifiedImage()},
			ImageRef:    image.Id,
			ImageId:     image.Id,
			Labels:      config.GetLabels(),
			Annotations: config.GetAnnotations(),
			Mounts:      config.GetMounts(),
			LogPath:     logPath(sandboxConfig.GetLogDirectory(), config.GetLogPath()),
		},
	}
	return id, nil
}

// StartContainer implements cri.RuntimeService.
func (r *Runtime) StartContainer(ctx context.Context, containerID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok {
		return cri.NotFound("container %q not found", containerID)
	}
	r.logf("StartContainer %s", containerName(c.status.Labels, c.status.Metadata.Name))
	if err := r.injectedLocked("StartContainer"); err != nil {
		return err
	}
	b := r.behaviors[c.status.Metadata.Name]
	if b.StartError != nil {
		return b.StartError
	}
	if c.status.State != runtimeapi.ContainerState_CONTAINER_CREATED {
		return fmt.Errorf("container %q is in state %s, not created", containerID, c.status.State)
	}
	c.status.State = runtimeapi.ContainerState_CONTAINER_RUNNING
	c.status.StartedAt = r.clock.Now().UnixNano()
	switch {
	case b.OOMOnStart:
		r.exitLocked(c, 137, ReasonOOMKilled)
	case b.ExitOnStart != nil:
		r.exitLocked(c, *b.ExitOnStart, "")
	}
	return nil
}

// StopContainer implements cri.RuntimeService. The container stops at
// once; the log records the timeout the kubelet gave.
func (r *Runtime) StopContainer(ctx context.Context, containerID string, timeout int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok {
		return cri.NotFound("container %q not found", containerID)
	}
	r.logf("StopContainer %s timeout=%d", containerName(c.status.Labels, c.status.Metadata.Name), timeout)
	if err := r.injectedLocked("StopContainer"); err != nil {
		return err
	}
	switch c.status.State {
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		code := int32(137)
		if b := r.behaviors[c.status.Metadata.Name]; b.StopExitCode != nil {
			code = *b.StopExitCode
		}
		r.exitLocked(c, code, "")
	case runtimeapi.ContainerState_CONTAINER_CREATED, runtimeapi.ContainerState_CONTAINER_UNKNOWN:
		c.status.State = runtimeapi.ContainerState_CONTAINER_EXITED
		c.status.FinishedAt = r.clock.Now().UnixNano()
		c.status.Reason = ReasonError
	}
	return nil
}

// RemoveContainer implements cri.RuntimeService.
func (r *Runtime) RemoveContainer(ctx context.Context, containerID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok {
		return nil
	}
	r.logf("RemoveContainer %s", containerName(c.status.Labels, c.status.Metadata.Name))
	if err := r.injectedLocked("RemoveContainer"); err != nil {
		return err
	}
	if c.status.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
		return fmt.Errorf("container %q is running", containerID)
	}
	delete(r.containers, containerID)
	return nil
}

// ListContainers implements cri.RuntimeService.
func (r *Runtime) ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injectedLocked("ListContainers"); err != nil {
		return nil, err
	}
	var list []*runtimeapi.Container
	for _, c := range r.containers {
		st := c.status
		if filter.GetId() != "" && filter.GetId() != st.Id {
			continue
		}
		if filter.GetPodSandboxId() != "" && filter.GetPodSandboxId() != c.sandboxID {
			continue
		}
		if filter.GetState() != nil && filter.GetState().GetState() != st.State {
			continue
		}
		if !matches(filter.GetLabelSelector(), st.Labels) {
			continue
		}
		list = append(list, &runtimeapi.Container{
			Id:           st.Id,
			PodSandboxId: c.sandboxID,
			Metadata:     st.Metadata,
			Image:        st.Image,
			ImageRef:     st.ImageRef,
			ImageId:      st.ImageId,
			State:        st.State,
			CreatedAt:    st.CreatedAt,
			Labels:       st.Labels,
			Annotations:  st.Annotations,
		})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].CreatedAt < list[j].CreatedAt })
	return list, nil
}

// ContainerStatus implements cri.RuntimeService.
func (r *Runtime) ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injectedLocked("ContainerStatus"); err != nil {
		return nil, err
	}
	c, ok := r.containers[containerID]
	if !ok {
		return nil, cri.NotFound("container %q not found", containerID)
	}
	return &runtimeapi.ContainerStatusResponse{Status: clone(c.status)}, nil
}

// ReopenContainerLog implements cri.RuntimeService as containerd does: a
// running container's log file is created again at its log path (when
// its directory exists); any other container is an error.
func (r *Runtime) ReopenContainerLog(ctx context.Context, containerID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok {
		return cri.NotFound("container %q not found", containerID)
	}
	r.logf("ReopenContainerLog %s", containerName(c.status.Labels, c.status.Metadata.Name))
	if err := r.injectedLocked("ReopenContainerLog"); err != nil {
		return err
	}
	if c.status.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return fmt.Errorf("container %q is not running", containerID)
	}
	if c.status.LogPath == "" {
		return nil
	}
	f, err := os.OpenFile(c.status.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("reopening the log of container %q: %w", containerID, err)
	}
	return f.Close()
}

// ExecSync implements cri.RuntimeService with the function given to
// SetExec; without one, commands succeed and print nothing.
func (r *Runtime) ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) ([]byte, []byte, error) {
	r.mu.Lock()
	c, ok := r.containers[containerID]
	if !ok {
		r.mu.Unlock()
		return nil, nil, cri.NotFound("container %q not found", containerID)
	}
	r.logf("ExecSync %s %s", containerName(c.status.Labels, c.status.Metadata.Name), strings.Join(cmd, " "))
	if err := r.injectedLocked("ExecSync"); err != nil {
		r.mu.Unlock()
		return nil, nil, err
	}
	running := c.status.State == runtimeapi.ContainerState_CONTAINER_RUNNING
	exec := r.exec
	r.mu.Unlock()
	if !running {
		return nil, nil, fmt.Errorf("container %q is not running", containerID)
	}
	if exec == nil {
		return nil, nil, nil
	}
	stdout, stderr, code := exec(containerID, cmd)
	if code != 0 {
		return []byte(stdout), []byte(stderr), utilexec.CodeExitError{
			Err:  fmt.Errorf("command '%s' exited with %d: %s", strings.Join(cmd, " "), code, stderr),
			Code: code,
		}
	}
	return []byte(stdout), []byte(stderr), nil
}

// --- cri.ImageService ---

// PullImage implements cri.ImageService.
func (r *Runtime) PullImage(ctx context.Context, image *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, podSandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if auth != nil {
		r.logf("PullImage %s user=%s", image.GetImage(), auth.GetUsername())
	} else {
		r.logf("PullImage %s", image.GetImage())
	}
	if err := r.injectedLocked("PullImage"); err != nil {
		return "", err
	}
	if err := r.pullErrors[image.GetImage()]; err != nil {
		return "", err
	}
	if user := r.pullUsers[image.GetImage()]; user != "" && auth.GetUsername() != user {
		return "", status.Errorf(codes.Unknown, "failed to pull and unpack image %q: failed to resolve reference %q: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials", image.GetImage(), image.GetImage())
	}
	return r.addImageLocked(image.GetImage()).Id, nil
}

// ImageStatus implements cri.ImageService.
func (r *Runtime) ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injectedLocked("ImageStatus"); err != nil {
		return nil, err
	}
	if img, ok := r.images[image.GetImage()]; ok {
		return &runtimeapi.ImageStatusResponse{Image: clone(img)}, nil
	}
	if img, ok := r.imageByRefLocked(image.GetImage()); ok {
		return &runtimeapi.ImageStatusResponse{Image: clone(img)}, nil
	}
	return &runtimeapi.ImageStatusResponse{}, nil
}

// ListImages implements cri.ImageService: each image once, by ID (the
// filter is ignored).
func (r *Runtime) ListImages(ctx context.Context, filter *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injectedLocked("ListImages"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*runtimeapi.Image
	for _, img := range r.images {
		if !seen[img.Id] {
			seen[img.Id] = true
			out = append(out, clone(img))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out, nil
}

// --- helpers ---

func (r *Runtime) logf(format string, args ...any) {
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

func (r *Runtime) injectedLocked(method string) error {
	errs := r.injected[method]
	if len(errs) == 0 {
		return nil
	}
	r.injected[method] = errs[1:]
	return errs[0]
}

func (r *Runtime) newIDLocked(kind string) string {
	r.nextID++
	return fmt.Sprintf("%s-%d", kind, r.nextID)
}

// createdAtLocked is now, made later than anything created before so that
// "newest first" is well defined when the test clock stands still.
func (r *Runtime) createdAtLocked() int64 {
	r.lastCreate = max(r.clock.Now().UnixNano(), r.lastCreate+1)
	return r.lastCreate
}

func (r *Runtime) exitLocked(c *container, code int32, reason string) {
	if reason == "" {
		reason = ReasonError
		if code == 0 {
			reason = ReasonCompleted
		}
	}
	c.status.State = runtimeapi.ContainerState_CONTAINER_EXITED
	c.status.ExitCode = code
	c.status.Reason = reason
	c.status.FinishedAt = r.clock.Now().UnixNano()
}

func (r *Runtime) addImageLocked(name string) *runtimeapi.Image {
	if img, ok := r.images[name]; ok {
		return img
	}
	sum := sha256.Sum256([]byte(name))
	img := &runtimeapi.Image{
		Id:       "sha256:" + hex.EncodeToString(sum[:]),
		RepoTags: []string{name},
		Size:     1 << 20,
	}
	r.images[name] = img
	return img
}

func (r *Runtime) imageByRefLocked(ref string) (*runtimeapi.Image, bool) {
	for _, img := range r.images {
		if img.Id == ref {
			return img, true
		}
	}
	return nil, false
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func containerName(labels map[string]string, name string) string {
	return labels[podNamespaceLabel] + "/" + labels[podNameLabel] + "/" + name
}

func logPath(dir, path string) string {
	if dir == "" || path == "" {
		return path
	}
	return dir + "/" + path
}

type protoMessage interface {
	*runtimeapi.PodSandboxStatus | *runtimeapi.ContainerStatus | *runtimeapi.Image | *runtimeapi.RuntimeCondition
}

// clone copies a status so that callers cannot change the runtime's own.
func clone[T protoMessage](m T) T {
	return proto.Clone(any(m).(proto.Message)).(T)
}
