package cri

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	utilexec "k8s.io/utils/exec"
)

// IsNotFound tells whether err is the runtime saying that a sandbox,
// container or image does not exist (gRPC code NotFound).
func IsNotFound(err error) bool {
	return status.Code(unwrapStatus(err)) == codes.NotFound
}

// NotFound is the error a runtime returns for a missing object.
func NotFound(format string, args ...any) error {
	return status.Errorf(codes.NotFound, format, args...)
}

// Message is the runtime's own message in err, without the gRPC code
// prefix ("rpc error: code = Unknown desc = …"), as upstream puts it in
// container states and events.
func Message(err error) string {
	if err == nil {
		return ""
	}
	if s, ok := status.FromError(unwrapStatus(err)); ok && s.Code() != codes.OK {
		return s.Message()
	}
	return err.Error()
}

// ExitCode returns the exit code of a command that ExecSync ran and that
// exited non-zero, and whether err is such an exit.
func ExitCode(err error) (int, bool) {
	var exitErr utilexec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitStatus(), true
	}
	return 0, false
}

// unwrapStatus finds the innermost-wrapping gRPC status error in err, so
// that its message is the runtime's alone.
func unwrapStatus(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(interface{ GRPCStatus() *status.Status }); ok {
			return e
		}
	}
	return err
}
