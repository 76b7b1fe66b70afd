package containerdenv

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	internalapi "k8s.io/cri-api/pkg/apis"

	"github.com/strata-dev/strata/kubelet/cri"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// ErrAlreadyRunning is returned by Start when a containerd already answers
// on the instance's socket.
var ErrAlreadyRunning = errors.New("containerd already running")

// Instance is a running containerd started by Start.
type Instance struct {
	Config Config
	Layout Layout
	// RuntimeVersion is what containerd's CRI reports, e.g. "1.6.20~ds1".
	RuntimeName, RuntimeVersion string

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	logFile *os.File

	mu  sync.Mutex
	cri *cri.Remote
}

// Endpoint is the CRI endpoint, unix://<socket>.
func (i *Instance) Endpoint() string { return i.Layout.Endpoint() }

// PID is the containerd process id.
func (i *Instance) PID() int { return i.cmd.Process.Pid }

// Start writes the configuration of c, starts containerd and waits until
// its CRI reports RuntimeReady and NetworkReady, then imports c.Images.
// The process gets SIGTERM if the calling process dies; the containers it
// started survive it, as with any containerd.
func Start(ctx context.Context, c Config) (*Instance, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := CheckHost(c); err != nil {
		return nil, fmt.Errorf("containerd: %w", err)
	}
	if !c.SkipHostSetup {
		if err := PrepareHost(); err != nil {
			return nil, fmt.Errorf("containerd: preparing the host for pod networking: %w", err)
		}
	}
	if !CanLowerOOMScore() {
		c.RestrictOOMScoreAdj = true
	}
	l := LayoutOf(c)
	logger := klog.FromContext(ctx).WithValues("dataDir", c.DataDir, "socket", l.Socket)

	for _, dir := range []string{c.DataDir, l.Root, l.State, l.CNIConfDir, l.CNIDataDir, l.Opt, filepath.Dir(l.Socket)} {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return nil, fmt.Errorf("containerd: %w", err)
		}
	}
	if conn, err := net.DialTimeout("unix", l.Socket, time.Second); err == nil {
		conn.Close() //nolint:errcheck,gosec // only probing
		pid, _ := os.ReadFile(l.PIDFile)
		return nil, fmt.Errorf("%w on %s (pid %s): stop it first", ErrAlreadyRunning, l.Socket, strings.TrimSpace(string(pid)))
	}
	// A socket nobody answers on is left from a killed containerd.
	for _, s := range []string{l.Socket, l.Socket + ".ttrpc"} {
		if err := os.Remove(s); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("containerd: removing stale socket: %w", err)
		}
	}

	if err := writeFileAtomic(l.Config, []byte(ContainerdConfig(c, l)), 0o644); err != nil {
		return nil, fmt.Errorf("containerd: writing its config: %w", err)
	}
	conflist, err := CNIConfList(c, l)
	if err != nil {
		return nil, fmt.Errorf("containerd: CNI config: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(l.CNIConfDir, CNIConfFile), conflist, 0o644); err != nil {
		return nil, fmt.Errorf("containerd: writing the CNI config: %w", err)
	}

	logFile, err := os.OpenFile(l.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) //nolint:gosec // under the data dir
	if err != nil {
		return nil, fmt.Errorf("containerd: %w", err)
	}
	cmd := exec.Command(c.Containerd, "--config", l.Config) //nolint:gosec // the configured binary
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: a Ctrl-C in the terminal reaches the caller,
	// which stops containerd after what runs on it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	logger.Info("Starting containerd", "config", l.Config, "log", l.Log)
	if err := cmd.Start(); err != nil {
		logFile.Close() //nolint:errcheck,gosec // the start error is the one to report
		return nil, fmt.Errorf("containerd: starting %s: %w", c.Containerd, err)
	}
	inst := &Instance{Config: c, Layout: l, cmd: cmd, done: make(chan struct{}), logFile: logFile}
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.done)
	}()
	if err := os.WriteFile(l.PIDFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil { //nolint:gosec // not secret
		inst.kill()
		return nil, fmt.Errorf("containerd: %w", err)
	}

	if err := inst.waitReady(ctx); err != nil {
		inst.kill()
		return nil, err
	}
	logger.Info("containerd is ready", "pid", cmd.Process.Pid, "version", inst.RuntimeVersion)
	if len(c.Images) > 0 {
		if err := inst.Import(ctx, c.Images...); err != nil {
			_ = inst.Stop(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	return inst, nil
}

// waitReady waits for the socket, connects CRI clients, and waits for the
// RuntimeReady and NetworkReady conditions (the latter says the CNI config
// loaded).
func (i *Instance) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, i.Config.StartTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-i.done:
			return fmt.Errorf("containerd exited while starting (%v); the end of %s:\n%s", i.waitErr, i.Layout.Log, tail(i.Layout.Log, 20))
		case <-ctx.Done():
			return fmt.Errorf("containerd not ready after %s: %v; the end of %s:\n%s", i.Config.StartTimeout, last, i.Layout.Log, tail(i.Layout.Log, 20))
		case <-tick.C:
		}
		if _, err := os.Stat(i.Layout.Socket); err != nil {
			last = err
			continue
		}
		rs, err := i.RuntimeService(ctx)
		if err != nil {
			last = err
			continue
		}
		ver, err := rs.Version(ctx, "v1")
		if err != nil {
			last = err
			continue
		}
		i.RuntimeName, i.RuntimeVersion = ver.RuntimeName, ver.RuntimeVersion
		st, err := rs.Status(ctx, false)
		if err != nil {
			last = err
			continue
		}
		if last = notReady(st.GetStatus()); last == nil {
			return nil
		}
	}
}

