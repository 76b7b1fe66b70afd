package endpoints

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// maxShown is how many endpoints the ENDPOINTS column lists.
const maxShown = 3

// formatEndpoints prints the ready addresses, with their ports, like
// upstream: "10.0.0.1:80,10.0.0.2:80 + 1 more...", or "<none>" without
// subsets.
func formatEndpoints(e *corev1.Endpoints) string {
	if len(e.Subsets) == 0 {
		return "<none>"
	}
	var list []string
	count := 0
	add := func(s string) {
		count++
		if len(list) < maxShown {
			list = append(list, s)
		}
	}
	for _, ss := range e.Subsets {
		if len(ss.Ports) == 0 {
			// Headless services may have no ports.
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	out := strings.Join(list, ",")
	if count > maxShown {
		return fmt.Sprintf("%s + %d more...", out, count-maxShown)
	}
	return out
}
