package pods

import (
	"errors"
	"fmt"
)

// Reasons of a waiting container, as upstream reports them. Each start
// failure below is one of these errors, so its text is the reason.
var (
	// ErrImagePull: pulling the image failed.
	ErrImagePull = errors.New("ErrImagePull")
	// ErrImagePullBackOff: the image pull is backing off after failures.
	ErrImagePullBackOff = errors.New("ImagePullBackOff")
	// ErrImageNeverPull: the image is absent and imagePullPolicy is Never.
	ErrImageNeverPull = errors.New("ErrImageNeverPull")
	// ErrImageInspect: the runtime could not say whether the image is there.
	ErrImageInspect = errors.New("ImageInspectError")
	// ErrInvalidImageName: the image reference does not parse.
	ErrInvalidImageName = errors.New("InvalidImageName")
	// ErrCrashLoopBackOff: the container keeps failing and its restart is
	// backing off.
	ErrCrashLoopBackOff = errors.New("CrashLoopBackOff")
	// ErrCreateContainerConfig: the container's configuration (environment,
	// mounts) could not be made.
	ErrCreateContainerConfig = errors.New("CreateContainerConfigError")
	// ErrCreateContainer: the runtime failed to create the container.
	ErrCreateContainer = errors.New("CreateContainerError")
	// ErrRunContainer: the runtime failed to start the container.
	ErrRunContainer = errors.New("RunContainerError")
	// ErrPostStartHook: the postStart hook failed and the container was killed.
	ErrPostStartHook = errors.New("PostStartHookError")
)

// Container state reasons the kubelet sets itself.
const (
	reasonContainerCreating = "ContainerCreating"
	reasonPodInitializing   = "PodInitializing"
	reasonCompleted         = "Completed"
	reasonOOMKilled         = "OOMKilled"
	reasonStatusUnknown     = "ContainerStatusUnknown"
)

// StartFailure is why a container could not be started on the last sync:
// its waiting state until it starts.
type StartFailure struct {
	// Reason is one of the errors above (ErrImagePull, ErrCrashLoopBackOff …).
	Reason error
	// Message says more ("Back-off 20s restarting failed container=…").
	Message string
}

// Error makes a StartFailure an error: "ErrImagePull: <message>".
func (f *StartFailure) Error() string {
	if f.Message == "" {
		return f.Reason.Error()
	}
	return fmt.Sprintf("%s: %s", f.Reason, f.Message)
}

// Unwrap returns the reason, so that errors.Is(err, ErrImagePull) works.
func (f *StartFailure) Unwrap() error { return f.Reason }

// startFailure wraps a reason and message as an error.
func startFailure(reason error, format string, args ...any) *StartFailure {
	return &StartFailure{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
