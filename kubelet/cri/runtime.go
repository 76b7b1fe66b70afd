// Package cri is the kubelet's view of the Container Runtime Interface: the
// few calls it makes to a runtime (sandboxes, containers, exec, images),
// behind one interface. Connect dials a real runtime such as containerd
// through k8s.io/cri-client; package fake serves unit tests.
//
// The method signatures are those of k8s.io/cri-api's RuntimeService and
// ImageManagerService, so the cri-client services satisfy Runtime as they
// are and the kubelet's code reads like upstream's.
package cri

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Runtime is what the kubelet asks of a container runtime.
type Runtime interface {
	RuntimeService
	ImageService
}

// RuntimeService runs pod sandboxes and their containers.
type RuntimeService interface {
	// Version reports the runtime's name and version.
	Version(ctx context.Context, apiVersion string) (*runtimeapi.VersionResponse, error)
	// Status reports the runtime's conditions (RuntimeReady, NetworkReady),
	// its handlers and their features.
	Status(ctx context.Context, verbose bool) (*runtimeapi.StatusResponse, error)

	// RunPodSandbox creates and starts a pod sandbox (its namespaces and
	// network) and returns its ID.
	RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error)
	// StopPodSandbox stops the sandbox's containers and tears its network
	// down. It is idempotent.
	StopPodSandbox(ctx context.Context, podSandboxID string) error
	// RemovePodSandbox removes a stopped sandbox and its containers.
	RemovePodSandbox(ctx context.Context, podSandboxID string) error
	// PodSandboxStatus reports a sandbox's state and IPs.
	PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error)
	// ListPodSandbox lists the sandboxes matching filter (nil for all).
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)

	// CreateContainer creates a container in a sandbox and returns its ID.
	CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
	// StartContainer starts a created container.
	StartContainer(ctx context.Context, containerID string) error
	// StopContainer sends the container's stop signal, then SIGKILL after
	// timeout seconds.
	StopContainer(ctx context.Context, containerID string, timeout int64) error
	// RemoveContainer removes a stopped container.
	RemoveContainer(ctx context.Context, containerID string) error
	// ListContainers lists the containers matching filter (nil for all).
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	// ContainerStatus reports a container's state, exit code and reason.
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	// ReopenContainerLog makes the runtime open the container's log file
	// again at its path, after the kubelet renamed it away (log rotation).
	// It fails when the container does not run.
	ReopenContainerLog(ctx context.Context, containerID string) error
	// ExecSync runs cmd in the container and waits at most timeout (0 for
	// no limit). A non-zero exit is an error carrying the code (see
	// ExitCode).
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout []byte, stderr []byte, err error)
}

// ImageService pulls and inspects images.
type ImageService interface {
	// PullImage pulls image with the credentials in auth (nil for none)
	// and returns the image's reference (its ID or digest).
	PullImage(ctx context.Context, image *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, podSandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
	// ImageStatus reports an image; the response's Image is nil when the
	// image is not present.
	ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error)
	// ListImages lists the images present (filter nil for all).
	ListImages(ctx context.Context, filter *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error)
}
