package containerlogs

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/cri"
)

// Defaults of RotatorConfig, as upstream's kubelet configuration
// (containerLogMaxSize, containerLogMaxFiles, containerLogMonitorInterval).
const (
	DefaultMaxSize         = 10 * 1024 * 1024
	DefaultMaxFiles        = 5
	DefaultMonitorInterval = 10 * time.Second
)

const (
	// rotatedTimeFormat suffixes a rotated log: <log>.20260302-150405.
	rotatedTimeFormat = "20060102-150405"
	compressedSuffix  = ".gz"
	tmpSuffix         = ".tmp"
)

// LogRuntime is the part of CRI log rotation needs: the running
// containers, their log paths, and reopening a log after a rename.
type LogRuntime interface {
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)
	ReopenContainerLog(ctx context.Context, containerID string) error
}

// RotatorConfig says how the containers' logs are rotated.
type RotatorConfig struct {
	Runtime LogRuntime
	// MaxSize is the size in bytes at which a log is rotated
	// (DefaultMaxSize when zero).
	MaxSize int64
	// MaxFiles is how many files a container's log may have, the current
	// one included; at least 2 (DefaultMaxFiles when zero).
	MaxFiles int
	// Interval is how often logs are checked (DefaultMonitorInterval when
	// zero).
	Interval time.Duration
	// Clock names rotated files and paces the checks (the real one when
	// nil).
	Clock clock.Clock
}

// Rotator is upstream's container log manager: every Interval it looks at
// the log of each running container and, once it reached MaxSize, renames
// it to <log>.<timestamp> and has the runtime reopen the log
// (ReopenContainerLog). A container keeps at most MaxFiles files: the
// current log, the newest rotated one as is, older ones gzip'd
// (<log>.<timestamp>.gz); the oldest go first.
type Rotator struct {
	cfg RotatorConfig
}

// NewRotator checks cfg and fills in its defaults.
func NewRotator(cfg RotatorConfig) (*Rotator, error) {
	if cfg.Runtime == nil {
		return nil, errors.New("log rotation: no container runtime")
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if cfg.MaxSize < 0 {
		return nil, fmt.Errorf("log rotation: the maximum log size must be positive, not %d bytes", cfg.MaxSize)
	}
	if cfg.MaxFiles < 2 {
		return nil, fmt.Errorf("log rotation: a container's log needs at least 2 files (the current one and a rotated one), not %d", cfg.MaxFiles)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultMonitorInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Rotator{cfg: cfg}, nil
}

// Run rotates logs every Interval until ctx ends.
func (r *Rotator) Run(ctx context.Context) {
	log := klog.FromContext(ctx)
	log.Info("Starting container log rotation", "maxSize", r.cfg.MaxSize, "maxFiles", r.cfg.MaxFiles, "interval", r.cfg.Interval)
	for {
		timer := r.cfg.Clock.NewTimer(r.cfg.Interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
		if err := r.RotateAll(ctx); err != nil {
			log.Error(err, "Rotating container logs failed")
		}
	}
}

// RotateAll checks the log of every running container once and rotates
// those that are too big.
func (r *Rotator) RotateAll(ctx context.Context) error {
	containers, err := r.cfg.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
	})
	if err != nil {
		return fmt.Errorf("listing the running containers: %w", err)
	}
	var errs []error
	for _, c := range containers {
		if err := r.rotate(ctx, c.GetId()); err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", c.GetId(), err))
		}
	}
	return errors.Join(errs...)
}

// rotate checks and rotates one container's log.
func (r *Rotator) rotate(ctx context.Context, id string) error {
	resp, err := r.cfg.Runtime.ContainerStatus(ctx, id, false)
	if cri.IsNotFound(err) {
		return nil // gone since listed
	}
	if err != nil {
		return fmt.Errorf("reading its status: %w", err)
	}
	status := resp.GetStatus()
	path := status.GetLogPath()
	if path == "" || status.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil
	}
	var size int64 = -1
	switch info, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		size = info.Size()
	}
	rotated, err := filepath.Glob(GlobEscape(path) + ".*")
	if err != nil {
		return err
	}
	plan := PlanRotation(path, size, rotated, r.cfg.MaxSize, r.cfg.MaxFiles, r.cfg.Clock.Now())
	if plan.Empty() {
		return nil
	}
	klog.FromContext(ctx).V(2).Info("Rotating container log", "containerID", id, "path", path, "size", size, "plan", plan)
	return r.apply(ctx, id, path, plan)
}

