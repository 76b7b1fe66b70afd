package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// machineInfo describes the machine the benchmark ran on.
type machineInfo struct {
	cpus       int
	cpuModel   string
	memory     int64
	kernel     string
	goVersion  string
	filesystem string
	loadavg    string
}

// describeMachine reads the machine's description from /proc; dir is where
// the data dirs live, whose filesystem it names.
func describeMachine(dir string) (machineInfo, error) {
	m := machineInfo{cpus: runtime.NumCPU(), goVersion: runtime.Version()}
	kernel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return m, err
	}
	m.kernel = strings.TrimSpace(string(kernel))
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return m, err
	}
	if m.memory, err = procStatusBytes(meminfo, "MemTotal"); err != nil {
		return m, err
	}
	loadavg, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return m, err
	}
	m.loadavg = strings.Join(strings.Fields(string(loadavg))[:3], " ")
	if cpuinfo, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(cpuinfo)) {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				m.cpuModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	if m.filesystem, err = filesystemOf(dir); err != nil {
		return m, err
	}
	return m, nil
}

// filesystemOf names the mount dir is on and its type, from /proc/mounts.
func filesystemOf(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "", err
	}
	defer f.Close()
	best, bestType := "", ""
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 3 {
			continue
		}
		mount := fields[1]
		under := dir == mount || strings.HasPrefix(dir, strings.TrimSuffix(mount, "/")+"/")
		if under && len(mount) >= len(best) {
			best, bestType = mount, fields[2]
		}
	}
	if err := scanner.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s)", best, bestType), nil
}

// cpuTimes is a reading of the machine's CPU time, in clock ticks.
type cpuTimes struct {
	// busy and total are summed over all CPUs.
	busy, total uint64
	// own is this process' CPU time plus that of its exited children, the
	// nucleus processes.
	own uint64
}

// readCPU reads /proc/stat and /proc/self/stat.
func readCPU() (cpuTimes, error) {
	var t cpuTimes
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t, err
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return t, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	// user nice system idle iowait irq softirq steal ...
	for i, f := range fields[1:9] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return t, fmt.Errorf("parsing /proc/stat: %w", err)
		}
		t.total += v
		if i != 3 && i != 4 {
			t.busy += v
		}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return t, err
	}
	// Fields after the command's closing parenthesis start at field 3;
	// utime, stime, cutime and cstime are fields 14 to 17.
	s := string(self)
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	for _, f := range rest[11:15] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return t, fmt.Errorf("parsing /proc/self/stat: %w", err)
		}
		t.own += v
	}
	return t, nil
}

// otherShare is the share of the machine's CPU time between before and t
// that went to other processes than this one and its children.
func (t cpuTimes) otherShare(before cpuTimes) float64 {
	total := t.total - before.total
	if total == 0 {
		return 0
	}
	other := int64(t.busy-before.busy) - int64(t.own-before.own)
	return max(float64(other), 0) / float64(total)
}
