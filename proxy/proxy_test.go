package proxy

import (
	"sort"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"
)

func TestServicePortName(t *testing.T) {
	nn := types.NamespacedName{Namespace: "ns", Name: "web"}
	if got := (ServicePortName{NamespacedName: nn, Port: "http"}).String(); got != "ns/web:http" {
		t.Errorf("Named port: %q", got)
	}
	if got := (ServicePortName{NamespacedName: nn}).String(); got != "ns/web" {
		t.Errorf("Unnamed port: %q", got)
	}
}

func svc(mod func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	if mod != nil {
		mod(s)
	}
	return s
}

func TestNewServicePort(t *testing.T) {
	for _, tc := range []struct {
		name   string
		svc    *corev1.Service
		family corev1.IPFamily
		check  func(*testing.T, *ServicePort)
	}{
		{"cluster IP", svc(nil), corev1.IPv4Protocol, func(t *testing.T, p *ServicePort) {
			if p.ClusterIP.String() != "10.96.0.10" || p.Port != 80 || p.Protocol != corev1.ProtocolTCP || p.ExternallyAccessible() {
				t.Errorf("Got %+v", p)
			}
			if !p.UsesClusterEndpoints() || p.UsesLocalEndpoints() {
				t.Errorf("Cluster policies: cluster %v local %v", p.UsesClusterEndpoints(), p.UsesLocalEndpoints())
			}
		}},
		{"dual stack picks the family", svc(func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.0.10", "fd00::10"}
			s.Spec.ExternalIPs = []string{"192.168.0.100", "fd00::100"}
		}), corev1.IPv6Protocol, func(t *testing.T, p *ServicePort) {
			if p.ClusterIP.String() != "fd00::10" || len(p.ExternalIPs) != 1 || p.ExternalIPs[0].String() != "fd00::100" {
				t.Errorf("Got %+v", p)
			}
		}},
		{"affinity default timeout", svc(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }), corev1.IPv4Protocol, func(t *testing.T, p *ServicePort) {
			if p.StickyMaxAgeSeconds != 10800 {
				t.Errorf("Timeout %d, want 10800", p.StickyMaxAgeSeconds)
			}
		}},
		{"affinity timeout", svc(func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](30)}}
		}), corev1.IPv4Protocol, func(t *testing.T, p *ServicePort) {
			if p.StickyMaxAgeSeconds != 30 {
				t.Errorf("Timeout %d, want 30", p.StickyMaxAgeSeconds)
			}
		}},
		{"ETP Local on ClusterIP without external IPs is not local", svc(func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}), corev1.IPv4Protocol, func(t *testing.T, p *ServicePort) {
			if p.ExternalPolicyLocal {
				t.Error("ExternalPolicyLocal on a Service not externally accessible")
			}
		}},
		{"ETP Local node port", svc(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}), corev1.IPv4Protocol, func(t *testing.T, p *ServicePort) {
			if !p.ExternalPolicyLocal || !p.UsesLocalEndpoints() || !p.UsesClusterEndpoints() {
				t.Errorf("Got %+v", p)
			}
		}},
		{"ITP Local", svc(func(s *corev1.Service) {
			s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
		}), corev1.IPv4Protocol, func(t *testing.T, p *ServicePort) {
			if !p.InternalPolicyLocal || !p.UsesLocalEndpoints() || p.UsesClusterEndpoints() {
				t.Errorf("Got %+v", p)
			}
		}},
		{"load balancer VIPs and source ranges", svc(func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.LoadBalancerSourceRanges = []string{" 203.0.113.0/24 ", "fd00::/64"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
				{IP: "203.0.113.10"},
				{IP: "203.0.113.11", IPMode: ptr.To(corev1.LoadBalancerIPModeProxy)},
				{Hostname: "lb.example"},
			}
		}), corev1.IPv4Protocol, func(t *testing.T, p *ServicePort) {
			if len(p.LoadBalancerVIPs) != 1 || p.LoadBalancerVIPs[0].String() != "203.0.113.10" {
				t.Errorf("VIPs %v", p.LoadBalancerVIPs)
			}
			if len(p.LoadBalancerSourceRanges) != 1 || p.LoadBalancerSourceRanges[0].String() != "203.0.113.0/24" {
				t.Errorf("Source ranges %v", p.LoadBalancerSourceRanges)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, NewServicePort(tc.svc, tc.family, &tc.svc.Spec.Ports[0]))
		})
	}
}

