package iptables

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/proxy/conntrack"
	"github.com/strata-dev/strata/proxy/ipt/ipttest"
	"github.com/strata-dev/strata/proxy/sysctl"
)

const (
	testNodeName = "node1"
	testNodeIP   = "192.168.0.2"
)

// serviceBuilder builds Services: makeService("ns", "web").ClusterIP(...).
type serviceBuilder struct{ svc *corev1.Service }

func makeService(ns, name string) serviceBuilder {
	return serviceBuilder{&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:            corev1.ServiceTypeClusterIP,
			SessionAffinity: corev1.ServiceAffinityNone,
		},
	}}
}

func (b serviceBuilder) ClusterIP(ips ...string) serviceBuilder {
	b.svc.Spec.ClusterIP = ips[0]
	b.svc.Spec.ClusterIPs = ips
	return b
}

func (b serviceBuilder) Port(name string, port int32, protocol corev1.Protocol) serviceBuilder {
	b.svc.Spec.Ports = append(b.svc.Spec.Ports, corev1.ServicePort{Name: name, Port: port, Protocol: protocol})
	return b
}

// NodePort makes the Service a NodePort one and sets the last port's node
// port.
func (b serviceBuilder) NodePort(nodePort int32) serviceBuilder {
	if b.svc.Spec.Type == corev1.ServiceTypeClusterIP {
		b.svc.Spec.Type = corev1.ServiceTypeNodePort
	}
	if b.svc.Spec.ExternalTrafficPolicy == "" {
		b.svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	b.svc.Spec.Ports[len(b.svc.Spec.Ports)-1].NodePort = nodePort
	return b
}

func (b serviceBuilder) Type(t corev1.ServiceType) serviceBuilder {
	b.svc.Spec.Type = t
	return b
}

func (b serviceBuilder) ExternalIPs(ips ...string) serviceBuilder {
	b.svc.Spec.ExternalIPs = ips
	return b
}

func (b serviceBuilder) ClientIPAffinity(timeout int32) serviceBuilder {
	b.svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	b.svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(timeout)}}
	return b
}

func (b serviceBuilder) ExternalTrafficLocal() serviceBuilder {
	b.svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	return b
}

func (b serviceBuilder) InternalTrafficLocal() serviceBuilder {
	b.svc.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
	return b
}

func (b serviceBuilder) LoadBalancer(ingressIP string, sourceRanges ...string) serviceBuilder {
	b.svc.Spec.Type = corev1.ServiceTypeLoadBalancer
	if b.svc.Spec.ExternalTrafficPolicy == "" {
		b.svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	b.svc.Spec.LoadBalancerSourceRanges = sourceRanges
	b.svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ingressIP}}
	return b
}

func (b serviceBuilder) Obj() *corev1.Service { return b.svc }

// sliceBuilder builds EndpointSlices of a Service.
type sliceBuilder struct{ slice *discoveryv1.EndpointSlice }

func makeSlice(ns, service, name string) sliceBuilder {
	return sliceBuilder{&discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}}
}

func (b sliceBuilder) IPv6() sliceBuilder {
	b.slice.AddressType = discoveryv1.AddressTypeIPv6
	return b
}

func (b sliceBuilder) Port(name string, port int32, protocol corev1.Protocol) sliceBuilder {
	b.slice.Ports = append(b.slice.Ports, discoveryv1.EndpointPort{Name: ptr.To(name), Port: ptr.To(port), Protocol: ptr.To(protocol)})
	return b
}

// Ready adds a ready endpoint on node.
func (b sliceBuilder) Ready(ip, node string) sliceBuilder {
	return b.Endpoint(ip, node, true, true, false)
}

// Endpoint adds an endpoint with the given conditions.
func (b sliceBuilder) Endpoint(ip, node string, ready, serving, terminating bool) sliceBuilder {
	b.slice.Endpoints = append(b.slice.Endpoints, discoveryv1.Endpoint{
		Addresses: []string{ip},
		NodeName:  ptr.To(node),
		Conditions: discoveryv1.EndpointConditions{
			Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating),
		},
	})
	return b
}

// ZoneHint sets the zone hint of the last endpoint.
func (b sliceBuilder) ZoneHint(zone string) sliceBuilder {
	b.slice.Endpoints[len(b.slice.Endpoints)-1].Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: zone}}}
	return b
}

func (b sliceBuilder) Obj() *discoveryv1.EndpointSlice { return b.slice }

// testProxier is a Proxier on fakes.
type testProxier struct {
	*Proxier
	ipt       *ipttest.Fake
	conntrack *conntrack.Fake
	sysctl    *sysctl.Fake
}

// newTestProxier returns a proxier of node1 (192.168.0.2) with cluster CIDR
// 10.244.0.0/16 and node ports on every local address, localhost included;
// modify adjusts its Config first.
func newTestProxier(t *testing.T, modify ...func(*Config)) *testProxier {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	return newTestProxierCtx(ctx, t, modify...)
}

func newTestProxierCtx(ctx context.Context, t *testing.T, modify ...func(*Config)) *testProxier {
	t.Helper()
	detector, err := NewLocalTrafficDetector(corev1.IPv4Protocol, []string{"10.244.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Family:             corev1.IPv4Protocol,
		IPTables:           ipttest.New(corev1.IPv4Protocol),
		Conntrack:          &conntrack.Fake{},
		Sysctl:             sysctl.NewFake(map[string]int{sysctlRouteLocalnet: 0}),
		NodeName:           testNodeName,
		NodeIPs:            []net.IP{net.ParseIP(testNodeIP)},
		LocalDetector:      detector,
		LocalhostNodePorts: true,
		InterfaceAddrs: func() ([]net.Addr, error) {
			return []net.Addr{
				&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
				&net.IPNet{IP: net.ParseIP(testNodeIP), Mask: net.CIDRMask(24, 32)},
				&net.IPNet{IP: net.ParseIP("10.0.0.1"), Mask: net.CIDRMask(24, 32)},
			}, nil
		},
	}
	for _, m := range modify {
		m(&cfg)
	}
	p, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testProxier{Proxier: p, ipt: cfg.IPTables.(*ipttest.Fake), conntrack: cfg.Conntrack.(*conntrack.Fake), sysctl: cfg.Sysctl.(*sysctl.Fake)}
}

// load feeds objects to the proxier's handlers and marks the informers
// synced, which runs the first (full) sync.
func (p *testProxier) load(services []*corev1.Service, slices []*discoveryv1.EndpointSlice) {
	for _, s := range services {
		p.OnServiceAdd(s)
	}
	for _, s := range slices {
		p.OnEndpointSliceAdd(s)
	}
	p.OnServiceSynced()
	p.OnEndpointSlicesSynced()
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	_, ctx := ktesting.NewTestContext(t)
	return context.WithCancel(ctx)
}

func contextWithLogger(t *testing.T) (any, context.Context) {
	logger, ctx := ktesting.NewTestContext(t)
	return logger, ctx
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("Timed out waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
