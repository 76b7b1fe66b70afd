package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The proxy phase's synthetic Services: ClusterIP Services of one TCP port,
// each with an EndpointSlice of proxyEndpoints ready endpoints on another
// node. Service i has cluster IP 10.97.0.0+i (in the usual 10.96.0.0/12
// Service range) and endpoints 10.244.0.0+4i+1, +2 and +3 (the third only
// while a partial sync adds it), in the cluster CIDR 10.244.0.0/16.
const (
	proxyNamespace   = "bench"
	proxyPortName    = "http"
	proxyPort        = 80
	proxyTargetPort  = 8080
	proxyEndpoints   = 2
	proxyClusterCIDR = "10.244.0.0/16"
	// proxyMaxServices is how many Services the address plan holds.
	proxyMaxServices = 16000
	// proxyNodeName is the proxier's node; the synthetic endpoints are
	// on proxyOtherNode.
	proxyNodeName  = "strata-bench-proxy"
	proxyOtherNode = "strata-bench-other"
)

var (
	proxyServiceBase  = netip.MustParseAddr("10.97.0.0")
	proxyEndpointBase = netip.MustParseAddr("10.244.0.0")
)

// addIPv4 returns a+n.
func addIPv4(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// proxyServiceName names Service i so that names sort as indexes do.
func proxyServiceName(i int) string { return fmt.Sprintf("svc-%05d", i) }

// proxyClusterIP is Service i's cluster IP.
func proxyClusterIP(i int) string { return addIPv4(proxyServiceBase, i).String() }

// proxyEndpointIP is the j-th endpoint (0 ≤ j < 3) of Service i.
func proxyEndpointIP(i, j int) string { return addIPv4(proxyEndpointBase, 4*i+j+1).String() }

// proxyService is Service i.
func proxyService(i int) *corev1.Service {
	ip := proxyClusterIP(i)
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: proxyNamespace, Name: proxyServiceName(i)},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeClusterIP,
			ClusterIP:       ip,
			ClusterIPs:      []string{ip},
			IPFamilies:      []corev1.IPFamily{corev1.IPv4Protocol},
			SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{
				Name: proxyPortName, Protocol: corev1.ProtocolTCP, Port: proxyPort,
			}},
		},
	}
}

// proxySlice is the EndpointSlice of Service i with the given endpoint
// addresses, listening on port.
func proxySlice(i int, port int32, addresses ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: proxyNamespace, Name: proxyServiceName(i) + "-abcde",
			Labels: map[string]string{discoveryv1.LabelServiceName: proxyServiceName(i)},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{
			Name: ptr.To(proxyPortName), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP),
		}},
	}
	for _, a := range addresses {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{a},
			NodeName:  ptr.To(proxyOtherNode),
			Conditions: discoveryv1.EndpointConditions{
				Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false),
			},
		})
	}
	return s
}

// proxyEndpointsOf returns the first n endpoint addresses of Service i.
func proxyEndpointsOf(i, n int) []string {
	var out []string
	for j := range n {
		out = append(out, proxyEndpointIP(i, j))
	}
	return out
}

// partialTarget is the Service the k-th partial sync changes: spread over
// the whole range, the same one for k = 2m and 2m+1 (an endpoint is added,
// then removed again).
func partialTarget(k, services int) int {
	// 7919 is prime, so consecutive pairs land far apart.
	return (k / 2 * 7919) % services
}

// tableCount counts what one iptables table holds.
type tableCount struct {
	Chains int `json:"chains"`
	Rules  int `json:"rules"`
}

// countRules counts the chains (":NAME" lines) and rules ("-A" lines) per
// table ("*nat" sections) in iptables-save output or iptables-restore
// input. Rules before any table header are not counted.
func countRules(data []byte) map[string]tableCount {
	counts := map[string]tableCount{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "*"):
			table = strings.TrimSpace(line[1:])
			if _, ok := counts[table]; !ok {
				counts[table] = tableCount{}
			}
		case table == "":
		case strings.HasPrefix(line, ":"):
			c := counts[table]
			c.Chains++
			counts[table] = c
		case strings.HasPrefix(line, "-A "):
			c := counts[table]
			c.Rules++
			counts[table] = c
		}
	}
	return counts
}

// totalRules sums the rules of every table.
func totalRules(counts map[string]tableCount) int {
	n := 0
	for _, c := range counts {
		n += c.Rules
	}
	return n
}

// parseProxyServices parses -proxy-services: Service counts, comma
// separated, returned ascending without duplicates.
func parseProxyServices(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > proxyMaxServices {
			return nil, fmt.Errorf("-proxy-services: %q is not a number of Services from 1 to %d", f, proxyMaxServices)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
