package stats

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/node"
)

// userHZ is the unit of /proc/stat's CPU times: USER_HZ, 100 on every
// architecture Linux runs Strata on (sysconf(_SC_CLK_TCK) needs cgo).
const userHZ = 100

// minRateWindow is the shortest span a CPU rate is measured over: summaries
// asked for in a burst share their earlier sample.
const minRateWindow = time.Second

// ImageFs is the part of CRI's ImageService the node's figures read; a
// k8s.io/cri-client image service is one.
type ImageFs interface {
	ImageFsInfo(ctx context.Context) (*runtimeapi.ImageFsInfoResponse, error)
}

// Host is the node's own figures read from the machine, as upstream's
// kubelet reads them from cAdvisor's root container: CPU from /proc/stat
// (usageNanoCores is the rate since an earlier sample, kept between
// calls), memory from /proc/meminfo and /proc/vmstat, the start time from
// the boot time, the filesystem of RootDir, and the runtime's image
// filesystem.
type Host struct {
	// NodeName names the node.
	NodeName string
	// RootDir is the kubelet's root directory, whose filesystem is the
	// node's fs.
	RootDir string
	// Images reports the runtime's image filesystem (no runtime stats when
	// nil).
	Images ImageFs
	// ProcDir is where /proc is (/proc when empty).
	ProcDir string
	// Statfs reports a filesystem (the host's statfs when nil).
	Statfs func(path string) (Filesystem, error)
	// Clock stamps the figures (the real clock when nil).
	Clock clock.PassiveClock

	rate rateWindow
}

// Filesystem is what statfs reports of a filesystem.
type Filesystem = node.Filesystem

// CPUSamplePeriod is how often SampleCPU should run: the node's CPU rate
// covers at most this much of the recent past, as cAdvisor's housekeeping
// samples do.
const CPUSamplePeriod = 10 * time.Second

// SampleCPU records the node's cumulative CPU usage, so that the next
// summary's rate is measured from it rather than from the summary before
// (which may be long ago). Run it every CPUSamplePeriod.
func (h *Host) SampleCPU(ctx context.Context) {
	data, err := h.read("stat")
	if err != nil {
		klog.FromContext(ctx).V(2).Info("Cannot read the node's CPU usage", "err", err)
		return
	}
	st, err := ParseProcStat(data)
	if err != nil {
		klog.FromContext(ctx).V(2).Info("Cannot read the node's CPU usage", "err", err)
		return
	}
	h.rate.observe(h.now(), st.UsageCoreNanoSeconds)
}

// NodeStats reads the node's figures; the parts it cannot read are left
// out (and logged at V(2)).
func (h *Host) NodeStats(ctx context.Context) NodeStats {
	log := klog.FromContext(ctx)
	now := h.now()
	out := NodeStats{NodeName: h.NodeName}
	if data, err := h.read("stat"); err != nil {
		log.V(2).Info("Cannot read the node's CPU usage", "err", err)
	} else if st, err := ParseProcStat(data); err != nil {
		log.V(2).Info("Cannot read the node's CPU usage", "err", err)
	} else {
		out.StartTime = metav1.NewTime(st.BootTime)
		out.CPU = &CPUStats{
			Time:                 metav1.NewTime(now),
			UsageCoreNanoSeconds: ptr(st.UsageCoreNanoSeconds),
			UsageNanoCores:       h.rate.observe(now, st.UsageCoreNanoSeconds),
		}
	}
	if meminfo, err := h.read("meminfo"); err != nil {
		log.V(2).Info("Cannot read the node's memory", "err", err)
	} else {
		vmstat, _ := h.read("vmstat")
		if m, err := NodeMemory(meminfo, vmstat, now); err != nil {
			log.V(2).Info("Cannot read the node's memory", "err", err)
		} else {
			out.Memory = m
		}
	}
	if h.RootDir != "" {
		if fs, err := h.statfs(h.RootDir); err != nil {
			log.V(2).Info("Cannot read the node's filesystem", "path", h.RootDir, "err", err)
		} else {
			out.Fs = fsStats(fs, now)
		}
	}
	if h.Images != nil {
		if imageFs, err := h.imageFs(ctx); err != nil {
			log.V(2).Info("Cannot read the runtime's image filesystem", "err", err)
		} else {
			out.Runtime = &RuntimeStats{ImageFs: imageFs, ContainerFs: imageFs}
		}
	}
	return out
}

// imageFs is the runtime's image filesystem: its size from statfs of its
// mountpoint, the images' use from the runtime.
func (h *Host) imageFs(ctx context.Context) (*FsStats, error) {
	resp, err := h.Images.ImageFsInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking the runtime for its image filesystem: %w", err)
	}
	if len(resp.GetImageFilesystems()) == 0 {
		return nil, errors.New("the runtime reports no image filesystem")
	}
	usage := resp.GetImageFilesystems()[0]
	at := h.now()
	if usage.GetTimestamp() != 0 {
		at = time.Unix(0, usage.GetTimestamp())
	}
	out := &FsStats{Time: metav1.NewTime(at.UTC())}
	if mountpoint := usage.GetFsId().GetMountpoint(); mountpoint != "" {
		if fs, err := h.statfs(mountpoint); err == nil {
			out = fsStats(fs, at.UTC())
		}
	}
	out.UsedBytes = value(usage.GetUsedBytes())
	out.InodesUsed = value(usage.GetInodesUsed())
	return out, nil
}

func (h *Host) now() time.Time {
	if h.Clock == nil {
		return time.Now().UTC()
	}
	return h.Clock.Now().UTC()
}