func TestServiceChangeTracker(t *testing.T) {
	tracker := NewServiceChangeTracker(logr.Discard(), corev1.IPv4Protocol)
	m := ServicePortMap{}
	web := svc(nil)
	nn := types.NamespacedName{Namespace: "ns", Name: "web"}
	http := ServicePortName{NamespacedName: nn, Port: "http", Protocol: corev1.ProtocolTCP}

	if !tracker.Update(nil, web) {
		t.Fatal("Adding a Service is no change")
	}
	res := m.Update(tracker)
	if diff := cmp.Diff(sets.New(nn), res.UpdatedServices); diff != "" {
		t.Errorf("Updated services (-want +got):\n%s", diff)
	}
	if _, ok := m[http]; !ok || len(m) != 1 {
		t.Fatalf("Map %v", m)
	}

	// An update that changes nothing the proxy sees is no change.
	relabeled := web.DeepCopy()
	relabeled.Labels = map[string]string{"a": "b"}
	if tracker.Update(web, relabeled) {
		t.Error("A label change is a change")
	}
	// Changing and changing back cancels out.
	moved := web.DeepCopy()
	moved.Spec.Ports[0].Port = 81
	tracker.Update(web, moved)
	if tracker.Update(moved, web) {
		t.Error("A change and its undoing are pending")
	}

	// Ports renamed, UDP port dropped: its cluster IP is stale.
	withUDP := web.DeepCopy()
	withUDP.Spec.Ports = append(withUDP.Spec.Ports, corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP})
	tracker.Update(web, withUDP)
	m.Update(tracker)
	if len(m) != 2 {
		t.Fatalf("Map %v", m)
	}
	tracker.Update(withUDP, web)
	res = m.Update(tracker)
	if diff := cmp.Diff(sets.New("10.96.0.10"), res.DeletedUDPClusterIPs); diff != "" {
		t.Errorf("Deleted UDP cluster IPs (-want +got):\n%s", diff)
	}

	// Headless and ExternalName Services have no ports for the proxy.
	headless := web.DeepCopy()
	headless.Spec.ClusterIP, headless.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
	tracker.Update(web, headless)
	m.Update(tracker)
	if len(m) != 0 {
		t.Errorf("Headless Service in the map: %v", m)
	}
	external := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ext"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}
	if tracker.Update(nil, external) {
		t.Error("An ExternalName Service is a change")
	}
}

// slice builds an EndpointSlice of ns/web with port http 8080/TCP.
func slice(name string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints:   eps,
	}
}

func ep(ip, node string, ready, serving, terminating bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses: []string{ip}, NodeName: ptr.To(node),
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(serving), Terminating: ptr.To(terminating)},
	}
}

// summary lists a map's endpoints as "ip:port local/ready/serving/terminating".
func summary(m EndpointsMap) map[string][]string {
	out := map[string][]string{}
	flag := func(b bool, s string) string {
		if b {
			return s
		}
		return "-"
	}
	for name, eps := range m {
		for _, e := range eps {
			out[name.String()] = append(out[name.String()], e.String()+" "+flag(e.Local, "L")+flag(e.Ready, "R")+flag(e.Serving, "S")+flag(e.Terminating, "T"))
		}
	}
	return out
}

