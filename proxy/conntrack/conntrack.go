// Package conntrack removes stale connection-tracking entries of UDP
// Services, as kube-proxy does: UDP has no connection to close, so a client
// that keeps sending to a Service IP keeps hitting the flow the kernel
// remembers, even when the endpoint behind it is gone or when the Service
// had no endpoints (and its packets were rejected) at the time.
//
// The kernel is reached only through Interface; Exec runs the conntrack
// command (Debian package conntrack) and, when it is not installed, logs a
// warning once and does nothing.
package conntrack

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/proxy"
)

// Interface deletes conntrack entries.
type Interface interface {
	// ClearEntriesForIP deletes the flows whose original destination is
	// ip.
	ClearEntriesForIP(ip string, protocol corev1.Protocol) error
	// ClearEntriesForPort deletes the flows whose original destination
	// port is port, of the family of isIPv6.
	ClearEntriesForPort(port int, isIPv6 bool, protocol corev1.Protocol) error
	// ClearEntriesForNAT deletes the flows to origin that were DNATed to
	// dest.
	ClearEntriesForNAT(origin, dest string, protocol corev1.Protocol) error
	// ClearEntriesForPortNAT deletes the flows to port that were DNATed
	// to dest.
	ClearEntriesForPortNAT(dest string, port int, protocol corev1.Protocol) error
}

// Exec is the Interface of the conntrack command.
type Exec struct {
	logger logr.Logger
	path   string
	// run runs conntrack with args; tests replace it.
	run func(path string, args ...string) ([]byte, error)

	warnOnce sync.Once
}

// NewExec returns the conntrack command's Interface. A missing command is
// not an error: it is reported once, when first needed.
func NewExec(logger logr.Logger) *Exec {
	path, _ := exec.LookPath("conntrack")
	return &Exec{logger: logger, path: path, run: func(path string, args ...string) ([]byte, error) {
		return exec.Command(path, args...).CombinedOutput()
	}}
}

func protoArg(p corev1.Protocol) string { return strings.ToLower(string(p)) }

func familyArgs(ip string) []string {
	if netutils.IsIPv6String(ip) {
		return []string{"-f", "ipv6"}
	}
	return nil
}

// ClearEntriesForIP implements Interface.
func (e *Exec) ClearEntriesForIP(ip string, protocol corev1.Protocol) error {
	return e.exec(append([]string{"-D", "--orig-dst", ip, "-p", protoArg(protocol)}, familyArgs(ip)...)...)
}

// ClearEntriesForPort implements Interface.
func (e *Exec) ClearEntriesForPort(port int, isIPv6 bool, protocol corev1.Protocol) error {
	if port <= 0 {
		return fmt.Errorf("wrong port number %d", port)
	}
	args := []string{"-D", "-p", protoArg(protocol), "--dport", strconv.Itoa(port)}
	if isIPv6 {
		args = append(args, "-f", "ipv6")
	}
	return e.exec(args...)
}

// ClearEntriesForNAT implements Interface.
func (e *Exec) ClearEntriesForNAT(origin, dest string, protocol corev1.Protocol) error {
	return e.exec(append([]string{"-D", "--orig-dst", origin, "--dst-nat", dest, "-p", protoArg(protocol)}, familyArgs(origin)...)...)
}

// ClearEntriesForPortNAT implements Interface.
func (e *Exec) ClearEntriesForPortNAT(dest string, port int, protocol corev1.Protocol) error {
	if port <= 0 {
		return fmt.Errorf("wrong port number %d", port)
	}
	return e.exec(append([]string{"-D", "-p", protoArg(protocol), "--dport", strconv.Itoa(port), "--dst-nat", dest}, familyArgs(dest)...)...)
}

// exec runs conntrack; "no entry matched" is success.
func (e *Exec) exec(args ...string) error {
	if e.path == "" {
		e.warnOnce.Do(func() {
			e.logger.Info("The conntrack command is not installed; stale UDP flows of Services will not be cleared", "package", "conntrack")
		})
		return nil
	}
	out, err := e.run(e.path, args...)
	if err != nil {
		// conntrack exits 1 when it deleted nothing.
		if bytes.Contains(out, []byte("0 flow entries have been deleted")) {
			return nil
		}
		return fmt.Errorf("conntrack %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	e.logger.V(4).Info("Cleared conntrack entries", "args", args, "output", string(bytes.TrimSpace(out)))
	return nil
}

// CleanStaleEntries clears the UDP flows a sync made stale: flows to UDP
// Service IPs and node ports that had no endpoints before (they may have been
// black-holed), and flows DNATed to UDP endpoints that went away.
func CleanStaleEntries(logger logr.Logger, ct Interface, family corev1.IPFamily, services proxy.ServicePortMap, svcResult proxy.UpdateServiceMapResult, epResult proxy.UpdateEndpointsMapResult) {
	ips := sets.New[string]()
	if svcResult.DeletedUDPClusterIPs != nil {
		ips = svcResult.DeletedUDPClusterIPs.Clone()
	}
	nodePorts := sets.New[int]()
	for _, name := range epResult.NewlyActiveUDPServices {
		svc, ok := services[name]
		if !ok {
			continue
		}
		ips.Insert(svc.ClusterIP.String())
		for _, ip := range svc.ExternalIPs {
			ips.Insert(ip.String())
		}
		for _, ip := range svc.LoadBalancerVIPs {
			ips.Insert(ip.String())
		}
		if svc.NodePort != 0 {
			nodePorts.Insert(svc.NodePort)
		}
	}
	for _, ip := range sets.List(ips) {
		if err := ct.ClearEntriesForIP(ip, corev1.ProtocolUDP); err != nil {
			logger.Error(err, "Failed to delete stale service connections", "ip", ip)
		}
	}
	for _, port := range sets.List(nodePorts) {
		if err := ct.ClearEntriesForPort(port, family == corev1.IPv6Protocol, corev1.ProtocolUDP); err != nil {
			logger.Error(err, "Failed to delete stale service connections", "nodePort", port)
		}
	}
	for _, ep := range epResult.DeletedUDPEndpoints {
		svc, ok := services[ep.ServicePortName]
		if !ok {
			continue
		}
		ip, _, err := net.SplitHostPort(ep.Endpoint)
		if err != nil {
			continue
		}
		if svc.NodePort != 0 {
			if err := ct.ClearEntriesForPortNAT(ip, svc.NodePort, corev1.ProtocolUDP); err != nil {
				logger.Error(err, "Failed to delete stale endpoint connections", "endpoint", ep.Endpoint, "nodePort", svc.NodePort)
			}
		}
		origins := []string{svc.ClusterIP.String()}
		for _, x := range svc.ExternalIPs {
			origins = append(origins, x.String())
		}
		for _, x := range svc.LoadBalancerVIPs {
			origins = append(origins, x.String())
		}
		for _, origin := range origins {
			if err := ct.ClearEntriesForNAT(origin, ip, corev1.ProtocolUDP); err != nil {
				logger.Error(err, "Failed to delete stale endpoint connections", "endpoint", ep.Endpoint, "servicePortName", ep.ServicePortName.String())
			}
		}
	}
}
