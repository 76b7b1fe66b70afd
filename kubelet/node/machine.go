package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Machine is what the kubelet observes of its host: the sizes that make
// the Node's capacity, what is left of them (for the pressure conditions),
// and the identity that makes status.nodeInfo.
type Machine struct {
	// NumCPU is the number of CPUs the kubelet may run on.
	NumCPU int
	// MemoryTotal and MemoryAvailable are MemTotal and MemAvailable of
	// /proc/meminfo, in bytes; SwapTotal is SwapTotal.
	MemoryTotal, MemoryAvailable, SwapTotal int64
	// HugePages are the huge page pools of /sys/kernel/mm/hugepages.
	HugePages []HugePages
	// Filesystem is the one holding the kubelet's root directory.
	Filesystem Filesystem
	// PIDs are the kernel's process ID limit and the tasks running.
	PIDs PIDs

	MachineID     string // /etc/machine-id
	SystemUUID    string // /sys/class/dmi/id/product_uuid, "" when not readable
	BootID        string // /proc/sys/kernel/random/boot_id
	KernelVersion string // uname -r
	OSImage       string // PRETTY_NAME of /etc/os-release
}

// HugePages is one huge page pool.
type HugePages struct {
	// PageSize is in bytes.
	PageSize int64
	// Count is the number of pages reserved (nr_hugepages).
	Count int64
}

// Filesystem is the size and use of a filesystem, as statfs reports it.
type Filesystem struct {
	// Capacity, Free and Available are in bytes (Free counts the blocks
	// reserved for root, Available only what unprivileged users may use).
	Capacity, Free, Available int64
	Inodes, InodesFree        int64
}

// PIDs is the process ID limit and use.
type PIDs struct {
	// Max is the lower of kernel.pid_max and kernel.threads-max.
	Max int64
	// Running is the number of tasks (threads) that exist.
	Running int64
}

// MachineReader observes the host. The default reads /proc, /sys and /etc
// (HostMachine); tests give a fixed Machine.
type MachineReader interface {
	ReadMachine(ctx context.Context) (Machine, error)
}

// MachineFunc is a MachineReader.
type MachineFunc func(ctx context.Context) (Machine, error)

// ReadMachine calls f.
func (f MachineFunc) ReadMachine(ctx context.Context) (Machine, error) { return f(ctx) }

// HostMachine reads the Machine of the host the kubelet runs on.
type HostMachine struct {
	// Root prefixes /proc, /sys and /etc ("/" when empty), for a kubelet
	// that sees its host's files somewhere else.
	Root string
	// RootDir is the kubelet's root directory: its filesystem is the
	// node's ephemeral storage.
	RootDir string
}

// ReadMachine reads what it can; the error joins what failed.
func (h HostMachine) ReadMachine(context.Context) (Machine, error) {
	var errs []error
	m := Machine{NumCPU: runtime.NumCPU()}
	read := func(path string) string {
		data, err := os.ReadFile(filepath.Join(h.root(), path))
		if err != nil {
			errs = append(errs, err)
			return ""
		}
		return string(data)
	}
	optional := func(path string) string {
		data, _ := os.ReadFile(filepath.Join(h.root(), path))
		return strings.TrimSpace(string(data))
	}
	if info, err := ParseMeminfo(read("/proc/meminfo")); err != nil {
		errs = append(errs, fmt.Errorf("reading /proc/meminfo: %w", err))
	} else {
		m.MemoryTotal, m.MemoryAvailable, m.SwapTotal = info["MemTotal"], info["MemAvailable"], info["SwapTotal"]
	}
	m.HugePages = h.hugePages()
	m.MachineID = strings.TrimSpace(read("/etc/machine-id"))
	m.SystemUUID = optional("/sys/class/dmi/id/product_uuid")
	m.BootID = strings.TrimSpace(read("/proc/sys/kernel/random/boot_id"))
	m.KernelVersion = strings.TrimSpace(read("/proc/sys/kernel/osrelease"))
	m.OSImage = ParseOSRelease(optional("/etc/os-release"))
	if m.OSImage == "" {
		m.OSImage = ParseOSRelease(optional("/usr/lib/os-release"))
	}
	if m.OSImage == "" {
		m.OSImage = "Linux"
	}
	m.PIDs = PIDs{Max: parseInt(optional("/proc/sys/kernel/pid_max"))}
	if threads := parseInt(optional("/proc/sys/kernel/threads-max")); threads > 0 && (m.PIDs.Max == 0 || threads < m.PIDs.Max) {
		m.PIDs.Max = threads
	}
	m.PIDs.Running = ParseLoadavgTasks(optional("/proc/loadavg"))
	rootDir := h.RootDir
	if rootDir == "" {
		rootDir = "/"
	}
	fs, err := StatFilesystem(existingAncestor(rootDir))
	if err != nil {
		errs = append(errs, fmt.Errorf("reading the filesystem of %s: %w", rootDir, err))
	}
	m.Filesystem = fs
	return m, errors.Join(errs...)
}

