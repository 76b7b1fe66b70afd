package iptables

import (
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/proxy"
)

// NodePortAddresses are the addresses node ports are open on, as upstream's
// --nodeport-addresses: CIDRs of local addresses, or all local addresses.
type NodePortAddresses struct {
	cidrs                []*net.IPNet
	matchAll             bool
	containsIPv4Loopback bool
}

// NewNodePortAddresses keeps the CIDRs of family among cidrs; "primary"
// stands for the node's primary IPs (nodeIPs). No CIDR of family: all local
// addresses.
func NewNodePortAddresses(family corev1.IPFamily, cidrs []string, nodeIPs []net.IP) (*NodePortAddresses, error) {
	var strs []string
	for _, c := range cidrs {
		if c == "primary" {
			for _, ip := range nodeIPs {
				if proxy.IPFamilyOf(ip.String()) == family {
					bits := 32
					if family == corev1.IPv6Protocol {
						bits = 128
					}
					strs = append(strs, fmt.Sprintf("%s/%d", ip, bits))
				}
			}
			continue
		}
		if _, _, err := netutils.ParseCIDRSloppy(c); err != nil {
			return nil, fmt.Errorf("invalid node port address CIDR %q: %w", c, err)
		}
		if proxy.IPFamilyOf(c) == family {
			strs = append(strs, c)
		}
	}
	a := &NodePortAddresses{}
	if len(strs) == 0 {
		strs = []string{"0.0.0.0/0"}
		if family == corev1.IPv6Protocol {
			strs = []string{"::/0"}
		}
	}
	for _, s := range strs {
		_, n, _ := netutils.ParseCIDRSloppy(s)
		if n.IP.To4() != nil && n.Contains(net.IPv4(127, 0, 0, 1)) {
			a.containsIPv4Loopback = true
		}
		if ones, _ := n.Mask.Size(); ones == 0 {
			a.cidrs = []*net.IPNet{n}
			a.matchAll = true
			break
		}
		a.cidrs = append(a.cidrs, n)
	}
	return a, nil
}

// MatchAll reports whether node ports are open on every local address.
func (a *NodePortAddresses) MatchAll() bool { return a.matchAll }

// ContainsIPv4Loopback reports whether 127.0.0.1 is among the addresses.
func (a *NodePortAddresses) ContainsIPv4Loopback() bool { return a.containsIPv4Loopback }

// String lists the CIDRs.
func (a *NodePortAddresses) String() string { return fmt.Sprint(a.cidrs) }

// NodeIPs returns the local addresses (from addrs, the node's interface
// addresses) within the CIDRs.
func (a *NodePortAddresses) NodeIPs(addrs []net.Addr) []net.IP {
	var ips []net.IP
	seen := map[string]bool{}
	for _, addr := range addrs {
		var ip net.IP
		switch v := addr.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		default:
			continue
		}
		for _, c := range a.cidrs {
			if c.Contains(ip) && !seen[ip.String()] {
				seen[ip.String()] = true
				ips = append(ips, ip)
			}
		}
	}
	return ips
}
