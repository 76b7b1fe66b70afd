package volumes

import (
	"fmt"
	"strings"
)

// SetUpError is a volume that could not be set up, with upstream's
// message, which the kubelet records as a FailedMount event:
//
//	MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found
type SetUpError struct {
	// Volume is the volume's name: the pod's, or the PersistentVolume's
	// for a claim.
	Volume string
	Err    error
}

func (e *SetUpError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *SetUpError) Unwrap() error { return e.Err }

// ProcessError says that some volumes of a pod could not even be resolved
// (a claim not bound, a plugin this kubelet lacks), with upstream's
// message:
//
//	Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/data: PVC is not bound
type ProcessError struct {
	// Unmounted are the pod's volumes not set up yet, Failed those that
	// could not be resolved, both sorted.
	Unmounted, Failed []string
	Errs              []error
}

func (e *ProcessError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("Unable to attach or mount volumes: unmounted volumes=%v, unattached volumes=[], failed to process volumes=%v: %s",
		e.Unmounted, e.Failed, strings.Join(msgs, "; "))
}

// processError marks an error resolving a volume.
type processError struct{ err error }

func (e *processError) Error() string { return e.err.Error() }
func (e *processError) Unwrap() error { return e.err }
