package stats

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

const procStat = `cpu  1311406 23614 546850 649028 9467 100 16823 55 0 0
cpu0 650984 12376 269438 335224 2836 0 7526 0 0 0
cpu1 660421 11238 277411 313803 6630 0 9297 0 0 0
intr 123456 0 0
ctxt 987654
btime 1767225600
processes 4242
`

const meminfo = `MemTotal:       24683548 kB
MemFree:        16110644 kB
MemAvailable:   23206880 kB
Buffers:           72440 kB
Cached:          7022128 kB
Active(anon):       1912 kB
Inactive(anon):   896216 kB
Active(file):    4859416 kB
Inactive(file):  2225600 kB
HugePages_Total:       0
`

const vmstat = `nr_free_pages 4027661
pgfault 81234567
pgmajfault 4321
`

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    string
		want    ProcStat
		wantErr bool
	}{{
		name: "user nice system irq softirq, not idle iowait steal",
		data: procStat,
		// (1311406+23614+546850+100+16823) ticks of 10ms.
		want: ProcStat{UsageCoreNanoSeconds: 1898793 * 10_000_000, BootTime: time.Unix(1767225600, 0).UTC()},
	}, {
		name: "an old kernel's eight fields",
		data: "cpu 1 2 3 4 5 6 7\nbtime 10\n",
		want: ProcStat{UsageCoreNanoSeconds: (1 + 2 + 3 + 6 + 7) * 10_000_000, BootTime: time.Unix(10, 0).UTC()},
	}, {
		name:    "no btime",
		data:    "cpu 1 2 3 4 5 6 7 8\n",
		wantErr: true,
	}, {
		name:    "no cpu line",
		data:    "cpu0 1 2 3 4 5 6 7 8\nbtime 10\n",
		wantErr: true,
	}, {
		name:    "too few fields",
		data:    "cpu 1 2 3\nbtime 10\n",
		wantErr: true,
	}, {
		name:    "not a number",
		data:    "cpu 1 2 x 4 5 6 7 8\nbtime 10\n",
		wantErr: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcStat(tc.data)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodeMemory(t *testing.T) {
	at := metav1.NewTime(t1)
	const kB = 1024
	for _, tc := range []struct {
		name            string
		meminfo, vmstat string
		want            *MemoryStats
		wantErr         bool
	}{{
		name:    "usage is not free, working set less inactive file",
		meminfo: meminfo,
		vmstat:  vmstat,
		want: &MemoryStats{
			Time:            at,
			UsageBytes:      p((24683548 - 16110644) * kB),
			WorkingSetBytes: p((24683548 - 16110644 - 2225600) * kB),
			AvailableBytes:  p((16110644 + 2225600) * kB),
			RSSBytes:        p((1912 + 896216) * kB),
			PageFaults:      p(81234567),
			MajorPageFaults: p(4321),
		},
	}, {
		name:    "no vmstat: no page faults",
		meminfo: "MemTotal: 100 kB\nMemFree: 40 kB\nInactive(file): 10 kB\n",
		want: &MemoryStats{
			Time: at, UsageBytes: p(60 * kB), WorkingSetBytes: p(50 * kB), AvailableBytes: p(50 * kB), RSSBytes: p(0),
		},
	}, {
		name:    "more inactive file than used: no working set",
		meminfo: "MemTotal: 100 kB\nMemFree: 90 kB\nInactive(file): 20 kB\n",
		want: &MemoryStats{
			Time: at, UsageBytes: p(10 * kB), WorkingSetBytes: p(0), AvailableBytes: p(100 * kB), RSSBytes: p(0),
		},
	}, {
		name:    "no MemTotal",
		meminfo: "MemFree: 90 kB\n",
		wantErr: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NodeMemory(tc.meminfo, tc.vmstat, t1)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateWindow(t *testing.T) {
	start := t1
	at := func(d time.Duration) time.Time { return start.Add(d) }
	type sample struct {
		at    time.Time
		usage uint64
		want  *uint64
	}
	for _, tc := range []struct {
		name    string
		samples []sample
	}{{
		name: "the first sample has no rate",
		samples: []sample{
			{at(0), 1000, nil},
		},
	}, {
		name: "half a core over two seconds",
		samples: []sample{
			{at(0), 0, nil},
			{at(2 * time.Second), uint64(time.Second), p(500_000_000)},
			{at(4 * time.Second), uint64(3 * time.Second), p(1_000_000_000)},
		},
	}, {
		name: "a burst measures from the sample a second old",
		samples: []sample{
			{at(0), 0, nil},
			{at(1 * time.Second), 1_000_000_000, p(1_000_000_000)},
			// 100ms later: still from the sample at 1s.
			{at(1100 * time.Millisecond), 1_020_000_000, p(200_000_000)},
			{at(1500 * time.Millisecond), 1_250_000_000, p(500_000_000)},
			// A second after 1s: from 1s, and the window moves on.
			{at(2 * time.Second), 1_500_000_000, p(500_000_000)},
			{at(3 * time.Second), 1_600_000_000, p(100_000_000)},
		},
	}, {
		name: "a counter going back starts over",
		samples: []sample{
			{at(0), 5000, nil},
			{at(time.Second), 10, nil},
			{at(2 * time.Second), 10 + 250_000_000, p(250_000_000)},
		},
	}, {
		name: "the same instant has no rate",
		samples: []sample{
			{at(0), 0, nil},
			{at(0), 10, nil},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var r rateWindow
			for i, s := range tc.samples {
				if diff := cmp.Diff(s.want, r.observe(s.at, s.usage)); diff != "" {
					t.Errorf("sample %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

type fakeImageFs struct {
	resp *runtimeapi.ImageFsInfoResponse
	err  error
}

func (f fakeImageFs) ImageFsInfo(context.Context) (*runtimeapi.ImageFsInfoResponse, error) {
	return f.resp, f.err
}

func writeProc(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHostNodeStats(t *testing.T) {
	clock := clocktesting.NewFakePassiveClock(t1)
	filesystems := map[string]Filesystem{
		"/var/lib/kubelet":         {Capacity: 1000, Free: 400, Available: 300, Inodes: 100, InodesFree: 60},
		"/var/lib/containerd/snap": {Capacity: 5000, Free: 2000, Available: 1900, Inodes: 500, InodesFree: 100},
	}
	statfs := func(path string) (Filesystem, error) {
		fs, ok := filesystems[path]
		if !ok {
			return Filesystem{}, errors.New("no such filesystem")
		}
		return fs, nil
	}
	images := fakeImageFs{resp: &runtimeapi.ImageFsInfoResponse{ImageFilesystems: []*runtimeapi.FilesystemUsage{{
		Timestamp: t2.UnixNano(), FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: "/var/lib/containerd/snap"},
		UsedBytes: u64(700), InodesUsed: u64(70),
	}}}}
	proc := writeProc(t, map[string]string{"stat": "cpu 100 0 100 500 0 0 0 0\nbtime 1767225600\n", "meminfo": meminfo, "vmstat": vmstat})
	h := &Host{NodeName: "n1", RootDir: "/var/lib/kubelet", Images: images, ProcDir: proc, Statfs: statfs, Clock: clock}

	first := h.NodeStats(t.Context())
	if first.CPU == nil || first.CPU.UsageNanoCores != nil || *first.CPU.UsageCoreNanoSeconds != 2*uint64(time.Second) {
		t.Errorf("first sample's cpu = %+v, want 2s of cumulative usage and no rate yet", first.CPU)
	}

	// Two seconds and 100 ticks later: half a core.
	clock.SetTime(t1.Add(2 * time.Second))
	if err := os.WriteFile(filepath.Join(proc, "stat"), []byte("cpu 150 0 150 700 0 0 0 0\nbtime 1767225600\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := h.NodeStats(t.Context())
	now := metav1.NewTime(t1.Add(2 * time.Second))
	mem, _ := NodeMemory(meminfo, vmstat, now.Time)
	imageFs := &FsStats{Time: metav1.NewTime(t2), CapacityBytes: p(5000), AvailableBytes: p(1900), UsedBytes: p(700),
		Inodes: p(500), InodesFree: p(100), InodesUsed: p(70)}
	want := NodeStats{
		NodeName:  "n1",
		StartTime: metav1.NewTime(time.Unix(1767225600, 0).UTC()),
		CPU:       &CPUStats{Time: now, UsageCoreNanoSeconds: p(3 * uint64(time.Second)), UsageNanoCores: p(500_000_000)},
		Memory:    mem,
		Fs: &FsStats{Time: now, CapacityBytes: p(1000), AvailableBytes: p(300), UsedBytes: p(600),
			Inodes: p(100), InodesFree: p(60), InodesUsed: p(40)},
		Runtime: &RuntimeStats{ImageFs: imageFs, ContainerFs: imageFs},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("node stats (-want +got):\n%s", diff)
	}

	// What cannot be read is left out; the rest is reported.
	broken := &Host{NodeName: "n1", RootDir: "/nowhere", Images: fakeImageFs{err: errors.New("unavailable")},
		ProcDir: writeProc(t, map[string]string{"meminfo": meminfo}), Statfs: statfs, Clock: clock}
	got = broken.NodeStats(t.Context())
	if got.CPU != nil || got.Fs != nil || got.Runtime != nil || got.Memory == nil || !got.StartTime.IsZero() {
		t.Errorf("node stats without /proc/stat, root filesystem and runtime = %+v, want memory only", got)
	}
}

// A summary long after the previous one reports the rate since the
// latest background sample, not the average since that summary.
func TestHostRateSinceTheLatestSample(t *testing.T) {
	clock := clocktesting.NewFakePassiveClock(t1)
	proc := writeProc(t, map[string]string{"stat": "cpu 0 0 0 0 0 0 0 0\nbtime 1767225600\n"})
	h := &Host{NodeName: "n1", ProcDir: proc, Clock: clock}
	setStat := func(after time.Duration, busyTicks int) {
		t.Helper()
		clock.SetTime(t1.Add(after))
		stat := fmt.Sprintf("cpu %d 0 0 0 0 0 0 0\nbtime 1767225600\n", busyTicks)
		if err := os.WriteFile(filepath.Join(proc, "stat"), []byte(stat), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h.SampleCPU(t.Context())
	setStat(50*time.Second, 0) // idle for 50s
	h.SampleCPU(t.Context())
	setStat(60*time.Second, 1000) // then 10s of one busy core (100 ticks/s)
	got := h.NodeStats(t.Context())
	if got.CPU == nil || got.CPU.UsageNanoCores == nil || *got.CPU.UsageNanoCores != 1_000_000_000 {
		t.Errorf("cpu = %+v, want a rate of one core (1e9 nanocores) since the sample 10s ago", got.CPU)
	}
}

func TestHostReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("SKIP: no /proc/stat on this machine")
	}
	h := &Host{NodeName: "here", RootDir: t.TempDir()}
	h.NodeStats(t.Context())
	time.Sleep(20 * time.Millisecond)
	got := h.NodeStats(t.Context())
	if got.CPU == nil || got.CPU.UsageNanoCores == nil || *got.CPU.UsageCoreNanoSeconds == 0 {
		t.Errorf("cpu = %+v, want a cumulative usage and a rate", got.CPU)
	}
	if got.Memory == nil || *got.Memory.WorkingSetBytes == 0 || *got.Memory.WorkingSetBytes > *got.Memory.UsageBytes {
		t.Errorf("memory = %+v, want 0 < working set ≤ usage", got.Memory)
	}
	if got.StartTime.IsZero() || got.StartTime.After(time.Now()) {
		t.Errorf("start time = %s, want the boot time", got.StartTime)
	}
	if got.Fs == nil || *got.Fs.CapacityBytes == 0 {
		t.Errorf("fs = %+v, want the temporary directory's filesystem", got.Fs)
	}
}
