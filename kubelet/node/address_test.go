package node

import (
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

const procNetRoute = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
eth1	00000000	0101A8C0	0003	0	0	200	00000000	0	0	0
eth0	00000000	0100000A	0003	0	0	100	00000000	0	0	0
wg0	00000000	00000000	0000	0	0	0	00000000	0	0	0
eth0	0000000A	00000000	0001	0	0	100	00FFFFFF	0	0	0
`

const procNetIPv6Route = `00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
`

func TestParseDefaultRoutes(t *testing.T) {
	v4, v6 := parseDefaultRoutes(procNetRoute, procNetIPv6Route)
	if diff := cmp.Diff([]route{{iface: "eth0", metric: 100}, {iface: "eth1", metric: 200}}, v4, cmp.AllowUnexported(route{})); diff != "" {
		t.Errorf("IPv4 default routes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]route{{iface: "eth0", metric: 0x400}}, v6, cmp.AllowUnexported(route{})); diff != "" {
		t.Errorf("IPv6 default routes (-want +got):\n%s", diff)
	}
	if v4, v6 := parseDefaultRoutes("", ""); len(v4)+len(v6) != 0 {
		t.Errorf("routes from nothing: %v %v", v4, v6)
	}
}

func ips(ss ...string) []net.IP {
	var out []net.IP
	for _, s := range ss {
		out = append(out, net.ParseIP(s))
	}
	return out
}

func TestChooseNodeIP(t *testing.T) {
	lo := hostInterface{name: "lo", up: true, loopback: true, addrs: ips("127.0.0.1", "::1")}
	eth0 := hostInterface{name: "eth0", up: true, addrs: ips("fe80::1", "10.0.0.5", "fd00::5")}
	eth1 := hostInterface{name: "eth1", up: true, addrs: ips("192.168.1.7")}
	down := hostInterface{name: "eth2", up: false, addrs: ips("172.16.0.9")}
	v6only := hostInterface{name: "eth0", up: true, addrs: ips("fe80::1", "fd00::5")}
	for _, tc := range []struct {
		name     string
		hostname string
		resolved []net.IP
		v4, v6   []route
		ifaces   []hostInterface
		want     string
		wantOK   bool
	}{
		{name: "hostname is an IP", hostname: "192.0.2.1", ifaces: []hostInterface{lo, eth0}, want: "192.0.2.1", wantOK: true},
		{name: "resolved, IPv4 first", hostname: "n1", resolved: ips("fd00::5", "192.168.1.7"), v4: []route{{iface: "eth0"}},
			ifaces: []hostInterface{lo, eth0, eth1}, want: "192.168.1.7", wantOK: true},
		{name: "resolved IPv6 only", hostname: "n1", resolved: ips("fd00::5"), ifaces: []hostInterface{lo, eth0}, want: "fd00::5", wantOK: true},
		{name: "resolved loopback is skipped for the default route", hostname: "n1", resolved: ips("127.0.1.1"), v4: []route{{iface: "eth1"}},
			ifaces: []hostInterface{lo, eth0, eth1}, want: "192.168.1.7", wantOK: true},
		{name: "resolved address of another machine is skipped", hostname: "n1", resolved: ips("203.0.113.9"), v4: []route{{iface: "eth0"}},
			ifaces: []hostInterface{lo, eth0}, want: "10.0.0.5", wantOK: true},
		{name: "default route interface, lowest metric first", hostname: "n1", v4: []route{{iface: "eth1"}, {iface: "eth0"}},
			ifaces: []hostInterface{lo, eth0, eth1}, want: "192.168.1.7", wantOK: true},
		{name: "default route interface down", hostname: "n1", v4: []route{{iface: "eth2"}, {iface: "eth0"}},
			ifaces: []hostInterface{lo, down, eth0}, want: "10.0.0.5", wantOK: true},
		{name: "IPv6 default route", hostname: "n1", v6: []route{{iface: "eth0"}}, ifaces: []hostInterface{lo, v6only}, want: "fd00::5", wantOK: true},
		{name: "no default route: first interface up", hostname: "n1", ifaces: []hostInterface{lo, down, eth1, eth0}, want: "192.168.1.7", wantOK: true},
		{name: "no default route, IPv6 only", hostname: "n1", ifaces: []hostInterface{lo, v6only}, want: "fd00::5", wantOK: true},
		{name: "loopback only", hostname: "n1", ifaces: []hostInterface{lo, down}, want: "127.0.0.1", wantOK: false},
		{name: "nothing at all", hostname: "n1", want: "127.0.0.1", wantOK: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := chooseNodeIP(tc.hostname, tc.resolved, tc.v4, tc.v6, tc.ifaces)
			if got.String() != tc.want || ok != tc.wantOK {
				t.Errorf("chooseNodeIP = %s, %v; want %s, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseNodeIPs(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{in: nil},
		{in: []string{"10.0.0.5"}, want: []string{"10.0.0.5"}},
		{in: []string{"10.0.0.5", "fd00::0005"}, want: []string{"10.0.0.5", "fd00::5"}},
		{in: []string{"10.0.0.5", "10.0.0.6"}, wantErr: true},
		{in: []string{"0.0.0.0"}, wantErr: true},
		{in: []string{"node1"}, wantErr: true},
	} {
		got, err := parseNodeIPs(tc.in)
		if (err != nil) != tc.wantErr || !cmp.Equal(got, tc.want) {
			t.Errorf("parseNodeIPs(%v) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestAddresses(t *testing.T) {
	want := []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: "10.0.0.5"},
		{Type: corev1.NodeInternalIP, Address: "fd00::5"},
		{Type: corev1.NodeHostName, Address: "n1"},
	}
	if diff := cmp.Diff(want, Addresses([]string{"10.0.0.5", "fd00::5"}, "n1")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
