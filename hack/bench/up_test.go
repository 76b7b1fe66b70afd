package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStages(t *testing.T) {
	out := `Starting Strata in /tmp/x/up
 … Checking the host
 ✓ Checking the host: containerd, runc, CNI plugins, iptables, images, charts in /work/charts (100ms)
 … Starting containerd
 ✓ Starting containerd: already running (0s)
 ✓ Starting nucleus (5.2s)
 ✓ Installing layer dns: dns 0.1.0, revision 2, unchanged (1m2.5s)
 ✗ Starting proxy (400ms)

Strata is up: nucleus https://10.0.0.5:6443 (see ✓ above) (1s)
`
	want := []upStage{
		{name: "Checking the host", detail: "containerd, runc, CNI plugins, iptables, images, charts in /work/charts", took: 100 * time.Millisecond},
		{name: "Starting containerd", detail: "already running"},
		{name: "Starting nucleus", took: 5200 * time.Millisecond},
		{name: "Installing layer dns", detail: "dns 0.1.0, revision 2, unchanged", took: time.Minute + 2500*time.Millisecond},
	}
	if diff := cmp.Diff(want, parseStages(out), cmp.AllowUnexported(upStage{})); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
}

func TestStatPPID(t *testing.T) {
	tests := []struct {
		stat    string
		want    int
		wantErr bool
	}{
		{"1234 (containerd) S 1200 1234 1234 0 -1", 1200, false},
		{"77 (a (weird) name) R 76 77 77 0", 76, false},
		{"77 no parenthesis", 0, true},
		{"77 (x)", 0, true},
	}
	for _, tc := range tests {
		got, err := statPPID(tc.stat)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("statPPID(%q) = %d, %v; want %d, error %v", tc.stat, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPodProcessKind(t *testing.T) {
	tests := []struct {
		cmdline []string
		want    string
	}{
		{[]string{"/pause"}, "pause (one per pod)"},
		{[]string{"strata", "manager", "--layers", "apps"}, "apps manager (`strata manager`, in its pod)"},
		{[]string{"/coredns", "-conf", "/etc/coredns/Corefile"}, "CoreDNS (charts/dns)"},
		{[]string{"/bin/sh", "-c", "sleep 1"}, "sh (in a pod)"},
	}
	for _, tc := range tests {
		if got := podProcessKind(process{cmdline: tc.cmdline}); got != tc.want {
			t.Errorf("podProcessKind(%q) = %q, want %q", tc.cmdline, got, tc.want)
		}
	}
}
