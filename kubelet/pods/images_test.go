package pods

import (
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	crierrors "k8s.io/cri-api/pkg/errors"
)

func TestPullFailure(t *testing.T) {
	tests := []struct {
		err    error
		reason error
		msg    string
	}{
		{status.Error(codes.Unknown, "RegistryUnavailable: dial tcp: connection refused"), crierrors.ErrRegistryUnavailable,
			"image pull failed for busybox because the registry is unavailable: dial tcp: connection refused"},
		{status.Error(codes.Unknown, "SignatureValidationFailed: bad signature"), crierrors.ErrSignatureValidationFailed,
			"image pull failed for busybox because the signature validation failed: bad signature"},
		{status.Error(codes.NotFound, "not found"), ErrImagePull, "rpc error: code = NotFound desc = not found"},
		{errors.New("finding credentials: boom"), ErrImagePull, "finding credentials: boom"},
	}
	for _, tt := range tests {
		got := pullFailure("busybox", tt.err)
		if !errors.Is(got, tt.reason) || got.Message != tt.msg {
			t.Errorf("pullFailure(%v) = %v %q, want %v %q", tt.err, got.Reason, got.Message, tt.reason, tt.msg)
		}
	}
}

func TestShouldPull(t *testing.T) {
	for _, tt := range []struct {
		policy  string
		present bool
		want    bool
	}{
		{"Always", true, true}, {"Always", false, true},
		{"IfNotPresent", true, false}, {"IfNotPresent", false, true},
		{"Never", true, false}, {"Never", false, false},
		{"", false, true},
	} {
		if got := shouldPull(corev1.PullPolicy(tt.policy), tt.present); got != tt.want {
			t.Errorf("shouldPull(%s, %v) = %v", tt.policy, tt.present, got)
		}
	}
}
