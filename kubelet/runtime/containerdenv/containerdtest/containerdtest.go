// Package containerdtest starts a real containerd for a test: Strata's
// pause and busybox images built and imported, a pod network of its own
// (a random /24 in 10.200.0.0/13 on a bridge named after the test), and
// everything removed when the test ends.
//
// Tests using it are skipped under -short, when not root, and when the
// Debian packages are missing (hack/install-deps.sh installs them).
package containerdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dev/strata/images"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
)

// PausePackage is the package of the pause binary, built for the pause image.
const PausePackage = "github.com/strata-dev/strata/hack/tools/pause"

// Options adjust Start.
type Options struct {
	// Config overrides; DataDir, Subnet and BridgeName are filled in when empty.
	Config containerdenv.Config
	// NoImages skips building and importing the pause and busybox images.
	NoImages bool
}

// Skip skips t when a real containerd cannot run: -short, not root, or the
// Debian packages missing.
func Skip(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("Skipping the real containerd test under -short")
	}
	if err := containerdenv.CheckHost(containerdenv.Config{}); err != nil {
		if errors.Is(err, containerdenv.ErrNotRoot) {
			t.Skip("Skipping the real containerd test: it needs root")
		}
		t.Skipf("Skipping the real containerd test: %v", err)
	}
	if _, err := os.Stat(images.DefaultBusybox); err != nil {
		t.Skipf("Skipping the real containerd test: %s missing: run hack/install-deps.sh", images.DefaultBusybox)
	}
}

// Start runs a containerd for t and tears it down when t ends.
func Start(t testing.TB, opts Options) *containerdenv.Instance {
	t.Helper()
	Skip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cfg := opts.Config
	if cfg.DataDir == "" {
		cfg.DataDir = shortTempDir(t)
	}
	suffix := randomHex(t, 3)
	if cfg.BridgeName == "" {
		cfg.BridgeName = "strt" + suffix
	}
	if cfg.NetworkName == "" {
		cfg.NetworkName = "strata-test-" + suffix
	}
	if cfg.Subnet == "" {
		cfg.Subnet = freeSubnet(t)
	}
	if !opts.NoImages {
		archives, err := BuildImages(ctx, t.TempDir())
		if err != nil {
			t.Fatalf("Building the test images: %v", err)
		}
		cfg.Images = append(cfg.Images, archives...)
	}
	inst, err := containerdenv.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Starting containerd: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := inst.Teardown(ctx); err != nil {
			t.Errorf("Tearing down containerd: %v", err)
		}
		if t.Failed() {
			t.Logf("containerd log (%s):\n%s", inst.Layout.Log, readTail(inst.Layout.Log, 40))
		}
	})
	return inst
}

// BuildImages builds the pause and busybox image archives into dir and
// returns their paths. The pause binary is compiled from PausePackage, so
// the test must run inside the module (go test does).
func BuildImages(ctx context.Context, dir string) ([]string, error) {
	pause := filepath.Join(dir, "pause")
	if err := images.GoBuildStatic(ctx, "", PausePackage, pause); err != nil {
		return nil, err
	}
	results, err := images.BuildAll(ctx, images.Options{OutDir: dir, Pause: pause, Busybox: images.DefaultBusybox})
	if err != nil {
		return nil, err
	}
	var files []string
	for _, r := range results {
		files = append(files, r.File)
	}
	return files, nil
}

// shortTempDir is a temporary directory with a short path, so that the
// containerd socket stays under the data dir.
func shortTempDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "strata-ctd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("Removing %s: %v", dir, err)
		}
	})
	return dir
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freeSubnet picks a random /24 in 10.200.0.0/13 that no interface of the
// machine is in, so tests running at once do not share a network.
func freeSubnet(t testing.TB) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		b := make([]byte, 2)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		prefix := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 200 + b[0]%8, b[1], 0}), 24)
		used := false
		for _, a := range addrs {
			if ipnet, ok := a.(*net.IPNet); ok {
				if p, err := netip.ParsePrefix(ipnet.String()); err == nil && p.Overlaps(prefix) {
					used = true
				}
			}
		}
		if !used {
			return prefix.String()
		}
	}
	t.Fatal("No free /24 in 10.200.0.0/13 for the pod network")
	return ""
}

func readTail(path string, n int) string {
	data, err := os.ReadFile(path) //nolint:gosec // the instance's log
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
