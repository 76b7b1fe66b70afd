package allocator

import (
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	netutils "k8s.io/utils/net"
)

func mustCIDR(t *testing.T, s string) net.IPNet {
	t.Helper()
	_, n, err := netutils.ParseCIDRSloppy(s)
	if err != nil {
		t.Fatal(err)
	}
	return *n
}

func TestIPRange(t *testing.T) {
	tests := []struct {
		cidr       string
		size       uint64
		static     uint64
		first      string
		last       string
		outOfRange []string
	}{
		{cidr: "10.96.0.0/12", size: 1<<20 - 2, static: 256, first: "10.96.0.1", last: "10.111.255.254",
			outOfRange: []string{"10.96.0.0", "10.111.255.255", "10.112.0.1", "192.168.0.1"}},
		{cidr: "192.168.1.0/29", size: 6, static: 0, first: "192.168.1.1", last: "192.168.1.6",
			outOfRange: []string{"192.168.1.0", "192.168.1.7", "192.168.1.8"}},
		{cidr: "192.168.1.0/24", size: 254, static: 16, first: "192.168.1.1", last: "192.168.1.254"},
		{cidr: "fd00::/120", size: 255, static: 16, first: "fd00::1", last: "fd00::ff",
			outOfRange: []string{"fd00::", "fd00::100"}},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			r, err := NewIPRange(mustCIDR(t, tt.cidr))
			if err != nil {
				t.Fatal(err)
			}
			got := []interface{}{r.Size(), r.Static(), r.At(0).String(), r.At(r.Size() - 1).String()}
			want := []interface{}{tt.size, tt.static, tt.first, tt.last}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("size, static, first, last (-want +got):\n%s", diff)
			}
			for _, off := range []uint64{0, r.Size() / 2, r.Size() - 1} {
				if back, err := r.Offset(r.At(off)); err != nil || back != off {
					t.Errorf("Offset(At(%d)) = %d, %v", off, back, err)
				}
			}
			for _, s := range tt.outOfRange {
				var notInRange *NotInRangeError
				if _, err := r.Offset(netutils.ParseIPSloppy(s)); !errors.As(err, &notInRange) {
					t.Errorf("Offset(%s) error = %v, want NotInRangeError", s, err)
				}
			}
		})
	}
}

func TestIPRangeNotInRangeMessage(t *testing.T) {
	r, err := NewIPRange(mustCIDR(t, "10.96.0.0/12"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Offset(netutils.ParseIPSloppy("10.200.0.1"))
	want := "the provided IP (10.200.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestNewIPRangeTooSmall(t *testing.T) {
	if _, err := NewIPRange(mustCIDR(t, "10.0.0.0/31")); err == nil {
		t.Error("NewIPRange(/31) succeeded, want an error")
	}
}

func TestPortRange(t *testing.T) {
	tests := []struct {
		ports      string
		size       uint64
		static     uint64
		inRange    []int
		outOfRange []int
	}{
		{ports: "30000-32767", size: 2768, static: 86, inRange: []int{30000, 32767}, outOfRange: []int{29999, 32768, 80}},
		{ports: "30000-30009", size: 10, static: 0, inRange: []int{30000, 30009}, outOfRange: []int{30010}},
		{ports: "1-10000", size: 10000, static: 128, inRange: []int{1, 10000}, outOfRange: []int{0, 10001}},
	}
	for _, tt := range tests {
		t.Run(tt.ports, func(t *testing.T) {
			pr, err := utilnet.ParsePortRange(tt.ports)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewPortRange(*pr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]uint64{tt.size, tt.static}, []uint64{r.Size(), r.Static()}); diff != "" {
				t.Errorf("size, static (-want +got):\n%s", diff)
			}
			for _, p := range tt.inRange {
				if off, err := r.Offset(p); err != nil || r.At(off) != p {
					t.Errorf("Offset(%d) = %d, %v", p, off, err)
				}
			}
			for _, p := range tt.outOfRange {
				want := "provided port is not in the valid range. The range of valid ports is " + tt.ports
				if _, err := r.Offset(p); err == nil || err.Error() != want {
					t.Errorf("Offset(%d) error = %v, want %q", p, err, want)
				}
			}
		})
	}
}
