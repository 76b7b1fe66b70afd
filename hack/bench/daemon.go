package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// daemon is a long-running strata process other than the nucleus (`strata
// containerd`, `strata kubelet`), its output in a log file.
type daemon struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// exited is closed once the process has exited; waitErr is then set.
	exited  chan struct{}
	waitErr error
}

// startDaemon runs `bin args...` with its output in logPath. ctx ending
// stops it with SIGTERM; it never outlives the benchmark.
func startDaemon(ctx context.Context, name, bin, logPath string, args ...string) (*daemon, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	d := &daemon{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting strata %s: %w", name, err)
	}
	go func() {
		d.waitErr = cmd.Wait()
		close(d.exited)
	}()
	return d, nil
}

// waitLog waits until the log matches re and returns the match's
// submatches. It fails when the process exits or timeout passes.
func (d *daemon) waitLog(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		data, _ := os.ReadFile(d.logPath)
		if m := re.FindStringSubmatch(string(data)); m != nil {
			return m, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("strata %s did not log %q within %s; log:\n%s", d.name, re, timeout, d.logTail())
		}
		select {
		case <-d.exited:
			return nil, fmt.Errorf("strata %s exited (%v); log:\n%s", d.name, d.waitErr, d.logTail())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// alive fails when the process has exited.
func (d *daemon) alive() error {
	select {
	case <-d.exited:
		return fmt.Errorf("strata %s exited (%v); log:\n%s", d.name, d.waitErr, d.logTail())
	default:
		return nil
	}
}

// stop sends SIGTERM and waits for the process to exit, killing it after
// a minute. Stopping a stopped daemon does nothing.
func (d *daemon) stop() error {
	select {
	case <-d.exited:
		return nil
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-d.exited:
		return nil
	case <-time.After(time.Minute):
		_ = d.cmd.Process.Kill()
		<-d.exited
		return fmt.Errorf("strata %s did not exit within a minute of SIGTERM; killed it", d.name)
	}
}

// memory reads the process' resident set size and its peak, in bytes.
func (d *daemon) memory() (rss, peak int64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
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

// logTail returns the end of the log, for error messages.
func (d *daemon) logTail() string {
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}
