package iptables

import (
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestNodePortAddresses(t *testing.T) {
	addrs := []net.Addr{
		&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
		&net.IPNet{IP: net.ParseIP("192.168.0.2"), Mask: net.CIDRMask(24, 32)},
		&net.IPNet{IP: net.ParseIP("10.0.0.1"), Mask: net.CIDRMask(24, 32)},
		&net.IPNet{IP: net.ParseIP("fd00::2"), Mask: net.CIDRMask(64, 128)},
	}
	nodeIPs := []net.IP{net.ParseIP("192.168.0.2"), net.ParseIP("fd00::2")}
	for _, tc := range []struct {
		name     string
		family   corev1.IPFamily
		cidrs    []string
		matchAll bool
		loopback bool
		ips      []string
	}{
		{"default", corev1.IPv4Protocol, nil, true, true, []string{"127.0.0.1", "192.168.0.2", "10.0.0.1"}},
		{"default v6", corev1.IPv6Protocol, nil, true, false, []string{"fd00::2"}},
		{"cidrs", corev1.IPv4Protocol, []string{"192.168.0.0/16", "fd00::/64"}, false, false, []string{"192.168.0.2"}},
		{"only other family: all", corev1.IPv4Protocol, []string{"fd00::/64"}, true, true, []string{"127.0.0.1", "192.168.0.2", "10.0.0.1"}},
		{"primary", corev1.IPv4Protocol, []string{"primary"}, false, false, []string{"192.168.0.2"}},
		{"primary v6", corev1.IPv6Protocol, []string{"primary"}, false, false, []string{"fd00::2"}},
		{"loopback", corev1.IPv4Protocol, []string{"127.0.0.0/8", "10.0.0.0/8"}, false, true, []string{"127.0.0.1", "10.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewNodePortAddresses(tc.family, tc.cidrs, nodeIPs)
			if err != nil {
				t.Fatal(err)
			}
			if a.MatchAll() != tc.matchAll || a.ContainsIPv4Loopback() != tc.loopback {
				t.Errorf("matchAll %v loopback %v, want %v %v", a.MatchAll(), a.ContainsIPv4Loopback(), tc.matchAll, tc.loopback)
			}
			var ips []string
			for _, ip := range a.NodeIPs(addrs) {
				ips = append(ips, ip.String())
			}
			if diff := cmp.Diff(tc.ips, ips); diff != "" {
				t.Errorf("Node IPs (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewNodePortAddresses(corev1.IPv4Protocol, []string{"nope"}, nil); err == nil {
		t.Error("Invalid CIDR accepted")
	}
}

func TestLocalTrafficDetector(t *testing.T) {
	d, err := NewLocalTrafficDetector(corev1.IPv6Protocol, []string{"10.244.0.0/16", "fd00:10:244::/56"})
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsImplemented() || d.IfNotLocal()[2] != "fd00:10:244::/56" {
		t.Errorf("Got %+v", d)
	}
	d, _ = NewLocalTrafficDetector(corev1.IPv6Protocol, []string{"10.244.0.0/16"})
	if d.IsImplemented() {
		t.Error("Detector without a CIDR of the family")
	}
	if _, err := NewLocalTrafficDetector(corev1.IPv4Protocol, []string{"10.244.0.0"}); err == nil {
		t.Error("Invalid CIDR accepted")
	}
}