func TestEndpointsChangeTracker(t *testing.T) {
	tracker := NewEndpointsChangeTracker(logr.Discard(), corev1.IPv4Protocol, "node1")
	m := EndpointsMap{}

	a := slice("web-a", ep("10.244.0.5", "node1", true, true, false), ep("10.244.1.5", "node2", true, true, false))
	if !tracker.EndpointSliceUpdate(a, false) {
		t.Fatal("A new slice is no change")
	}
	if tracker.EndpointSliceUpdate(a.DeepCopy(), false) {
		t.Error("The same slice twice is a change")
	}
	m.Update(tracker)
	want := map[string][]string{"ns/web:http": {"10.244.0.5:8080 LRS-", "10.244.1.5:8080 -RS-"}}
	if diff := cmp.Diff(want, summary(m)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// An endpoint moves to another slice: seen in both for a moment, it
	// never disappears.
	b := slice("web-b", ep("10.244.1.5", "node2", true, true, false))
	tracker.EndpointSliceUpdate(b, false)
	m.Update(tracker)
	aOnly := slice("web-a", ep("10.244.0.5", "node1", true, true, false))
	tracker.EndpointSliceUpdate(aOnly, false)
	m.Update(tracker)
	if diff := cmp.Diff(want, summary(m)); diff != "" {
		t.Errorf("After the move (-want +got):\n%s", diff)
	}

	// A terminating duplicate of a live IP loses.
	tracker.EndpointSliceUpdate(slice("web-c", ep("10.244.1.5", "node2", false, false, true)), false)
	m.Update(tracker)
	if diff := cmp.Diff(want, summary(m)); diff != "" {
		t.Errorf("With a terminating duplicate (-want +got):\n%s", diff)
	}

	// Slices of another family, without the service label, or removals
	// of unknown slices, are ignored.
	v6 := slice("web-v6")
	v6.AddressType = discoveryv1.AddressTypeIPv6
	unlabeled := slice("web-x")
	unlabeled.Labels = nil
	for _, tc := range []struct {
		s      *discoveryv1.EndpointSlice
		remove bool
	}{{v6, false}, {unlabeled, false}, {slice("web-unknown"), true}} {
		if tracker.EndpointSliceUpdate(tc.s, tc.remove) {
			t.Errorf("Slice %s (remove %v) is a change", tc.s.Name, tc.remove)
		}
	}

	for _, name := range []string{"web-a", "web-b", "web-c"} {
		tracker.EndpointSliceUpdate(slice(name), true)
	}
	res := m.Update(tracker)
	if len(m) != 0 {
		t.Errorf("Endpoints remain after removing every slice: %v", summary(m))
	}
	if !res.UpdatedServices.Has(types.NamespacedName{Namespace: "ns", Name: "web"}) {
		t.Errorf("Updated services %v", res.UpdatedServices)
	}
}

func TestStaleUDP(t *testing.T) {
	name := ServicePortName{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "dns"}, Port: "dns", Protocol: corev1.ProtocolUDP}
	tcpName := ServicePortName{NamespacedName: name.NamespacedName, Port: "tcp", Protocol: corev1.ProtocolTCP}
	serving := func(ip string) *Endpoint { return NewEndpoint(ip, 53, false, true, true, false) }
	notServing := func(ip string) *Endpoint { return NewEndpoint(ip, 53, false, false, false, true) }
	for _, tc := range []struct {
		name              string
		previous, current EndpointsMap
		deleted           []string
		newlyActive       []string
	}{
		{"first endpoint", nil, EndpointsMap{name: {serving("10.0.0.1")}}, nil, []string{"ns/dns:dns"}},
		{"endpoint gone", EndpointsMap{name: {serving("10.0.0.1"), serving("10.0.0.2")}}, EndpointsMap{name: {serving("10.0.0.1")}}, []string{"10.0.0.2:53"}, nil},
		{"endpoint stops serving", EndpointsMap{name: {serving("10.0.0.1")}}, EndpointsMap{name: {notServing("10.0.0.1")}}, []string{"10.0.0.1:53"}, nil},
		{"never served", EndpointsMap{name: {notServing("10.0.0.1")}}, nil, nil, nil},
		{"TCP", EndpointsMap{tcpName: {serving("10.0.0.1")}}, EndpointsMap{}, nil, nil},
		{"TCP first endpoint", nil, EndpointsMap{tcpName: {serving("10.0.0.1")}}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res UpdateEndpointsMapResult
			staleUDP(tc.previous, tc.current, &res)
			var deleted, active []string
			for _, e := range res.DeletedUDPEndpoints {
				deleted = append(deleted, e.Endpoint)
			}
			for _, n := range res.NewlyActiveUDPServices {
				active = append(active, n.String())
			}
			if diff := cmp.Diff(tc.deleted, deleted); diff != "" {
				t.Errorf("Deleted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.newlyActive, active); diff != "" {
				t.Errorf("Newly active (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCategorizeEndpoints(t *testing.T) {
	type e struct {
		ip                                 string
		local, ready, serving, terminating bool
		zones                              []string
	}
	mk := func(es ...e) []*Endpoint {
		var out []*Endpoint
		for _, x := range es {
			ep := NewEndpoint(x.ip, 80, x.local, x.ready, x.serving, x.terminating)
			if len(x.zones) > 0 {
				ep.ZoneHints = sets.New(x.zones...)
			}
			out = append(out, ep)
		}
		return out
	}
	names := func(eps []*Endpoint) []string {
		var out []string
		for _, ep := range eps {
			out = append(out, ep.IP())
		}
		sort.Strings(out)
		return out
	}
	cluster := &ServicePort{}
	nodePortLocal := &ServicePort{NodePort: 30080, ExternalPolicyLocal: true}
	internalLocal := &ServicePort{InternalPolicyLocal: true}
	for _, tc := range []struct {
		name                string
		svc                 *ServicePort
		eps                 []*Endpoint
		labels              map[string]string
		cluster, local, all []string
		hasAny              bool
	}{
		{"ready only", cluster, mk(e{ip: "a", ready: true, serving: true}, e{ip: "b", serving: true, terminating: true}),
			nil, []string{"a"}, nil, []string{"a"}, true},
		{"falls back to serving terminating", cluster, mk(e{ip: "a", serving: true, terminating: true}, e{ip: "b", terminating: true}),
			nil, []string{"a"}, nil, []string{"a"}, true},
		{"nothing usable", cluster, mk(e{ip: "a", terminating: true}),
			nil, nil, nil, nil, false},
		{"ETP local with local ready", nodePortLocal, mk(e{ip: "a", local: true, ready: true, serving: true}, e{ip: "b", ready: true, serving: true}),
			nil, []string{"a", "b"}, []string{"a"}, []string{"a", "b"}, true},
		{"ETP local falls back locally, cluster keeps ready", nodePortLocal, mk(e{ip: "a", local: true, serving: true, terminating: true}, e{ip: "b", ready: true, serving: true}),
			nil, []string{"b"}, []string{"a"}, []string{"a", "b"}, true},
		{"ETP local without local endpoints", nodePortLocal, mk(e{ip: "b", ready: true, serving: true}),
			nil, []string{"b"}, nil, []string{"b"}, true},
		{"ITP local uses only local", internalLocal, mk(e{ip: "a", local: true, ready: true, serving: true}, e{ip: "b", ready: true, serving: true}),
			nil, nil, []string{"a"}, []string{"a"}, true},
		{"ITP local, none local: still has endpoints elsewhere", internalLocal, mk(e{ip: "b", ready: true, serving: true}),
			nil, nil, nil, nil, true},
		{"zone hints", cluster, mk(e{ip: "a", ready: true, serving: true, zones: []string{"z1"}}, e{ip: "b", ready: true, serving: true, zones: []string{"z2"}}),
			map[string]string{corev1.LabelTopologyZone: "z1"}, []string{"a"}, nil, []string{"a"}, true},
		{"zone hints for no endpoint of this zone are ignored", cluster, mk(e{ip: "a", ready: true, serving: true, zones: []string{"z1"}}, e{ip: "b", ready: true, serving: true, zones: []string{"z2"}}),
			map[string]string{corev1.LabelTopologyZone: "z3"}, []string{"a", "b"}, nil, []string{"a", "b"}, true},
		{"partial zone hints are ignored", cluster, mk(e{ip: "a", ready: true, serving: true, zones: []string{"z1"}}, e{ip: "b", ready: true, serving: true}),
			map[string]string{corev1.LabelTopologyZone: "z1"}, []string{"a", "b"}, nil, []string{"a", "b"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, l, all, any := CategorizeEndpoints(tc.eps, tc.svc, "node1", tc.labels)
			if diff := cmp.Diff(tc.cluster, names(c)); diff != "" {
				t.Errorf("Cluster (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.local, names(l)); diff != "" {
				t.Errorf("Local (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.all, names(all)); diff != "" {
				t.Errorf("All reachable (-want +got):\n%s", diff)
			}
			if any != tc.hasAny {
				t.Errorf("hasAny = %v, want %v", any, tc.hasAny)
			}
		})
	}
}
