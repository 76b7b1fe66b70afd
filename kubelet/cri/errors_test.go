package cri

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	utilexec "k8s.io/utils/exec"
)

func TestErrors(t *testing.T) {
	notFound := NotFound("container %q not found", "abc")
	wrapped := fmt.Errorf("stopping: %w", notFound)
	if !IsNotFound(notFound) || !IsNotFound(wrapped) {
		t.Error("not found errors not recognized")
	}
	if IsNotFound(errors.New("not found")) || IsNotFound(nil) {
		t.Error("plain errors taken for not found")
	}

	unknown := status.Error(codes.Unknown, `failed to pull and unpack image "x": not found`)
	for _, err := range []error{unknown, fmt.Errorf("pulling: %w", unknown)} {
		if got := Message(err); got != `failed to pull and unpack image "x": not found` {
			t.Errorf("Message(%v) = %q", err, got)
		}
	}
	if got := Message(errors.New("plain")); got != "plain" {
		t.Errorf("Message(plain) = %q", got)
	}

	if code, ok := ExitCode(fmt.Errorf("probe: %w", utilexec.CodeExitError{Err: errors.New("exit 2"), Code: 2})); !ok || code != 2 {
		t.Errorf("ExitCode = %d, %v", code, ok)
	}
	if _, ok := ExitCode(errors.New("timeout")); ok {
		t.Error("ExitCode of a non-exit error")
	}
}
