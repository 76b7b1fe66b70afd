package proxy

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	netutils "k8s.io/utils/net"
)

// DefaultStickyMaxAgeSeconds is the ClientIP session affinity timeout the API
// server defaults to (3 hours).
const DefaultStickyMaxAgeSeconds = 10800

// ServicePortName names one port of a Service. Port is the port's name (""
// for the only, unnamed port).
type ServicePortName struct {
	types.NamespacedName
	Port     string
	Protocol corev1.Protocol
}

// String is "namespace/name:port", or "namespace/name" for an unnamed port,
// as upstream: it goes into comments and chain name hashes.
func (n ServicePortName) String() string {
	if n.Port == "" {
		return n.NamespacedName.String()
	}
	return n.NamespacedName.String() + ":" + n.Port
}

// ServicePort is what the proxy needs to know of one port of a Service, for
// one IP family. It is immutable once built.
type ServicePort struct {
	ClusterIP                net.IP
	Port                     int
	Protocol                 corev1.Protocol
	NodePort                 int
	ExternalIPs              []net.IP
	LoadBalancerVIPs         []net.IP
	LoadBalancerSourceRanges []*net.IPNet
	HealthCheckNodePort      int
	SessionAffinity          corev1.ServiceAffinity
	// StickyMaxAgeSeconds is the ClientIP affinity timeout; 0 without
	// affinity.
	StickyMaxAgeSeconds int
	// ExternalPolicyLocal: externalTrafficPolicy Local on an externally
	// accessible Service.
	ExternalPolicyLocal bool
	// InternalPolicyLocal: internalTrafficPolicy Local.
	InternalPolicyLocal bool
}

// String is "clusterIP:port/protocol", for logs.
func (p *ServicePort) String() string {
	return fmt.Sprintf("%s/%s", net.JoinHostPort(p.ClusterIP.String(), fmt.Sprint(p.Port)), p.Protocol)
}

// ExternallyAccessible reports whether the port takes traffic other than to
// its cluster IP: a node port, load balancer IPs or external IPs.
func (p *ServicePort) ExternallyAccessible() bool {
	return p.NodePort != 0 || len(p.LoadBalancerVIPs) != 0 || len(p.ExternalIPs) != 0
}

// UsesClusterEndpoints reports whether any traffic of the port goes to
// endpoints on any node: internal traffic with policy Cluster, and external
// traffic always (with policy Local, traffic from this node's pods and the
// node itself is short-circuited to all endpoints).
func (p *ServicePort) UsesClusterEndpoints() bool {
	return !p.InternalPolicyLocal || p.ExternallyAccessible()
}

// UsesLocalEndpoints reports whether any traffic of the port goes only to
// endpoints on this node.
func (p *ServicePort) UsesLocalEndpoints() bool {
	return p.InternalPolicyLocal || (p.ExternalPolicyLocal && p.ExternallyAccessible())
}

// ShouldSkipService reports whether the proxy ignores svc: ExternalName
// Services and Services without a cluster IP (headless).
func ShouldSkipService(svc *corev1.Service) bool {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return true
	}
	return svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone
}

// ClusterIPOfFamily returns svc's cluster IP of family, "" if it has none.
func ClusterIPOfFamily(family corev1.IPFamily, svc *corev1.Service) string {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, ip := range ips {
		if IPFamilyOf(ip) == family {
			return ip
		}
	}
	return ""
}

// IPFamilyOf returns the family of an IP or CIDR, "" if s is neither.
func IPFamilyOf(s string) corev1.IPFamily {
	if strings.Contains(s, "/") {
		if _, cidr, err := netutils.ParseCIDRSloppy(s); err == nil {
			s = cidr.IP.String()
		}
	}
	ip := netutils.ParseIPSloppy(s)
	switch {
	case ip == nil:
		return ""
	case ip.To4() != nil:
		return corev1.IPv4Protocol
	default:
		return corev1.IPv6Protocol
	}
}

// externallyAccessible is upstream's apiservice.ExternallyAccessible.
func externallyAccessible(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer ||
		svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

// NewServicePort builds the proxy's view of port of svc for family. svc must
// have a cluster IP of family.
func NewServicePort(svc *corev1.Service, family corev1.IPFamily, port *corev1.ServicePort) *ServicePort {
	p := &ServicePort{
		ClusterIP:           netutils.ParseIPSloppy(ClusterIPOfFamily(family, svc)),
		Port:                int(port.Port),
		Protocol:            port.Protocol,
		NodePort:            int(port.NodePort),
		SessionAffinity:     svc.Spec.SessionAffinity,
		ExternalPolicyLocal: externallyAccessible(svc) && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
		InternalPolicyLocal: svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal,
	}
	if p.Protocol == "" {
		p.Protocol = corev1.ProtocolTCP
	}
	if p.SessionAffinity == corev1.ServiceAffinityClientIP {
		p.StickyMaxAgeSeconds = DefaultStickyMaxAgeSeconds
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			p.StickyMaxAgeSeconds = int(*c.ClientIP.TimeoutSeconds)
		}
	}
	for _, s := range svc.Spec.ExternalIPs {
		if IPFamilyOf(s) == family {
			p.ExternalIPs = append(p.ExternalIPs, netutils.ParseIPSloppy(s))
		}
	}
	for _, s := range svc.Spec.LoadBalancerSourceRanges {
		s = strings.TrimSpace(s)
		if IPFamilyOf(s) != family {
			continue
		}
		if _, cidr, err := netutils.ParseCIDRSloppy(s); err == nil {
			p.LoadBalancerSourceRanges = append(p.LoadBalancerSourceRanges, cidr)
		}
	}
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		// Load balancers in Proxy mode send traffic to the nodes
		// themselves; only VIP mode IPs are captured, as upstream.
		if ing.IP == "" || (ing.IPMode != nil && *ing.IPMode == corev1.LoadBalancerIPModeProxy) {
			continue
		}
		if IPFamilyOf(ing.IP) == family {
			p.LoadBalancerVIPs = append(p.LoadBalancerVIPs, netutils.ParseIPSloppy(ing.IP))
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		p.HealthCheckNodePort = int(svc.Spec.HealthCheckNodePort)
	}
	return p
}
