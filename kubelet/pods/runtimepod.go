package pods

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RuntimePod is what the container runtime reports about one pod: its
// sandboxes and its containers, each list newest first. It is the input
// of the status computation and of the sync decisions.
type RuntimePod struct {
	UID types.UID
	// RuntimeName prefixes container IDs in the pod status
	// ("containerd://…").
	RuntimeName string
	// Sandboxes, newest first.
	Sandboxes []*runtimeapi.PodSandboxStatus
	// Containers of every attempt, newest first.
	Containers []*RuntimeContainer
	// IPs of the newest sandbox when it is ready, primary first.
	IPs []string
}

// ContainerState is a container's state as the runtime reports it.
type ContainerState string

// The states of a container.
const (
	ContainerCreated ContainerState = "created"
	ContainerRunning ContainerState = "running"
	ContainerExited  ContainerState = "exited"
	ContainerUnknown ContainerState = "unknown"
)

// RuntimeContainer is one container (one attempt of a pod's container) as
// the runtime reports it.
type RuntimeContainer struct {
	// ID is the runtime's ID, without the runtime name.
	ID string
	// Name is the container's name in the pod spec.
	Name string
	// SandboxID is the sandbox the container runs in.
	SandboxID string
	State     ContainerState
	// RestartCount is the number of restarts before this attempt.
	RestartCount int
	CreatedAt    time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	ExitCode     int32
	// Reason and Message say why the container exited; Message includes
	// the termination message the container wrote.
	Reason  string
	Message string
	// Image is the image the pod asked for; ImageRef the image the runtime
	// resolved it to.
	Image    string
	ImageRef string
	// Hash is the hash of the container spec it was created from.
	Hash string
	// User is the identity the container's process runs as, when the
	// runtime reports it.
	User *corev1.ContainerUser
	// LogPath is the container's log file on the node (rotated logs are
	// beside it, LogPath.<timestamp>[.gz]).
	LogPath string
}

// FindContainer returns the newest container named name, or nil.
func (p *RuntimePod) FindContainer(name string) *RuntimeContainer {
	if p == nil {
		return nil
	}
	for _, c := range p.Containers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// FindContainerByID returns the container with the runtime ID id, or nil.
func (p *RuntimePod) FindContainerByID(id string) *RuntimeContainer {
	if p == nil {
		return nil
	}
	for _, c := range p.Containers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// RunningContainers are the containers in state running (or unknown, which
// might be running).
func (p *RuntimePod) RunningContainers() []*RuntimeContainer {
	if p == nil {
		return nil
	}
	var running []*RuntimeContainer
	for _, c := range p.Containers {
		if c.State == ContainerRunning || c.State == ContainerUnknown {
			running = append(running, c)
		}
	}
	return running
}

// ReadySandboxes are the sandboxes in state ready.
func (p *RuntimePod) ReadySandboxes() []*runtimeapi.PodSandboxStatus {
	if p == nil {
		return nil
	}
	var ready []*runtimeapi.PodSandboxStatus
	for _, s := range p.Sandboxes {
		if s.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY {
			ready = append(ready, s)
		}
	}
	return ready
}

// containerID is the container ID as the pod status shows it.
func (p *RuntimePod) containerID(c *RuntimeContainer) string {
	name := "cri"
	if p != nil && p.RuntimeName != "" {
		name = p.RuntimeName
	}
	return name + "://" + c.ID
}
