package pods

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// VolumeSetUpper is a VolumeMounter that sets a pod's volumes up before
// anything of the pod runs, as upstream's kubelet waits for a pod's volumes
// to be attached and mounted on every sync. The worker calls it on each
// sync of a pod that is not terminating; while it fails, the worker creates
// neither the sandbox nor containers (they wait with ContainerCreating),
// records each error it returns (the errors of an errors.Join one by one)
// as a FailedMount event and syncs the pod again after a back-off.
type VolumeSetUpper interface {
	SetUpVolumes(ctx context.Context, pod *corev1.Pod) error
}

// VolumeCleaner is a VolumeMounter that tears a pod's volumes down
// (unmounts them) once the pod is gone, before the worker removes the
// pod's directory; the directory stays while it fails.
type VolumeCleaner interface {
	CleanupVolumes(ctx context.Context, uid types.UID) error
}

// setUpVolumes sets the pod's volumes up when Volumes can, and records why
// it could not.
func (w *Worker) setUpVolumes(ctx context.Context, pod *corev1.Pod) error {
	s, ok := w.cfg.Volumes.(VolumeSetUpper)
	if !ok {
		return nil
	}
	err := s.SetUpVolumes(ctx, pod)
	if err == nil {
		return nil
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		w.events.pod(pod, corev1.EventTypeWarning, "FailedMount", "Mount", e.Error())
	}
	return fmt.Errorf("setting up the pod's volumes: %w", err)
}

// cleanupVolumes tears the pod's volumes down when Volumes can.
func (w *Worker) cleanupVolumes(ctx context.Context) error {
	c, ok := w.cfg.Volumes.(VolumeCleaner)
	if !ok {
		return nil
	}
	if err := c.CleanupVolumes(ctx, w.uid); err != nil {
		return fmt.Errorf("cleaning up the pod's volumes: %w", err)
	}
	return nil
}
