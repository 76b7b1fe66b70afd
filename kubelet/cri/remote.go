package cri

import (
	"context"
	"errors"
	"fmt"
	"time"

	internalapi "k8s.io/cri-api/pkg/apis"
	remote "k8s.io/cri-client/pkg"
)

// DefaultConnectionTimeout bounds each call to the runtime, as upstream
// kubelet's --runtime-request-timeout default.
const DefaultConnectionTimeout = 2 * time.Minute

// RemoteConfig says how to reach a runtime over its gRPC socket.
type RemoteConfig struct {
	// Endpoint is the runtime's socket, for example
	// "unix:///run/containerd/containerd.sock".
	Endpoint string
	// ImageEndpoint is the image service's socket; Endpoint when empty.
	ImageEndpoint string
	// Timeout bounds each call (DefaultConnectionTimeout when zero).
	Timeout time.Duration
}

// Remote is a Runtime served by a CRI runtime over gRPC.
type Remote struct {
	internalapi.RuntimeService
	internalapi.ImageManagerService
}

var _ Runtime = &Remote{}

// Connect dials the runtime and checks that it speaks CRI v1.
func Connect(ctx context.Context, cfg RemoteConfig) (*Remote, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("no container runtime endpoint")
	}
	if cfg.ImageEndpoint == "" {
		cfg.ImageEndpoint = cfg.Endpoint
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConnectionTimeout
	}
	runtimeService, err := remote.NewRemoteRuntimeServiceBuilder().
		WithEndpoint(cfg.Endpoint).
		WithConnectionTimeout(cfg.Timeout).
		Build(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the container runtime at %s: %w", cfg.Endpoint, err)
	}
	imageService, err := remote.NewRemoteImageServiceBuilder().
		WithEndpoint(cfg.ImageEndpoint).
		WithConnectionTimeout(cfg.Timeout).
		Build(ctx)
	if err != nil {
		_ = runtimeService.Close(ctx)
		return nil, fmt.Errorf("connecting to the image service at %s: %w", cfg.ImageEndpoint, err)
	}
	return &Remote{RuntimeService: runtimeService, ImageManagerService: imageService}, nil
}

// Close closes both connections.
func (r *Remote) Close(ctx context.Context) error {
	return errors.Join(r.RuntimeService.Close(ctx), r.ImageManagerService.Close(ctx))
}
