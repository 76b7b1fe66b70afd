package endpoints

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// SupportedProtocols are the port protocols upstream accepts.
var SupportedProtocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

func validate(_ context.Context, e *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	for i := range e.Subsets {
		errs = append(errs, validateSubset(&e.Subsets[i], field.NewPath("subsets").Index(i))...)
	}
	return errs
}

func validateSubset(ss *corev1.EndpointSubset, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
		errs = append(errs, field.Required(path, "must specify `addresses` or `notReadyAddresses`"))
	}
	for i := range ss.Addresses {
		errs = append(errs, validateAddress(&ss.Addresses[i], path.Child("addresses").Index(i))...)
	}
	for i := range ss.NotReadyAddresses {
		errs = append(errs, validateAddress(&ss.NotReadyAddresses[i], path.Child("notReadyAddresses").Index(i))...)
	}
	names := sets.New[string]()
	for i, p := range ss.Ports {
		portPath := path.Child("ports").Index(i)
		switch {
		case len(ss.Ports) > 1 && p.Name == "":
			errs = append(errs, field.Required(portPath.Child("name"), ""))
		case p.Name != "":
			for _, msg := range validation.IsDNS1123Label(p.Name) {
				errs = append(errs, field.Invalid(portPath.Child("name"), p.Name, msg))
			}
			if names.Has(p.Name) {
				errs = append(errs, field.Duplicate(portPath.Child("name"), p.Name))
			}
			names.Insert(p.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(p.Port)) {
			errs = append(errs, field.Invalid(portPath.Child("port"), p.Port, msg))
		}
		errs = append(errs, ValidateProtocol(p.Protocol, portPath.Child("protocol"))...)
		if p.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*p.AppProtocol) {
				errs = append(errs, field.Invalid(portPath.Child("appProtocol"), *p.AppProtocol, msg))
			}
		}
	}
	return errs
}

func validateAddress(a *corev1.EndpointAddress, path *field.Path) field.ErrorList {
	errs := validation.IsValidIP(path.Child("ip"), a.IP)
	if len(errs) == 0 {
		errs = append(errs, ValidateNonSpecialIP(a.IP, path.Child("ip"))...)
	}
	if a.Hostname != "" {
		for _, msg := range validation.IsDNS1123Label(a.Hostname) {
			errs = append(errs, field.Invalid(path.Child("hostname"), a.Hostname, msg))
		}
	}
	if a.NodeName != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*a.NodeName) {
			errs = append(errs, field.Invalid(path.Child("nodeName"), *a.NodeName, msg))
		}
	}
	return errs
}

// ValidateProtocol checks a port protocol.
func ValidateProtocol(p corev1.Protocol, path *field.Path) field.ErrorList {
	switch {
	case p == "":
		return field.ErrorList{field.Required(path, "")}
	case !sets.New(SupportedProtocols...).Has(p):
		return field.ErrorList{field.NotSupported(path, p, SupportedProtocols)}
	}
	return nil
}

// ValidateNonSpecialIP rejects the addresses an endpoint may not have:
// unspecified, loopback, link-local and link-local multicast, as upstream.
func ValidateNonSpecialIP(ipAddress string, path *field.Path) field.ErrorList {
	ip := netutils.ParseIPSloppy(ipAddress)
	var msg string
	switch {
	case ip == nil:
		msg = "must be a valid IP address"
	case ip.IsUnspecified():
		msg = fmt.Sprintf("may not be unspecified (%s)", ipAddress)
	case ip.IsLoopback():
		msg = "may not be in the loopback range (127.0.0.0/8, ::1/128)"
	case ip.IsLinkLocalUnicast():
		msg = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
	case ip.IsLinkLocalMulticast():
		msg = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
	default:
		return nil
	}
	return field.ErrorList{field.Invalid(path, ipAddress, msg)}
}
