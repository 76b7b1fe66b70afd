package probes

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
)

// grpc calls the gRPC health service (grpc.health.v1.Health/Check) on the
// pod's IP and port, without TLS, as upstream: SERVING succeeds, anything
// else, an error or a timeout fails with upstream's messages.
func (p *prober) grpc(ctx context.Context, podIP string, action *corev1.GRPCAction, timeout time.Duration) probeOutput {
	service := ""
	if action.Service != nil {
		service = *action.Service
	}
	addr := net.JoinHostPort(podIP, strconv.Itoa(int(action.Port)))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	failure := func(format string, args ...any) probeOutput {
		return probeOutput{outcome: outcomeFailure, output: fmt.Sprintf(format, args...)}
	}
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()), // credentials are not supported, as upstream
		grpc.WithUserAgent(userAgent))
	if err != nil {
		return failure("error: failed to connect service at %q: %+v", addr, err)
	}
	defer func() { _ = conn.Close() }()

	// Connect first, as upstream's blocking dial does, so that a timeout
	// says whether the connection or the call took too long.
	conn.Connect()
	for state := conn.GetState(); state != connectivity.Ready; state = conn.GetState() {
		if state == connectivity.Shutdown || !conn.WaitForStateChange(ctx, state) {
			return failure("timeout: failed to connect service %q within %v: %+v", addr, timeout, context.DeadlineExceeded)
		}
	}

	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		if s, ok := status.FromError(err); ok {
			switch s.Code() {
			case codes.Unimplemented:
				return failure("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): %s", s.Message())
			case codes.DeadlineExceeded:
				return failure("timeout: health rpc did not complete within %v", timeout)
			}
		}
		return failure("error: health rpc probe failed: %+v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return failure("service unhealthy (responded with %q)", resp.GetStatus().String())
	}
	return probeOutput{outcome: outcomeSuccess, output: "service healthy"}
}
