package node

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMeminfo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    string
		want    map[string]int64
		wantErr bool
	}{
		{
			name: "kB and counts",
			data: "MemTotal:       16303024 kB\nMemFree:         1000 kB\nMemAvailable:    8000000 kB\nSwapTotal:       0 kB\nHugePages_Total:       4\nHugepagesize:       2048 kB\n",
			want: map[string]int64{
				"MemTotal": 16303024 * 1024, "MemFree": 1000 * 1024, "MemAvailable": 8000000 * 1024,
				"SwapTotal": 0, "HugePages_Total": 4, "Hugepagesize": 2048 * 1024,
			},
		},
		{name: "no MemTotal", data: "MemFree: 1 kB\n", wantErr: true},
		{name: "garbage value", data: "MemTotal: lots kB\n", wantErr: true},
		{name: "empty", data: "", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMeminfo(tc.data)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"double quotes", "NAME=\"Ubuntu\"\nPRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\n", "Ubuntu 24.04.1 LTS"},
		{"single quotes", "PRETTY_NAME='Debian GNU/Linux 12 (bookworm)'\n", "Debian GNU/Linux 12 (bookworm)"},
		{"unquoted", "PRETTY_NAME=Alpine\n", "Alpine"},
		{"escapes", `PRETTY_NAME="Say \"hi\" \\ now"` + "\n", `Say "hi" \ now`},
		{"indented", "  PRETTY_NAME=\"Fedora Linux 40\"\n", "Fedora Linux 40"},
		{"missing", "NAME=\"Ubuntu\"\n", ""},
		{"not confused by a prefix", "XPRETTY_NAME=\"no\"\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseOSRelease(tc.data); got != tc.want {
				t.Errorf("ParseOSRelease = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseHugePageSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int64
		ok   bool
	}{
		{"hugepages-2048kB", 2 << 20, true},
		{"hugepages-1048576kB", 1 << 30, true},
		{"hugepages-64kB", 64 << 10, true},
		{"hugepages-xkB", 0, false},
		{"hugepages-2048", 0, false},
		{"something", 0, false},
	} {
		got, ok := ParseHugePageSize(tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseHugePageSize(%q) = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseLoadavgTasks(t *testing.T) {
	for data, want := range map[string]int64{
		"0.52 0.58 0.59 3/1234 56789\n": 1234,
		"0.52 0.58 0.59":                0,
		"0.52 0.58 0.59 x 1":            0,
		"":                              0,
	} {
		if got := ParseLoadavgTasks(data); got != want {
			t.Errorf("ParseLoadavgTasks(%q) = %d, want %d", data, got, want)
		}
	}
}

// TestHostMachine reads a host tree laid out under a temporary root.
func TestHostMachine(t *testing.T) {
	root := t.TempDir()
	write := func(path, data string) {
		t.Helper()
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/proc/meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\nSwapTotal: 512 kB\n")
	write("/etc/machine-id", "0123456789abcdef\n")
	write("/sys/class/dmi/id/product_uuid", "4C4C4544-0000\n")
	write("/proc/sys/kernel/random/boot_id", "b00t\n")
	write("/proc/sys/kernel/osrelease", "6.8.0-45-generic\n")
	write("/etc/os-release", "PRETTY_NAME=\"Strata Linux\"\n")
	write("/proc/sys/kernel/pid_max", "4194304\n")
	write("/proc/sys/kernel/threads-max", "126000\n")
	write("/proc/loadavg", "0.1 0.2 0.3 2/500 99\n")
	write("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n")
	write("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "3\n")

	m, err := HostMachine{Root: root, RootDir: filepath.Join(root, "var/lib/kubelet")}.ReadMachine(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Filesystem.Capacity <= 0 || m.Filesystem.Inodes < 0 {
		t.Errorf("filesystem of the nearest existing parent not read: %+v", m.Filesystem)
	}
	m.Filesystem = Filesystem{}
	want := Machine{
		NumCPU:      runtime.NumCPU(),
		MemoryTotal: 2 << 20, MemoryAvailable: 1 << 20, SwapTotal: 512 << 10,
		HugePages:     []HugePages{{PageSize: 2 << 20, Count: 3}, {PageSize: 1 << 30, Count: 0}},
		PIDs:          PIDs{Max: 126000, Running: 500},
		MachineID:     "0123456789abcdef",
		SystemUUID:    "4C4C4544-0000",
		BootID:        "b00t",
		KernelVersion: "6.8.0-45-generic",
		OSImage:       "Strata Linux",
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("machine (-want +got):\n%s", diff)
	}

	// Without os-release or the DMI UUID: "Linux" and "", not an error.
	if err := os.Remove(filepath.Join(root, "/etc/os-release")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "/sys/class/dmi/id/product_uuid")); err != nil {
		t.Fatal(err)
	}
	m, err = HostMachine{Root: root, RootDir: root}.ReadMachine(context.Background())
	if err != nil || m.OSImage != "Linux" || m.SystemUUID != "" {
		t.Errorf("os image %q, uuid %q, err %v", m.OSImage, m.SystemUUID, err)
	}

	// Without meminfo: an error, and no memory.
	if err := os.Remove(filepath.Join(root, "/proc/meminfo")); err != nil {
		t.Fatal(err)
	}
	if m, err = (HostMachine{Root: root, RootDir: root}).ReadMachine(context.Background()); err == nil || m.MemoryTotal != 0 {
		t.Errorf("missing meminfo: memory %d, err %v", m.MemoryTotal, err)
	}
}