// RotationPlan is what rotating one container's log does, in this order.
type RotationPlan struct {
	// Reopen has the runtime create the log again: it is missing.
	Reopen bool `json:",omitempty"`
	// Remove are leftovers (temporary files, files compressed already) and
	// the oldest rotated files beyond MaxFiles.
	Remove []string `json:",omitempty"`
	// Compress are the rotated files to gzip: all but the newest.
	Compress []string `json:",omitempty"`
	// RotateTo is the name the current log gets ("": not rotated), after
	// which the runtime reopens the log.
	RotateTo string `json:",omitempty"`
}

// Empty tells whether the plan does nothing.
func (p RotationPlan) Empty() bool {
	return !p.Reopen && len(p.Remove) == 0 && len(p.Compress) == 0 && p.RotateTo == ""
}

// PlanRotation decides what to do with the log at path, size bytes long
// (negative: missing), whose rotated files are rotated: nothing while it
// is smaller than maxSize; otherwise clean the rotated files up (temporary
// files of an interrupted compression, uncompressed files whose
// compressed copy exists), remove the oldest so that, with the current
// log and the one about to be rotated, at most maxFiles remain, compress
// the others and rename the log to path.<now>.
func PlanRotation(path string, size int64, rotated []string, maxSize int64, maxFiles int, now time.Time) RotationPlan {
	if size < 0 {
		return RotationPlan{Reopen: true}
	}
	if size < maxSize {
		return RotationPlan{}
	}
	var plan RotationPlan
	present := map[string]bool{}
	for _, f := range rotated {
		present[f] = true
	}
	var kept []string
	for _, f := range rotated {
		switch {
		case strings.HasSuffix(f, tmpSuffix), present[f+compressedSuffix]:
			plan.Remove = append(plan.Remove, f)
		default:
			kept = append(kept, f)
		}
	}
	// Timestamps sort as text; a file and its .gz never both remain.
	sort.Strings(kept)
	if excess := len(kept) - (maxFiles - 2); excess > 0 {
		plan.Remove = append(plan.Remove, kept[:excess]...)
		kept = kept[excess:]
	}
	for _, f := range kept {
		if !strings.HasSuffix(f, compressedSuffix) {
			plan.Compress = append(plan.Compress, f)
		}
	}
	plan.RotateTo = path + "." + now.Format(rotatedTimeFormat)
	return plan
}

// apply carries a plan out. A failed reopen renames the log back, so that
// the container keeps a log its runtime writes.
func (r *Rotator) apply(ctx context.Context, id, path string, plan RotationPlan) error {
	if plan.Reopen {
		if err := r.cfg.Runtime.ReopenContainerLog(ctx, id); err != nil {
			return fmt.Errorf("reopening its missing log %s: %w", path, err)
		}
		return nil
	}
	for _, f := range plan.Remove {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing an old log: %w", err)
		}
	}
	for _, f := range plan.Compress {
		if err := compress(f); err != nil {
			return err
		}
	}
	if plan.RotateTo == "" {
		return nil
	}
	if err := os.Rename(path, plan.RotateTo); err != nil {
		return fmt.Errorf("rotating its log: %w", err)
	}
	if err := r.cfg.Runtime.ReopenContainerLog(ctx, id); err != nil {
		if renameErr := os.Rename(plan.RotateTo, path); renameErr != nil {
			return errors.Join(fmt.Errorf("reopening its log after the rotation: %w", err),
				fmt.Errorf("renaming the log back: %w", renameErr))
		}
		return fmt.Errorf("reopening its log after the rotation (renamed back): %w", err)
	}
	return nil
}

// compress replaces path with path.gz, written to a temporary file first
// so that an interruption leaves no partial .gz.
func compress(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("compressing a rotated log: %w", err)
	}
	defer in.Close()
	tmp := path + compressedSuffix + tmpSuffix
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("compressing a rotated log: %w", err)
	}
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	err = errors.Join(err, zw.Close(), out.Close())
	if err == nil {
		err = os.Rename(tmp, path+compressedSuffix)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compressing the rotated log %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("removing the compressed log %s: %w", path, err)
	}
	return nil
}

// GlobEscape escapes the glob metacharacters of a path.
func GlobEscape(path string) string {
	var b strings.Builder
	for _, r := range path {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