func (h *Host) read(name string) (string, error) {
	dir := h.ProcDir
	if dir == "" {
		dir = "/proc"
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	return string(data), err
}

func (h *Host) statfs(path string) (Filesystem, error) {
	if h.Statfs != nil {
		return h.Statfs(path)
	}
	return node.StatFilesystem(path)
}

// fsStats are a filesystem's figures as upstream reports them: used is
// capacity less the free blocks (those reserved for root included),
// available what an unprivileged user may still write.
func fsStats(fs Filesystem, at time.Time) *FsStats {
	return &FsStats{
		Time:           metav1.NewTime(at),
		CapacityBytes:  ptr(uint64(fs.Capacity)),
		AvailableBytes: ptr(uint64(fs.Available)),
		UsedBytes:      ptr(uint64(fs.Capacity - min(fs.Free, fs.Capacity))),
		Inodes:         ptr(uint64(fs.Inodes)),
		InodesFree:     ptr(uint64(fs.InodesFree)),
		InodesUsed:     ptr(uint64(fs.Inodes - min(fs.InodesFree, fs.Inodes))),
	}
}

// ProcStat is what the node's figures take from /proc/stat.
type ProcStat struct {
	// UsageCoreNanoSeconds is the CPU time spent on all cores other than
	// idle and waiting for I/O: user, nice, system, irq and softirq (guest
	// time is part of user; time stolen by a hypervisor is not this
	// node's).
	UsageCoreNanoSeconds uint64
	// BootTime is when the machine booted (btime).
	BootTime time.Time
}

// ParseProcStat reads the cumulative CPU line and btime of /proc/stat.
func ParseProcStat(data string) (ProcStat, error) {
	var out ProcStat
	var haveCPU, haveBoot bool
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "cpu":
			// cpu user nice system idle iowait irq softirq steal guest guest_nice
			if len(fields) < 8 {
				return ProcStat{}, fmt.Errorf("the cpu line of /proc/stat has %d fields, want at least 8", len(fields))
			}
			var ticks uint64
			for _, i := range []int{1, 2, 3, 6, 7} {
				v, err := strconv.ParseUint(fields[i], 10, 64)
				if err != nil {
					return ProcStat{}, fmt.Errorf("the cpu line of /proc/stat: %w", err)
				}
				ticks += v
			}
			out.UsageCoreNanoSeconds = ticks * (uint64(time.Second) / userHZ)
			haveCPU = true
		case "btime":
			if len(fields) != 2 {
				return ProcStat{}, errors.New("malformed btime line in /proc/stat")
			}
			v, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return ProcStat{}, fmt.Errorf("the btime line of /proc/stat: %w", err)
			}
			out.BootTime = time.Unix(v, 0).UTC()
			haveBoot = true
		}
	}
	if !haveCPU || !haveBoot {
		return ProcStat{}, errors.New("/proc/stat has no cpu or btime line")
	}
	return out, nil
}

// NodeMemory is the node's memory from /proc/meminfo (and page faults from
// /proc/vmstat, when given), with cAdvisor's meanings for the machine:
// usage is what is not free (MemTotal - MemFree), the working set is the
// usage less the inactive file cache, rss the anonymous memory, available
// the total less the working set (what eviction's memory.available is).
func NodeMemory(meminfo, vmstat string, at time.Time) (*MemoryStats, error) {
	fields, err := node.ParseMeminfo(meminfo)
	if err != nil {
		return nil, fmt.Errorf("/proc/meminfo: %w", err)
	}
	get := func(key string) uint64 { return uint64(max(fields[key], 0)) }
	total := get("MemTotal")
	usage := total - min(get("MemFree"), total)
	workingSet := usage - min(get("Inactive(file)"), usage)
	m := &MemoryStats{
		Time:            metav1.NewTime(at),
		UsageBytes:      ptr(usage),
		WorkingSetBytes: ptr(workingSet),
		AvailableBytes:  ptr(total - workingSet),
		RSSBytes:        ptr(get("Active(anon)") + get("Inactive(anon)")),
	}
	if faults, major, ok := parseVMStatFaults(vmstat); ok {
		m.PageFaults, m.MajorPageFaults = ptr(faults), ptr(major)
	}
	return m, nil
}

// parseVMStatFaults reads pgfault and pgmajfault of /proc/vmstat.
func parseVMStatFaults(data string) (faults, major uint64, ok bool) {
	var haveFaults, haveMajor bool
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		key, v, found := strings.Cut(sc.Text(), " ")
		if !found {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "pgfault":
			faults, haveFaults = n, true
		case "pgmajfault":
			major, haveMajor = n, true
		}
	}
	return faults, major, haveFaults && haveMajor
}

// rateWindow turns a cumulative CPU usage into a rate: the usage since an
// earlier sample over the time between them, as cAdvisor derives it from
// its housekeeping samples. The earlier sample moves on once it is
// minRateWindow old, so bursts of requests measure over at least that.
type rateWindow struct {
	mu   sync.Mutex
	prev *cpuSample
}

type cpuSample struct {
	at    time.Time
	usage uint64
}

// observe records a sample and returns the rate in nanocores since the
// earlier one, or nil without one (the first sample, a clock going back,
// a counter reset).
func (r *rateWindow) observe(at time.Time, usage uint64) *uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.prev
	if prev == nil || !at.After(prev.at) || usage < prev.usage {
		r.prev = &cpuSample{at: at, usage: usage}
		return nil
	}
	elapsed := at.Sub(prev.at)
	rate := uint64(float64(usage-prev.usage) / float64(elapsed) * float64(time.Second))
	if elapsed >= minRateWindow {
		r.prev = &cpuSample{at: at, usage: usage}
	}
	return &rate
}
