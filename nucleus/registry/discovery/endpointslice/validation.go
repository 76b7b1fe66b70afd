package endpointslice

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/nucleus/registry/core/endpoints"
)

// Upstream's limits.
const (
	maxEndpoints = 1000
	maxAddresses = 100
	maxPorts     = 100
	maxZoneHints = 8
	maxNodeHints = 8
)

var supportedAddressTypes = []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN}

func validate(_ context.Context, s *discoveryv1.EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	typePath := field.NewPath("addressType")
	switch {
	case s.AddressType == "":
		errs = append(errs, field.Required(typePath, ""))
	case !sets.New(supportedAddressTypes...).Has(s.AddressType):
		errs = append(errs, field.NotSupported(typePath, s.AddressType, supportedAddressTypes))
	}
	errs = append(errs, validateEndpoints(s.Endpoints, s.AddressType, field.NewPath("endpoints"))...)
	errs = append(errs, validatePorts(s.Ports, field.NewPath("ports"))...)
	return errs
}

func validateUpdate(_ context.Context, s, old *discoveryv1.EndpointSlice) field.ErrorList {
	return genericvalidation.ValidateImmutableField(s.AddressType, old.AddressType, field.NewPath("addressType"))
}

func validateEndpoints(eps []discoveryv1.Endpoint, addrType discoveryv1.AddressType, path *field.Path) field.ErrorList {
	if len(eps) > maxEndpoints {
		return field.ErrorList{field.TooMany(path, len(eps), maxEndpoints)}
	}
	var errs field.ErrorList
	for i, ep := range eps {
		epPath := path.Index(i)
		addrPath := epPath.Child("addresses")
		switch {
		case len(ep.Addresses) == 0:
			errs = append(errs, field.Required(addrPath, "must contain at least 1 address"))
		case len(ep.Addresses) > maxAddresses:
			errs = append(errs, field.TooMany(addrPath, len(ep.Addresses), maxAddresses))
		}
		for j, addr := range ep.Addresses {
			errs = append(errs, validateAddress(addr, addrType, addrPath.Index(j))...)
		}
		if ep.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*ep.Hostname) {
				errs = append(errs, field.Invalid(epPath.Child("hostname"), *ep.Hostname, msg))
			}
		}
		if ep.NodeName != nil {
			for _, msg := range validation.IsDNS1123Subdomain(*ep.NodeName) {
				errs = append(errs, field.Invalid(epPath.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		errs = append(errs, metav1validation.ValidateLabels(ep.DeprecatedTopology, epPath.Child("deprecatedTopology"))...)
		errs = append(errs, validateHints(ep.Hints, epPath.Child("hints"))...)
	}
	return errs
}

// validateAddress checks an address against the slice's address type;
// addresses of an unknown type are left alone (the type is reported).
func validateAddress(addr string, addrType discoveryv1.AddressType, path *field.Path) field.ErrorList {
	switch addrType {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		if errs := validation.IsValidIP(path, addr); len(errs) > 0 {
			return errs
		}
		ip := netutils.ParseIPSloppy(addr)
		if addrType == discoveryv1.AddressTypeIPv4 && ip.To4() == nil {
			return field.ErrorList{field.Invalid(path, addr, "must be an IPv4 address")}
		}
		if addrType == discoveryv1.AddressTypeIPv6 && ip.To4() != nil {
			return field.ErrorList{field.Invalid(path, addr, "must be an IPv6 address")}
		}
		return endpoints.ValidateNonSpecialIP(addr, path)
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(path, addr)
	}
	return nil
}

func validateHints(h *discoveryv1.EndpointHints, path *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	var errs field.ErrorList
	if len(h.ForZones) > maxZoneHints {
		errs = append(errs, field.TooMany(path.Child("forZones"), len(h.ForZones), maxZoneHints))
	}
	zones := sets.New[string]()
	for i, z := range h.ForZones {
		zonePath := path.Child("forZones").Index(i).Child("name")
		if zones.Has(z.Name) {
			errs = append(errs, field.Duplicate(zonePath, z.Name))
		}
		zones.Insert(z.Name)
		for _, msg := range validation.IsValidLabelValue(z.Name) {
			errs = append(errs, field.Invalid(zonePath, z.Name, msg))
		}
	}
	if len(h.ForNodes) > maxNodeHints {
		errs = append(errs, field.TooMany(path.Child("forNodes"), len(h.ForNodes), maxNodeHints))
	}
	nodes := sets.New[string]()
	for i, n := range h.ForNodes {
		nodePath := path.Child("forNodes").Index(i).Child("name")
		if nodes.Has(n.Name) {
			errs = append(errs, field.Duplicate(nodePath, n.Name))
		}
		nodes.Insert(n.Name)
		for _, msg := range validation.IsDNS1123Subdomain(n.Name) {
			errs = append(errs, field.Invalid(nodePath, n.Name, msg))
		}
	}
	return errs
}

func validatePorts(ports []discoveryv1.EndpointPort, path *field.Path) field.ErrorList {
	if len(ports) > maxPorts {
		return field.ErrorList{field.TooMany(path, len(ports), maxPorts)}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i, p := range ports {
		portPath := path.Index(i)
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		if name != "" {
			for _, msg := range validation.IsDNS1123Label(name) {
				errs = append(errs, field.Invalid(portPath.Child("name"), name, msg))
			}
		}
		if names.Has(name) {
			errs = append(errs, field.Duplicate(portPath.Child("name"), name))
		}
		names.Insert(name)
		if p.Port != nil {
			for _, msg := range validation.IsValidPortNum(int(*p.Port)) {
				errs = append(errs, field.Invalid(portPath.Child("port"), *p.Port, msg))
			}
		}
		protocol := corev1.Protocol("")
		if p.Protocol != nil {
			protocol = *p.Protocol
		}
		errs = append(errs, endpoints.ValidateProtocol(protocol, portPath.Child("protocol"))...)
		if p.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*p.AppProtocol) {
				errs = append(errs, field.Invalid(portPath.Child("appProtocol"), *p.AppProtocol, msg))
			}
		}
	}
	return errs
}
