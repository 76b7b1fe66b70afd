package service

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// maxClientIPAffinitySeconds is upstream's limit of the ClientIP session
// affinity timeout (one day).
const maxClientIPAffinitySeconds = 86400

var (
	specPath = field.NewPath("spec")

	supportedTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}
	supportedAffinities  = []corev1.ServiceAffinity{corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone}
	supportedProtocols   = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	supportedFamilies    = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	supportedPolicies    = []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack}
	supportedExternalTPs = []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}
	supportedInternalTPs = []corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal}
)

// validateService checks a Service's spec. An empty clusterIP is valid: it
// is allocated later.
func validateService(_ context.Context, svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := &svc.Spec
	switch {
	case spec.Type == "":
		errs = append(errs, field.Required(specPath.Child("type"), ""))
	case !sets.New(supportedTypes...).Has(spec.Type):
		errs = append(errs, field.NotSupported(specPath.Child("type"), spec.Type, supportedTypes))
	}
	errs = append(errs, validateClusterIPs(svc)...)
	errs = append(errs, validatePorts(svc)...)
	errs = append(errs, validateExternalName(svc)...)
	errs = append(errs, metav1validation.ValidateLabels(spec.Selector, specPath.Child("selector"))...)
	errs = append(errs, validateSessionAffinity(spec)...)
	errs = append(errs, validateTrafficPolicies(svc)...)
	for i, ip := range spec.ExternalIPs {
		errs = append(errs, validation.IsValidIP(specPath.Child("externalIPs").Index(i), ip)...)
	}
	for i, cidr := range spec.LoadBalancerSourceRanges {
		errs = append(errs, validation.IsValidCIDR(specPath.Child("loadBalancerSourceRanges").Index(i), strings.TrimSpace(cidr))...)
	}
	if spec.AllocateLoadBalancerNodePorts != nil && spec.Type != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(specPath.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	return errs
}

// validateClusterIPs checks clusterIP, clusterIPs, ipFamilies and
// ipFamilyPolicy against each other and the type.
func validateClusterIPs(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName {
		if spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(specPath.Child("clusterIP"), "may not be set for ExternalName services"))
		}
		if len(spec.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(specPath.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(spec.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(specPath.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if spec.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(specPath.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		return errs
	}
	if len(spec.ClusterIPs) > 0 && spec.ClusterIP != spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(0), spec.ClusterIPs[0], "must match `clusterIP`"))
	}
	for i, ip := range spec.ClusterIPs {
		path := specPath.Child("clusterIPs").Index(i)
		if ip == corev1.ClusterIPNone {
			if i > 0 {
				errs = append(errs, field.Invalid(path, ip, "may only be set on the first entry"))
			}
			continue
		}
		errs = append(errs, validation.IsValidIP(path, ip)...)
	}
	if spec.ClusterIP == corev1.ClusterIPNone && len(spec.ClusterIPs) > 1 {
		errs = append(errs, field.Invalid(specPath.Child("clusterIPs"), spec.ClusterIPs, "'None' must be the only value"))
	}
	if isHeadless(svc) && (spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer) {
		errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(0), corev1.ClusterIPNone,
			fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
	}
	if len(spec.IPFamilies) > 2 {
		errs = append(errs, field.TooMany(specPath.Child("ipFamilies"), len(spec.IPFamilies), 2))
	}
	seen := sets.New[corev1.IPFamily]()
	for i, fam := range spec.IPFamilies {
		path := specPath.Child("ipFamilies").Index(i)
		switch {
		case !sets.New(supportedFamilies...).Has(fam):
			errs = append(errs, field.NotSupported(path, fam, supportedFamilies))
		case seen.Has(fam):
			errs = append(errs, field.Duplicate(path, fam))
		}
		seen.Insert(fam)
		if i < len(spec.ClusterIPs) && spec.ClusterIPs[i] != corev1.ClusterIPNone {
			if ip := netutils.ParseIPSloppy(spec.ClusterIPs[i]); ip != nil && familyOf(ip) != fam {
				errs = append(errs, field.Invalid(specPath.Child("clusterIPs").Index(i), spec.ClusterIPs[i],
					fmt.Sprintf("expected an IP of family %s", fam)))
			}
		}
	}
	if p := spec.IPFamilyPolicy; p != nil && !sets.New(supportedPolicies...).Has(*p) {
		errs = append(errs, field.NotSupported(specPath.Child("ipFamilyPolicy"), *p, supportedPolicies))
	}
	return errs
}

func validatePorts(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := &svc.Spec
	portsPath := specPath.Child("ports")
	if len(spec.Ports) == 0 && !isHeadless(svc) && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(portsPath, ""))
	}
	names := sets.New[string]()
	type portKey struct {
		Port     int32           `json:"port"`
		Protocol corev1.Protocol `json:"protocol"`
	}
	servicePorts := sets.New[portKey]()
	nodePorts := sets.New[portKey]()
	for i, p := range spec.Ports {
		path := portsPath.Index(i)
		switch {
		case len(spec.Ports) > 1 && p.Name == "":
			errs = append(errs, field.Required(path.Child("name"), ""))
		case p.Name != "":
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(path.Child("name"), p.Name, msg))
			}
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(path.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port, msg))
		}
		errs = append(errs, validateProtocol(p.Protocol, path.Child("protocol"))...)
		errs = append(errs, validateTargetPort(p.TargetPort, path.Child("targetPort"))...)
		if p.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*p.AppProtocol) {
				errs = append(errs, field.Invalid(path.Child("appProtocol"), *p.AppProtocol, msg))
			}
		}
		key := portKey{Port: p.Port, Protocol: p.Protocol}
		if servicePorts.Has(key) {
			errs = append(errs, field.Duplicate(path, key))
		}
		servicePorts.Insert(key)
		if p.NodePort == 0 {
			continue
		}
		if spec.Type == corev1.ServiceTypeClusterIP || spec.Type == corev1.ServiceTypeExternalName {
			errs = append(errs, field.Forbidden(path.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", spec.Type)))
			continue
		}
		for _, msg := range validation.IsValidPortNum(int(p.NodePort)) {
			errs = append(errs, field.Invalid(path.Child("nodePort"), p.NodePort, msg))
		}
		nodeKey := portKey{Port: p.NodePort, Protocol: p.Protocol}
		if nodePorts.Has(nodeKey) {
			errs = append(errs, field.Duplicate(path.Child("nodePort"), p.NodePort))
		}
		nodePorts.Insert(nodeKey)
	}
	if spec.HealthCheckNodePort != 0 {
		if !needsHealthCheck(svc) {
			errs = append(errs, field.Invalid(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort,
				"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		} else {
			for _, msg := range validation.IsValidPortNum(int(spec.HealthCheckNodePort)) {
				errs = append(errs, field.Invalid(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort, msg))
			}
		}
	}
	return errs
}

func validateProtocol(p corev1.Protocol, path *field.Path) field.ErrorList {
	switch {
	case p == "":
		return field.ErrorList{field.Required(path, "")}
	case !sets.New(supportedProtocols...).Has(p):
		return field.ErrorList{field.NotSupported(path, p, supportedProtocols)}
	}
	return nil
}

// validateTargetPort checks a port number or an IANA_SVC_NAME.
func validateTargetPort(port intstr.IntOrString, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch port.Type {
	case intstr.Int:
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			errs = append(errs, field.Invalid(path, port.IntValue(), msg))
		}
	case intstr.String:
		for _, msg := range validation.IsValidPortName(port.StrVal) {
			errs = append(errs, field.Invalid(path, port.StrVal, msg))
		}
	default:
		errs = append(errs, field.Invalid(path, port, "must be an integer or string"))
	}
	return errs
}

func validateExternalName(svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type != corev1.ServiceTypeExternalName {
		return nil
	}
	path := specPath.Child("externalName")
	// A trailing dot marks the name as fully qualified.
	cname := strings.TrimSuffix(svc.Spec.ExternalName, ".")
	if cname == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(cname) {
		errs = append(errs, field.Invalid(path, cname, msg))
	}
	return errs
}

func validateSessionAffinity(spec *corev1.ServiceSpec) field.ErrorList {
	path := specPath.Child("sessionAffinity")
	switch {
	case spec.SessionAffinity == "":
		return field.ErrorList{field.Required(path, "")}
	case !sets.New(supportedAffinities...).Has(spec.SessionAffinity):
		return field.ErrorList{field.NotSupported(path, spec.SessionAffinity, supportedAffinities)}
	}
	configPath := specPath.Child("sessionAffinityConfig")
	if spec.SessionAffinity == corev1.ServiceAffinityNone {
		if spec.SessionAffinityConfig != nil {
			return field.ErrorList{field.Invalid(configPath, spec.SessionAffinityConfig,
				fmt.Sprintf("must not be set when session affinity is %s", corev1.ServiceAffinityNone))}
		}
		return nil
	}
	cfg := spec.SessionAffinityConfig
	switch {
	case cfg == nil:
		return field.ErrorList{field.Required(configPath, fmt.Sprintf("when session affinity type is %s", corev1.ServiceAffinityClientIP))}
	case cfg.ClientIP == nil:
		return field.ErrorList{field.Required(configPath.Child("clientIP"), fmt.Sprintf("when session affinity type is %s", corev1.ServiceAffinityClientIP))}
	case cfg.ClientIP.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(configPath.Child("clientIP", "timeoutSeconds"), fmt.Sprintf("when session affinity type is %s", corev1.ServiceAffinityClientIP))}
	case *cfg.ClientIP.TimeoutSeconds <= 0 || *cfg.ClientIP.TimeoutSeconds > maxClientIPAffinitySeconds:
		return field.ErrorList{field.Invalid(configPath.Child("clientIP", "timeoutSeconds"), *cfg.ClientIP.TimeoutSeconds,
			fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds))}
	}
	return nil
}

