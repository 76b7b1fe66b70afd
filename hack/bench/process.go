package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"debug/buildinfo"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nucleus is a running `strata nucleus` process.
type nucleus struct {
	cmd     *exec.Cmd
	dataDir string
	port    int
	logPath string
	// started is when the process was started, the zero of startup times.
	started time.Time
	// exited is closed once the process has exited; waitErr is then set.
	exited  chan struct{}
	waitErr error
}

// startNucleus starts bin as a nucleus storing its data in dataDir (created
// if missing) and serving on a free loopback port. Its output goes to a log
// file next to dataDir. ctx ending stops the process.
func startNucleus(ctx context.Context, bin, dataDir string) (*nucleus, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := dataDir + ".log"
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	cmd := exec.CommandContext(ctx, bin, "nucleus",
		"--data-dir", dataDir,
		"--bind-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Stop gracefully when ctx ends, and never outlive the benchmark.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	n := &nucleus{cmd: cmd, dataDir: dataDir, port: port, logPath: logPath, exited: make(chan struct{})}
	n.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		n.waitErr = cmd.Wait()
		close(n.exited)
	}()
	return n, nil
}

// kubeconfig is the admin kubeconfig the nucleus writes.
func (n *nucleus) kubeconfig() string {
	return filepath.Join(n.dataDir, "admin.kubeconfig")
}

// waitReady polls /readyz until it returns 200 and returns the time since
// the process started. It fails if the process exits or timeout passes.
func (n *nucleus) waitReady(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	// The serving certificate is created by the nucleus on its first start,
	// so it cannot be verified before then; /readyz is public.
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	defer client.CloseIdleConnections()
	url := fmt.Sprintf("https://127.0.0.1:%d/readyz", n.port)
	deadline := time.Now().Add(timeout)
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(n.started), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s not ready within %s; log:\n%s", url, timeout, n.logTail())
		}
		select {
		case <-n.exited:
			return 0, fmt.Errorf("nucleus exited before it was ready (%v); log:\n%s", n.waitErr, n.logTail())
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM, waits for the process to exit (killing it after a
// minute) and returns how long it took.
func (n *nucleus) stop() (time.Duration, error) {
	start := time.Now()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, err
	}
	select {
	case <-n.exited:
	case <-time.After(time.Minute):
		n.cmd.Process.Kill()
		<-n.exited
		return 0, fmt.Errorf("nucleus did not exit within a minute of SIGTERM; killed it")
	}
	took := time.Since(start)
	var exitErr *exec.ExitError
	if n.waitErr != nil && !errors.As(n.waitErr, &exitErr) {
		return took, n.waitErr
	}
	return took, nil
}

// memory reads the process' resident set size and its peak, in bytes.
func (n *nucleus) memory() (rss, peak int64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	if rss, err = procStatusBytes(status, "VmRSS"); err != nil {
		return 0, 0, err
	}
	if peak, err = procStatusBytes(status, "VmHWM"); err != nil {
		return 0, 0, err
	}
	return rss, peak, nil
}

// procStatusBytes reads a "Name:   123 kB" line of /proc/<pid>/status.
func procStatusBytes(status []byte, name string) (int64, error) {
	for _, line := range strings.Split(string(status), "\n") {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %s %q: %w", name, rest, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s in /proc/<pid>/status", name)
}

// logTail returns the end of the nucleus' log, for error messages.
func (n *nucleus) logTail() string {
	data, err := os.ReadFile(n.logPath)
	if err != nil {
		return err.Error()
	}
	const max = 4000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(data)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// versionInfo describes the binary measured.
type versionInfo struct {
	// raw is what `strata version` prints, e.g. v1.37.2+strata.0.1.0-dev,
	// made of the Kubernetes and the Strata version.
	raw        string
	kubernetes string
	strata     string
	// goVersion is the Go release the binary was built with.
	goVersion string
	// modified is the binary's modification time.
	modified time.Time
}

// binaryVersion runs `bin version` and reads bin's build information.
func binaryVersion(ctx context.Context, bin string) (versionInfo, error) {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return versionInfo{}, fmt.Errorf("%s version: %w", bin, err)
	}
	v := versionInfo{raw: string(bytes.TrimSpace(out))}
	v.kubernetes, v.strata, _ = strings.Cut(v.raw, "+strata.")
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return v, fmt.Errorf("reading the build information of %s: %w", bin, err)
	}
	v.goVersion = info.GoVersion
	stat, err := os.Stat(bin)
	if err != nil {
		return v, err
	}
	v.modified = stat.ModTime()
	return v, nil
}
