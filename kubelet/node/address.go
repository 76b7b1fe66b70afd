package node

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Addresses are the Node's status.addresses: its InternalIPs, then its
// Hostname, as upstream's kubelet reports them without a cloud provider.
func Addresses(internalIPs []string, hostname string) []corev1.NodeAddress {
	out := make([]corev1.NodeAddress, 0, len(internalIPs)+1)
	for _, ip := range internalIPs {
		out = append(out, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	return append(out, corev1.NodeAddress{Type: corev1.NodeHostName, Address: hostname})
}

// route is a default route of the host: through which interface, at which
// metric.
type route struct {
	iface  string
	metric int
}

// hostInterface is a network interface and its addresses.
type hostInterface struct {
	name     string
	up       bool
	loopback bool
	addrs    []net.IP
}

// parseDefaultRoutes returns the default routes of /proc/net/route (IPv4:
// destination and mask 00000000) or /proc/net/ipv6_route (destination ::/0),
// lowest metric first.
func parseDefaultRoutes(ipv4Routes, ipv6Routes string) (v4, v6 []route) {
	sc := bufio.NewScanner(strings.NewReader(ipv4Routes))
	for sc.Scan() {
		// Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] == "Iface" {
			continue
		}
		flags, err := strconv.ParseUint(f[3], 16, 32)
		if err != nil || flags&0x1 == 0 { // RTF_UP
			continue
		}
		if f[1] == "00000000" && f[7] == "00000000" {
			metric, _ := strconv.Atoi(f[6])
			v4 = append(v4, route{iface: f[0], metric: metric})
		}
	}
	sc = bufio.NewScanner(strings.NewReader(ipv6Routes))
	for sc.Scan() {
		// dest prefixlen src srcprefixlen nexthop metric refcnt use flags iface
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		if f[0] == strings.Repeat("0", 32) && f[1] == "00" && f[9] != "lo" {
			metric, _ := strconv.ParseInt(f[5], 16, 64)
			v6 = append(v6, route{iface: f[9], metric: int(metric)})
		}
	}
	byMetric := func(rs []route) {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].metric < rs[j].metric })
	}
	byMetric(v4)
	byMetric(v6)
	return v4, v6
}

// validNodeIP says whether ip may be a node's InternalIP: an address of
// one of the host's interfaces, neither loopback, multicast, link-local
// nor unspecified (upstream's validateNodeIP).
func validNodeIP(ip net.IP, ifaces []hostInterface) bool {
	if ip == nil || ip.IsLoopback() || ip.IsMulticast() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
		return false
	}
	for _, i := range ifaces {
		for _, a := range i.addrs {
			if a.Equal(ip) {
				return true
			}
		}
	}
	return false
}

// chooseNodeIP picks the node's InternalIP as upstream's kubelet does
// without --node-ip and without a cloud provider:
//
//  1. the hostname, when it is an IP address;
//  2. the first valid address the node name resolves to, IPv4 first;
//  3. the first global unicast address of the interface of the default
//     route (IPv4, then IPv6), as apimachinery's ChooseHostInterface;
//  4. the first global unicast address of any interface that is up.
//
// Where upstream then gives up (a machine with nothing but loopback), the
// first loopback address is used (127.0.0.1 when there is none), so that a
// single machine without a network still gets a working node whose pods
// are reachable from the machine itself; the second result is false then.
func chooseNodeIP(hostname string, resolved []net.IP, v4, v6 []route, ifaces []hostInterface) (net.IP, bool) {
	if ip := net.ParseIP(hostname); ip != nil {
		return ip, true
	}
	var resolved6 net.IP
	for _, ip := range resolved {
		if !validNodeIP(ip, ifaces) {
			continue
		}
		if ip.To4() != nil {
			return ip, true
		}
		if resolved6 == nil {
			resolved6 = ip
		}
	}
	if resolved6 != nil {
		return resolved6, true
	}
	byName := map[string]hostInterface{}
	for _, i := range ifaces {
		byName[i.name] = i
	}
	pick := func(i hostInterface, want4 bool) net.IP {
		if !i.up {
			return nil
		}
		for _, a := range i.addrs {
			if a.IsGlobalUnicast() && (a.To4() != nil) == want4 {
				return a
			}
		}
		return nil
	}
	for _, r := range v4 {
		if ip := pick(byName[r.iface], true); ip != nil {
			return ip, true
		}
	}
	for _, r := range v6 {
		if ip := pick(byName[r.iface], false); ip != nil {
			return ip, true
		}
	}
	for _, want4 := range []bool{true, false} {
		for _, i := range ifaces {
			if i.loopback {
				continue
			}
			if ip := pick(i, want4); ip != nil {
				return ip, true
			}
		}
	}
	for _, i := range ifaces {
		if i.loopback {
			for _, a := range i.addrs {
				if a.To4() != nil {
					return a, false
				}
			}
		}
	}
	return net.IPv4(127, 0, 0, 1), false
}

// parseNodeIPs checks the configured InternalIPs: at most one per family.
func parseNodeIPs(ips []string) ([]string, error) {
	var out []string
	var has4, has6 bool
	for _, s := range ips {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			return nil, fmt.Errorf("invalid node IP %q", s)
		}
		if ip.IsUnspecified() {
			return nil, fmt.Errorf("node IP %q is unspecified", s)
		}
		is4 := ip.To4() != nil
		if (is4 && has4) || (!is4 && has6) {
			return nil, fmt.Errorf("at most one node IP per family, got %v", ips)
		}
		has4, has6 = has4 || is4, has6 || !is4
		out = append(out, ip.String())
	}
	return out, nil
}

// hostNetwork reads the host's interfaces, routes and the addresses a name
// resolves to.
type hostNetwork struct {
	procRoot string
}

func (h hostNetwork) interfaces() []hostInterface {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []hostInterface
	for _, i := range ifaces {
		hi := hostInterface{name: i.Name, up: i.Flags&net.FlagUp != 0, loopback: i.Flags&net.FlagLoopback != 0}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				hi.addrs = append(hi.addrs, n.IP)
			}
		}
		out = append(out, hi)
	}
	return out
}

func (h hostNetwork) routes() (v4, v6 []route) {
	root := h.procRoot
	if root == "" {
		root = "/proc"
	}
	r4, _ := os.ReadFile(root + "/net/route")
	r6, _ := os.ReadFile(root + "/net/ipv6_route")
	return parseDefaultRoutes(string(r4), string(r6))
}

func (h hostNetwork) resolve(ctx context.Context, name string) []net.IP {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, _ := net.DefaultResolver.LookupIP(ctx, "ip", name)
	return ips
}

// DetectNodeIPs finds the node's InternalIP as upstream's kubelet does:
// the hostname if it is an IP, what the node name resolves to, the default
// route's interface. It reports false when it fell back to 127.0.0.1 (a
// machine with only loopback).
func DetectNodeIPs(ctx context.Context, nodeName, hostname string) ([]string, bool) {
	host := hostNetwork{}
	v4, v6 := host.routes()
	ip, ok := chooseNodeIP(hostname, host.resolve(ctx, nodeName), v4, v6, host.interfaces())
	return []string{ip.String()}, ok
}
