package service

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// isHeadless reports whether the Service asks for no cluster IP.
func isHeadless(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == corev1.ClusterIPNone ||
		(len(svc.Spec.ClusterIPs) > 0 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone)
}

// needsClusterIP reports whether the type has cluster IPs (or "None").
func needsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName
}

// hasAllocatedIP reports whether the Service holds a cluster IP from the
// range.
func hasAllocatedIP(svc *corev1.Service) bool {
	return needsClusterIP(svc) && !isHeadless(svc) && svc.Spec.ClusterIP != ""
}

// needsNodePort reports whether the type exposes ports on the nodes.
func needsNodePort(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// shouldAllocateNodePorts reports whether ports without a nodePort get one:
// a LoadBalancer may opt out.
func shouldAllocateNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// needsExternalTrafficPolicy reports whether the type takes an
// externalTrafficPolicy.
func needsExternalTrafficPolicy(svc *corev1.Service) bool {
	return needsNodePort(svc)
}

// needsHealthCheck reports whether the Service gets a health check node
// port.
func needsHealthCheck(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer &&
		svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// nodePorts returns the node ports the Service holds, including its health
// check node port.
func nodePorts(svc *corev1.Service) sets.Set[int32] {
	out := sets.New[int32]()
	if svc == nil {
		return out
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			out.Insert(p.NodePort)
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		out.Insert(svc.Spec.HealthCheckNodePort)
	}
	return out
}

// familyOf returns the IP family of ip.
func familyOf(ip net.IP) corev1.IPFamily {
	if ip.To4() != nil {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// otherFamily returns the family that is not fam.
func otherFamily(fam corev1.IPFamily) corev1.IPFamily {
	if fam == corev1.IPv4Protocol {
		return corev1.IPv6Protocol
	}
	return corev1.IPv4Protocol
}
