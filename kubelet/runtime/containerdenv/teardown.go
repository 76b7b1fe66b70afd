package containerdenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"
)

// Teardown removes everything the instance runs and stops it, leaving no
// process behind: every pod sandbox through CRI (which stops its containers
// and releases its network), then containerd, then any container or shim
// still left (runc delete --force, SIGKILL), mounts under the data dir, and
// the pod network's bridge. The data dir itself stays.
func (i *Instance) Teardown(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	var errs []error
	if err := i.removeSandboxes(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := i.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := i.removeLeftovers(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := deleteLink(i.Config.BridgeName); err != nil {
		errs = append(errs, err)
	}
	if filepath.Dir(i.Layout.Socket) != i.Config.DataDir {
		_ = os.RemoveAll(filepath.Dir(i.Layout.Socket))
	}
	logger.V(1).Info("containerd torn down", "dataDir", i.Config.DataDir)
	return utilerrors.NewAggregate(errs)
}

func (i *Instance) removeSandboxes(ctx context.Context) error {
	select {
	case <-i.done:
		return nil
	default:
	}
	rs, err := i.RuntimeService(ctx)
	if err != nil {
		return fmt.Errorf("removing pods: %w", err)
	}
	sandboxes, err := rs.ListPodSandbox(ctx, nil)
	if err != nil {
		return fmt.Errorf("removing pods: %w", err)
	}
	var errs []error
	for _, sb := range sandboxes {
		if err := rs.StopPodSandbox(ctx, sb.GetId()); err != nil {
			errs = append(errs, fmt.Errorf("stopping pod sandbox %s: %w", sb.GetId(), err))
			continue
		}
		if err := rs.RemovePodSandbox(ctx, sb.GetId()); err != nil {
			errs = append(errs, fmt.Errorf("removing pod sandbox %s: %w", sb.GetId(), err))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// removeLeftovers deletes containers runc still knows, kills shims started
// for this instance's socket, and unmounts what is mounted under the data
// dir. Normally there is nothing: removing the sandboxes did it all.
func (i *Instance) removeLeftovers(ctx context.Context) error {
	var errs []error
	runcRoot := filepath.Join(i.Layout.State, "runc", Namespace)
	if out, err := exec.CommandContext(ctx, "runc", "--root", runcRoot, "list", "-q").Output(); err == nil {
		for _, id := range strings.Fields(string(out)) {
			if out, err := exec.CommandContext(ctx, "runc", "--root", runcRoot, "delete", "--force", id).CombinedOutput(); err != nil { //nolint:gosec // ids runc listed
				errs = append(errs, fmt.Errorf("runc delete --force %s: %w: %s", id, err, bytes.TrimSpace(out)))
			}
		}
	}
	// Shims exit by themselves once their tasks are gone; give them a moment.
	deadline := time.Now().Add(3 * time.Second)
	for {
		pids := ShimPIDs(i.Layout.Socket)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := UnmountUnder(i.Config.DataDir); err != nil {
		errs = append(errs, err)
	}
	return utilerrors.NewAggregate(errs)
}

// ShimPIDs returns the containerd-shim processes serving the containerd at
// socket (their command line carries `-address <socket>`).
func ShimPIDs(socket string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) == 0 || !strings.Contains(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for k := 0; k+1 < len(args); k++ {
			if args[k] == "-address" && args[k+1] == socket {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// UnmountUnder lazily unmounts every mount point under dir, deepest first
// (the kubelet's tmpfs volumes, leftovers of a runtime).
func UnmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close() //nolint:errcheck // read only
	prefix := filepath.Clean(dir) + "/"
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		// Octal escapes (\040 for a space) are rare in our paths; unquote them.
		p, err := strconv.Unquote(`"` + strings.ReplaceAll(fields[4], `"`, `\"`) + `"`)
		if err != nil {
			p = fields[4]
		}
		if strings.HasPrefix(p, prefix) {
			points = append(points, p)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// deleteLink removes a network interface (the pod bridge) if it exists.
func deleteLink(name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil //nolint:nilerr // no such interface: nothing to do
	}
	if out, err := exec.Command("ip", "link", "delete", name).CombinedOutput(); err != nil { //nolint:gosec // our bridge's name
		return fmt.Errorf("deleting bridge %s: %w: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}
