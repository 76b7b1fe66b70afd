package pods

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/containerlogs"
	"github.com/strata-dev/strata/kubelet/cri"
)

// GCPolicy says which dead containers of a running pod are kept, as
// upstream's container GC policy (--minimum-container-ttl-duration,
// --maximum-dead-containers-per-container).
type GCPolicy struct {
	// MinAge is how long after its creation a dead container may be
	// removed.
	MinAge time.Duration
	// MaxPerPodContainer is how many dead containers of each of a pod's
	// containers are kept besides the newest one; negative keeps all.
	MaxPerPodContainer int
}

// DefaultGCPolicy is upstream's default: no minimum age, one dead
// container per container name.
var DefaultGCPolicy = GCPolicy{MinAge: 0, MaxPerPodContainer: 1}

// Garbage is what a garbage collection removes from a pod.
type Garbage struct {
	// Containers to remove, oldest first.
	Containers []*RuntimeContainer
	// Sandboxes to remove (stopped, without containers), oldest first.
	Sandboxes []*runtimeapi.PodSandboxStatus
}

// Empty tells whether there is nothing to remove.
func (g Garbage) Empty() bool { return len(g.Containers) == 0 && len(g.Sandboxes) == 0 }

// ComputeGarbage decides which of a pod's dead containers and sandboxes
// go, as upstream's container GC does for a pod that still exists:
//
//   - containers are grouped by name; the newest of each name is always
//     kept (it gives the container's state and restart count); of the
//     older ones, those not running and created at least MinAge ago are
//     removed but the newest MaxPerPodContainer (what the last state and
//     `kubectl logs --previous` read). With the default policy a crash
//     loop keeps at most two containers of a name: the current one and
//     the one before it;
//   - sandboxes that are not ready and hold no container left are removed,
//     but the newest sandbox of the pod.
//
// Unlike upstream, a container in state unknown is never collected: it
// might still run, and the worker kills it before it restarts it.
func ComputeGarbage(rt *RuntimePod, policy GCPolicy, now time.Time) Garbage {
	var g Garbage
	if rt == nil {
		return g
	}
	seen := map[string]int{} // dead containers kept, by name
	newest := map[string]bool{}
	removed := map[string]bool{}
	// rt.Containers is newest first; the garbage is listed oldest first.
	var doomed []*RuntimeContainer
	for _, c := range rt.Containers {
		if !newest[c.Name] {
			newest[c.Name] = true
			continue
		}
		if c.State == ContainerRunning || c.State == ContainerUnknown {
			continue
		}
		if policy.MinAge > 0 && now.Sub(c.CreatedAt) < policy.MinAge {
			continue
		}
		if policy.MaxPerPodContainer < 0 || seen[c.Name] < policy.MaxPerPodContainer {
			seen[c.Name]++
			continue
		}
		doomed = append(doomed, c)
		removed[c.ID] = true
	}
	for i := len(doomed) - 1; i >= 0; i-- {
		g.Containers = append(g.Containers, doomed[i])
	}

	inUse := map[string]bool{}
	for _, c := range rt.Containers {
		if !removed[c.ID] {
			inUse[c.SandboxID] = true
		}
	}
	for i := len(rt.Sandboxes) - 1; i >= 1; i-- { // never the newest, index 0
		s := rt.Sandboxes[i]
		if s.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY || inUse[s.GetId()] {
			continue
		}
		g.Sandboxes = append(g.Sandboxes, s)
	}
	return g
}

// collectGarbage removes the pod's dead containers (with their logs) and
// sandboxes that the GC policy does not keep, and returns rt without what
// it removed. Failures are logged: the next sync tries again.
func (w *Worker) collectGarbage(ctx context.Context, rt *RuntimePod) *RuntimePod {
	garbage := ComputeGarbage(rt, *w.cfg.GCPolicy, w.cfg.Clock.Now())
	if garbage.Empty() {
		return rt
	}
	log := klog.FromContext(ctx)
	gone := map[string]bool{}
	for _, c := range garbage.Containers {
		log.V(2).Info("Removing dead container", "container", c.Name, "containerID", c.ID, "restartCount", c.RestartCount)
		if err := w.removeContainer(ctx, c); err != nil {
			log.Error(err, "Removing a dead container failed", "container", c.Name, "containerID", c.ID)
			continue
		}
		gone[c.ID] = true
	}
	for _, s := range garbage.Sandboxes {
		log.V(2).Info("Removing dead pod sandbox", "sandboxID", s.GetId(), "attempt", s.GetMetadata().GetAttempt())
		if err := w.removeSandbox(ctx, s.GetId()); err != nil {
			log.Error(err, "Removing a dead pod sandbox failed", "sandboxID", s.GetId())
			continue
		}
		gone[s.GetId()] = true
	}

	left := *rt
	left.Containers = nil
	for _, c := range rt.Containers {
		if !gone[c.ID] {
			left.Containers = append(left.Containers, c)
		}
	}
	left.Sandboxes = nil
	for _, s := range rt.Sandboxes {
		if !gone[s.GetId()] {
			left.Sandboxes = append(left.Sandboxes, s)
		}
	}
	return &left
}

// removeContainer removes a container that does not run, and its log
// files (the current one and the rotated ones), as upstream's
// removeContainer.
func (w *Worker) removeContainer(ctx context.Context, c *RuntimeContainer) error {
	if err := removeContainerLogs(c.LogPath); err != nil {
		return err
	}
	if err := w.cfg.Runtime.RemoveContainer(ctx, c.ID); err != nil && !cri.IsNotFound(err) {
		return fmt.Errorf("removing container %s: %w", c.Name, err)
	}
	return nil
}

// removeSandbox stops (in case it was not) and removes a sandbox.
func (w *Worker) removeSandbox(ctx context.Context, id string) error {
	if err := w.cfg.Runtime.StopPodSandbox(ctx, id); err != nil && !cri.IsNotFound(err) {
		return fmt.Errorf("stopping sandbox %s: %w", id, err)
	}
	if err := w.cfg.Runtime.RemovePodSandbox(ctx, id); err != nil && !cri.IsNotFound(err) {
		return fmt.Errorf("removing sandbox %s: %w", id, err)
	}
	return nil
}

// removeContainerLogs removes a container's log file and its rotated
// files (path.<timestamp>, path.<timestamp>.gz).
func removeContainerLogs(path string) error {
	if path == "" {
		return nil
	}
	rotated, err := filepath.Glob(containerlogs.GlobEscape(path) + ".*")
	if err != nil {
		return fmt.Errorf("listing the rotated logs of %s: %w", path, err)
	}
	var errs []error
	for _, p := range append(rotated, path) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing container log: %w", err))
		}
	}
	return errors.Join(errs...)
}
