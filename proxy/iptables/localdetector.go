package iptables

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/proxy"
)

// LocalTrafficDetector tells traffic from this cluster's pods from the rest,
// by source CIDR (upstream's detect-local-mode ClusterCIDR). The zero value
// detects nothing: off-cluster traffic to cluster IPs is then not
// masqueraded, as upstream without a cluster CIDR.
type LocalTrafficDetector struct {
	cidr string
}

// NewLocalTrafficDetector returns the detector of the pod CIDR of family
// among cidrs ("" or no CIDR of family: the no-op detector).
func NewLocalTrafficDetector(family corev1.IPFamily, cidrs []string) (LocalTrafficDetector, error) {
	for _, c := range cidrs {
		if c == "" {
			continue
		}
		_, n, err := netutils.ParseCIDRSloppy(c)
		if err != nil {
			return LocalTrafficDetector{}, fmt.Errorf("invalid cluster CIDR %q: %w", c, err)
		}
		if proxy.IPFamilyOf(c) == family {
			return LocalTrafficDetector{cidr: n.String()}, nil
		}
	}
	return LocalTrafficDetector{}, nil
}

// IsImplemented reports whether the detector detects anything.
func (d LocalTrafficDetector) IsImplemented() bool { return d.cidr != "" }

// IfLocal matches traffic from pods.
func (d LocalTrafficDetector) IfLocal() []string { return []string{"-s", d.cidr} }

// IfNotLocal matches traffic not from pods.
func (d LocalTrafficDetector) IfNotLocal() []string { return []string{"!", "-s", d.cidr} }