func notReady(st *runtimeapi.RuntimeStatus) error {
	var msgs []string
	for _, want := range []string{runtimeapi.RuntimeReady, runtimeapi.NetworkReady} {
		found := false
		for _, cond := range st.GetConditions() {
			if cond.GetType() != want {
				continue
			}
			found = true
			if !cond.GetStatus() {
				msgs = append(msgs, fmt.Sprintf("%s is false: %s: %s", want, cond.GetReason(), cond.GetMessage()))
			}
		}
		if !found {
			msgs = append(msgs, want+" not reported")
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}

// RuntimeService returns a CRI runtime client of the instance.
func (i *Instance) RuntimeService(ctx context.Context) (internalapi.RuntimeService, error) {
	c, err := i.connect(ctx)
	if err != nil {
		return nil, err
	}
	return c.RuntimeService, nil
}

// ImageService returns a CRI image client of the instance.
func (i *Instance) ImageService(ctx context.Context) (internalapi.ImageManagerService, error) {
	c, err := i.connect(ctx)
	if err != nil {
		return nil, err
	}
	return c.ImageManagerService, nil
}

// connect dials the instance's CRI once, as the kubelet does (cri.Connect).
func (i *Instance) connect(ctx context.Context) (*cri.Remote, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cri != nil {
		return i.cri, nil
	}
	c, err := cri.Connect(ctx, cri.RemoteConfig{Endpoint: i.Endpoint(), Timeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	i.cri = c
	return c, nil
}

// closeCRI closes both connections of c; they are local, errors do not
// matter.
func closeCRI(ctx context.Context, c *cri.Remote) {
	_ = c.RuntimeService.Close(ctx)
	_ = c.ImageManagerService.Close(ctx)
}

// Import loads image archives (OCI layout or docker-archive tars) into
// the CRI namespace with `ctr images import`, and waits until CRI lists the
// names each archive carries.
func (i *Instance) Import(ctx context.Context, archives ...string) error {
	return Import(ctx, i.Config.Ctr, i.Layout.Socket, archives...)
}

// Import loads image archives into the containerd at socket (the CRI
// namespace) with ctr, and waits until its CRI lists the names each
// archive carries.
func Import(ctx context.Context, ctr, socket string, archives ...string) error {
	logger := klog.FromContext(ctx)
	if ctr == "" {
		ctr = "ctr"
	}
	c, err := cri.Connect(ctx, cri.RemoteConfig{Endpoint: "unix://" + socket, Timeout: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("importing images: %w", err)
	}
	defer closeCRI(ctx, c)
	is := c.ImageManagerService
	for _, archive := range archives {
		refs, err := ArchiveRefs(archive)
		if err != nil {
			return fmt.Errorf("importing %s: %w", archive, err)
		}
		logger.V(1).Info("Importing image archive", "archive", archive, "images", refs)
		cmd := exec.CommandContext(ctx, ctr, "--address", socket, "--namespace", Namespace, "images", "import", archive) //nolint:gosec // the configured binary
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("importing %s: ctr images import: %w: %s", archive, err, strings.TrimSpace(string(out)))
		}
		// CRI learns of imported images from containerd's events.
		for _, ref := range refs {
			if err := waitImage(ctx, is, ref); err != nil {
				return fmt.Errorf("importing %s: %w", archive, err)
			}
		}
	}
	return nil
}

func waitImage(ctx context.Context, is internalapi.ImageManagerService, ref string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := is.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
		if err == nil && st.GetImage() != nil {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("image %s imported but CRI does not list it: %w", ref, err)
			}
			return fmt.Errorf("image %s imported but CRI does not list it", ref)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ArchiveRefs returns the image names an archive carries: the
// io.containerd.image.name annotations of an OCI layout's index.json, or
// the RepoTags of a docker-archive's manifest.json.
func ArchiveRefs(archive string) ([]string, error) {
	f, err := os.Open(archive) //nolint:gosec // the caller's archive
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read only
	tr := tar.NewReader(f)
	var refs []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", archive, err)
		}
		switch strings.TrimPrefix(hdr.Name, "./") {
		case "index.json":
			var index struct {
				Manifests []struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"manifests"`
			}
			if err := json.NewDecoder(tr).Decode(&index); err != nil {
				return nil, fmt.Errorf("%s: index.json: %w", archive, err)
			}
			for _, m := range index.Manifests {
				if n := m.Annotations["io.containerd.image.name"]; n != "" {
					refs = append(refs, n)
				}
			}
		case "manifest.json":
			var manifest []struct {
				RepoTags []string `json:"RepoTags"`
			}
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return nil, fmt.Errorf("%s: manifest.json: %w", archive, err)
			}
			for _, m := range manifest {
				refs = append(refs, m.RepoTags...)
			}
		}
	}
	sort.Strings(refs)
	return refs, nil
}

// Done is closed when the containerd process has exited.
func (i *Instance) Done() <-chan struct{} { return i.done }

// Stop stops containerd: SIGTERM, then SIGKILL if it has not exited when
// ctx ends (or after 10s). Containers keep running in their shims, as when
// a node's containerd restarts; Teardown removes them.
func (i *Instance) Stop(ctx context.Context) error {
	i.mu.Lock()
	if i.cri != nil {
		closeCRI(ctx, i.cri)
		i.cri = nil
	}
	i.mu.Unlock()
	select {
	case <-i.done:
	default:
		_ = i.cmd.Process.Signal(syscall.SIGTERM)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		select {
		case <-i.done:
		case <-ctx.Done():
			i.kill()
		}
	}
	_ = os.Remove(i.Layout.PIDFile)
	_ = i.logFile.Close()
	var exitErr *exec.ExitError
	if i.waitErr != nil && !(errors.As(i.waitErr, &exitErr) && exitErr.Exited()) && !isSignaled(i.waitErr, syscall.SIGTERM) {
		return fmt.Errorf("containerd: %w", i.waitErr)
	}
	return nil
}

func isSignaled(err error, sig syscall.Signal) bool {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return false
	}
	ws, ok := exitErr.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func (i *Instance) kill() {
	_ = i.cmd.Process.Kill()
	<-i.done
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path) //nolint:gosec // our own log
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