func (h HostMachine) root() string {
	if h.Root == "" {
		return "/"
	}
	return h.Root
}

// hugePages lists the pools of /sys/kernel/mm/hugepages, smallest first.
func (h HostMachine) hugePages() []HugePages {
	dir := filepath.Join(h.root(), "/sys/kernel/mm/hugepages")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []HugePages
	for _, e := range entries {
		size, ok := ParseHugePageSize(e.Name())
		if !ok {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name(), "nr_hugepages"))
		out = append(out, HugePages{PageSize: size, Count: parseInt(strings.TrimSpace(string(data)))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PageSize < out[j].PageSize })
	return out
}

// existingAncestor is dir, or its nearest parent that exists: the kubelet's
// root directory may not be created yet.
func existingAncestor(dir string) string {
	dir = filepath.Clean(dir)
	for {
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// ParseMeminfo reads /proc/meminfo into bytes by field ("kB" values are
// multiplied by 1024; counts such as HugePages_Total are kept as they are).
func ParseMeminfo(data string) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", key, err)
		}
		if len(fields) > 1 && strings.EqualFold(fields[1], "kB") {
			v *= 1024
		}
		out[strings.TrimSpace(key)] = v
	}
	if _, ok := out["MemTotal"]; !ok {
		return nil, errors.New("no MemTotal")
	}
	return out, nil
}

// ParseOSRelease returns PRETTY_NAME of an os-release file, unquoted.
func ParseOSRelease(data string) string {
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || key != "PRETTY_NAME" {
			continue
		}
		return unquoteShell(value)
	}
	return ""
}

// unquoteShell undoes os-release's shell-style quoting: "…" with
// backslash escapes, or '…'.
func unquoteShell(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var b bytes.Buffer
		in := v[1 : len(v)-1]
		for i := 0; i < len(in); i++ {
			if in[i] == '\\' && i+1 < len(in) {
				i++
			}
			b.WriteByte(in[i])
		}
		return b.String()
	}
	return v
}

// ParseHugePageSize reads a directory name of /sys/kernel/mm/hugepages
// ("hugepages-2048kB") into a page size in bytes.
func ParseHugePageSize(name string) (int64, bool) {
	s, ok := strings.CutPrefix(name, "hugepages-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "kB")
	if !ok {
		return 0, false
	}
	kb, err := strconv.ParseInt(s, 10, 64)
	if err != nil || kb <= 0 {
		return 0, false
	}
	return kb * 1024, true
}

// ParseLoadavgTasks returns the number of tasks of /proc/loadavg (the
// total of its fourth field, "running/total").
func ParseLoadavgTasks(data string) int64 {
	fields := strings.Fields(data)
	if len(fields) < 4 {
		return 0
	}
	_, total, ok := strings.Cut(fields[3], "/")
	if !ok {
		return 0
	}
	return parseInt(total)
}

func parseInt(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return v
}