func validateTrafficPolicies(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := &svc.Spec
	etpPath := specPath.Child("externalTrafficPolicy")
	switch {
	case !needsExternalTrafficPolicy(svc):
		if spec.ExternalTrafficPolicy != "" {
			errs = append(errs, field.Invalid(etpPath, spec.ExternalTrafficPolicy,
				"may only be set for externally-accessible services"))
		}
	case spec.ExternalTrafficPolicy == "":
		errs = append(errs, field.Required(etpPath, ""))
	case !sets.New(supportedExternalTPs...).Has(spec.ExternalTrafficPolicy):
		errs = append(errs, field.NotSupported(etpPath, spec.ExternalTrafficPolicy, supportedExternalTPs))
	}
	itpPath := specPath.Child("internalTrafficPolicy")
	switch {
	case spec.InternalTrafficPolicy == nil:
		if spec.Type != corev1.ServiceTypeExternalName {
			errs = append(errs, field.Required(itpPath, ""))
		}
	case !sets.New(supportedInternalTPs...).Has(*spec.InternalTrafficPolicy):
		errs = append(errs, field.NotSupported(itpPath, *spec.InternalTrafficPolicy, supportedInternalTPs))
	}
	return errs
}

// validateServiceUpdate checks the changes of an update: the cluster IPs
// may not change, except to or from type ExternalName.
func validateServiceUpdate(_ context.Context, svc, old *corev1.Service) field.ErrorList {
	if svc.Spec.Type == corev1.ServiceTypeExternalName || old.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if isHeadless(svc) && isHeadless(old) {
		return nil
	}
	var errs field.ErrorList
	ipsPath := specPath.Child("clusterIPs")
	if len(svc.Spec.ClusterIPs) == 0 && len(old.Spec.ClusterIPs) > 0 {
		return field.ErrorList{field.Invalid(ipsPath.Index(0), svc.Spec.ClusterIPs, "primary clusterIP can not be unset")}
	}
	for i, ip := range old.Spec.ClusterIPs {
		if i < len(svc.Spec.ClusterIPs) && svc.Spec.ClusterIPs[i] != ip {
			errs = append(errs, field.Invalid(ipsPath.Index(i), svc.Spec.ClusterIPs, "may not change once set"))
		}
	}
	if len(old.Spec.IPFamilies) > 0 && (len(svc.Spec.IPFamilies) == 0 || svc.Spec.IPFamilies[0] != old.Spec.IPFamilies[0]) {
		errs = append(errs, field.Invalid(specPath.Child("ipFamilies").Index(0), svc.Spec.IPFamilies, "may not change once set"))
	}
	return errs
}

// validateStatus checks the load balancer ingress points of a status
// update.
func validateStatus(_ context.Context, svc, _ *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	ingressPath := field.NewPath("status", "loadBalancer", "ingress")
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		path := ingressPath.Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIP(path.Child("ip"), ing.IP)...)
		}
		if ing.Hostname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(ing.Hostname) {
				errs = append(errs, field.Invalid(path.Child("hostname"), ing.Hostname, msg))
			}
			if netutils.ParseIPSloppy(ing.Hostname) != nil {
				errs = append(errs, field.Invalid(path.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}
