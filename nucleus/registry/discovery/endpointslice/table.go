package endpointslice

import (
	"fmt"
	"strconv"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// maxShown is how many ports or addresses a column lists.
const maxShown = 3

// formatPorts prints the port numbers (or names, or "*" for all ports).
func formatPorts(ports []discoveryv1.EndpointPort) string {
	items := make([]string, 0, len(ports))
	for _, p := range ports {
		switch {
		case p.Port != nil:
			items = append(items, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			items = append(items, *p.Name)
		default:
			items = append(items, "*")
		}
	}
	return listWithMore(items)
}

// formatEndpoints prints the addresses of all endpoints.
func formatEndpoints(eps []discoveryv1.Endpoint) string {
	var items []string
	for _, ep := range eps {
		items = append(items, ep.Addresses...)
	}
	return listWithMore(items)
}

// listWithMore joins the first items, noting how many more there are, or
// returns "<unset>" for none.
func listWithMore(items []string) string {
	switch {
	case len(items) == 0:
		return "<unset>"
	case len(items) > maxShown:
		return fmt.Sprintf("%s + %d more...", strings.Join(items[:maxShown], ","), len(items)-maxShown)
	}
	return strings.Join(items, ",")
}
