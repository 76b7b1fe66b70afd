package up

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is a strata subcommand run in the background: its own session
// (it outlives `strata up` and the terminal), output appended to a log
// file, its process id in a pid file.
type daemon struct {
	name string
	args []string
	// log and pidFile are under the data directory.
	log, pidFile string
	// done is closed when the process this strata up started has exited.
	done chan struct{}
}

func newDaemon(dataDir, name string, args ...string) daemon {
	return daemon{
		name:    name,
		args:    args,
		log:     filepath.Join(dataDir, "logs", name+".log"),
		pidFile: filepath.Join(dataDir, "run", name+".pid"),
	}
}

// pid is the daemon's process id when it runs.
func (d daemon) pid() (int, bool) {
	data, err := os.ReadFile(d.pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return 0, false
	}
	// A recycled pid belongs to another program.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "strata") {
		return 0, false
	}
	return pid, true
}

// start runs the daemon unless it already runs; it reports whether it
// started it.
func (d *daemon) start(binary string) (bool, error) {
	if _, ok := d.pid(); ok {
		return false, nil
	}
	for _, dir := range []string{filepath.Dir(d.log), filepath.Dir(d.pidFile)} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return false, err
		}
	}
	logFile, err := os.OpenFile(d.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return false, err
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "\n==> %s: strata %s\n", time.Now().Format(time.RFC3339), strings.Join(d.args, " "))
	closeInheritedOnExec()
	cmd := exec.Command(binary, d.args...) //nolint:gosec // strata itself
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("starting %s: %w", d.name, err)
	}
	if err := os.WriteFile(d.pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o640); err != nil {
		_ = cmd.Process.Kill()
		return false, err
	}
	// Reap it if it dies while `strata up` still runs.
	d.done = make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(d.done)
	return true, nil
}

// exited tells whether the daemon has died: the process this strata up
// started, else the one of the pid file. (Reading the pid file's process
// right after starting it can catch it in exec, with no command line yet.)
func (d daemon) exited() bool {
	if d.done != nil {
		select {
		case <-d.done:
			return true
		default:
			return false
		}
	}
	_, ok := d.pid()
	return !ok
}

// stop sends SIGTERM and waits up to timeout before SIGKILL.
func (d daemon) stop(timeout time.Duration) (bool, error) {
	pid, ok := d.pid()
	if !ok {
		_ = os.Remove(d.pidFile)
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return false, fmt.Errorf("stopping %s (pid %d): %w", d.name, pid, err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			_ = os.Remove(d.pidFile)
			return true, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	_ = os.Remove(d.pidFile)
	return true, nil
}

// closeInheritedOnExec marks every file descriptor above standard error
// close-on-exec. Go opens its own files so, but strata up may have
// inherited others, and the daemons would keep them as long as they run: a
// lock of `flock LOCK make up` held until `strata down`, or the write end
// of a pipe whose reader never sees its end.
func closeInheritedOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
