package iptables

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/strata-dev/strata/proxy/conntrack"
	"github.com/strata-dev/strata/proxy/ipt/ipttest"
	"github.com/strata-dev/strata/proxy/sysctl"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/<name>.golden (rewriting it with
// -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("Reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Rules differ from %s (-want +got; run go test -update to accept):\n%s", path, diff)
	}
}

// goldenCase is one Service shape and the rules it makes.
type goldenCase struct {
	name     string
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
	config   func(*Config)
	labels   map[string]string
}

var tcp, udp, sctp = corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP

// goldenCases are the shapes the rules are checked for, each against
// testdata/<name>.golden; TestGoldenRulesInNetns feeds the same files to
// the real iptables-restore.
var goldenCases = []goldenCase{
	{
		name:     "clusterip",
		services: []*corev1.Service{makeService("ns1", "web").ClusterIP("10.96.0.10").Port("http", 80, tcp).Obj()},
		slices:   []*discoveryv1.EndpointSlice{makeSlice("ns1", "web", "web-abc").Port("http", 8080, tcp).Ready("10.244.1.5", "node2").Obj()},
	},
	{
		name:     "multiple-endpoints",
		services: []*corev1.Service{makeService("ns1", "web").ClusterIP("10.96.0.10").Port("http", 80, tcp).Obj()},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "web", "web-abc").Port("http", 8080, tcp).Ready("10.244.0.5", "node1").Ready("10.244.1.5", "node2").Obj(),
			makeSlice("ns1", "web", "web-def").Port("http", 8080, tcp).Ready("10.244.2.5", "node3").Obj(),
		},
	},
	{
		name: "no-endpoints",
		services: []*corev1.Service{
			makeService("ns1", "empty").ClusterIP("10.96.0.11").Port("", 80, tcp).Obj(),
			makeService("ns1", "empty-np").ClusterIP("10.96.0.12").Port("http", 80, tcp).NodePort(30081).ExternalIPs("192.168.0.100").Obj(),
		},
		slices: []*discoveryv1.EndpointSlice{
			// An empty slice, as the controller writes for a Service
			// without ready pods.
			makeSlice("ns1", "empty-np", "empty-np-abc").Port("http", 8080, tcp).Obj(),
		},
	},
	{
		name:     "nodeport",
		services: []*corev1.Service{makeService("ns1", "web").ClusterIP("10.96.0.10").Port("http", 80, tcp).NodePort(30080).Obj()},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "web", "web-abc").Port("http", 8080, tcp).Ready("10.244.0.5", "node1").Ready("10.244.1.5", "node2").Obj(),
		},
	},
	{
		name:     "session-affinity",
		services: []*corev1.Service{makeService("ns1", "sticky").ClusterIP("10.96.0.13").Port("http", 80, tcp).ClientIPAffinity(600).Obj()},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "sticky", "sticky-abc").Port("http", 8080, tcp).Ready("10.244.0.5", "node1").Ready("10.244.1.5", "node2").Obj(),
		},
	},
	{
		name: "external-traffic-policy-local",
		services: []*corev1.Service{
			makeService("ns1", "local").ClusterIP("10.96.0.14").Port("http", 80, tcp).NodePort(30082).ExternalTrafficLocal().Obj(),
			makeService("ns1", "remote").ClusterIP("10.96.0.15").Port("http", 80, tcp).NodePort(30083).ExternalTrafficLocal().Obj(),
		},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "local", "local-abc").Port("http", 8080, tcp).Ready("10.244.0.5", "node1").Ready("10.244.1.5", "node2").Obj(),
			makeSlice("ns1", "remote", "remote-abc").Port("http", 8080, tcp).Ready("10.244.1.6", "node2").Obj(),
		},
	},
	{
		name: "internal-traffic-policy-local",
		services: []*corev1.Service{
			makeService("ns1", "local").ClusterIP("10.96.0.16").Port("http", 80, tcp).InternalTrafficLocal().Obj(),
			makeService("ns1", "remote").ClusterIP("10.96.0.17").Port("http", 80, tcp).InternalTrafficLocal().Obj(),
		},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "local", "local-abc").Port("http", 8080, tcp).Ready("10.244.0.5", "node1").Ready("10.244.1.5", "node2").Obj(),
			makeSlice("ns1", "remote", "remote-abc").Port("http", 8080, tcp).Ready("10.244.1.6", "node2").Obj(),
		},
	},
	{
		name:     "udp",
		services: []*corev1.Service{makeService("kube-system", "dns").ClusterIP("10.96.0.53").Port("dns", 53, udp).Port("dns-tcp", 53, tcp).Obj()},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("kube-system", "dns", "dns-abc").Port("dns", 5353, udp).Port("dns-tcp", 5353, tcp).Ready("10.244.0.53", "node1").Obj(),
		},
	},
	{
		name:     "external-ips",
		services: []*corev1.Service{makeService("ns1", "ext").ClusterIP("10.96.0.18").Port("http", 80, tcp).ExternalIPs("192.168.0.100", "fd00::100").Obj()},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "ext", "ext-abc").Port("http", 8080, tcp).Ready("10.244.0.5", "node1").Ready("10.244.1.5", "node2").Obj(),
		},
	},
	{
		// The endpoint's own traffic to the Service comes back to it:
		// its KUBE-SEP chain marks it for masquerade.
		name:     "hairpin",
		services: []*corev1.Service{makeService("ns1", "self").ClusterIP("10.96.0.19").Port("", 80, tcp).Obj()},
		slices:   []*discoveryv1.EndpointSlice{makeSlice("ns1", "self", "self-abc").Port("", 8080, tcp).Ready("10.244.0.7", "node1").Obj()},
	},
	{
		name: "terminating-endpoints",
		services: []*corev1.Service{
			makeService("ns1", "a-ready-and-terminating").ClusterIP("10.96.0.20").Port("", 80, tcp).Obj(),
			makeService("ns1", "b-only-terminating").ClusterIP("10.96.0.21").Port("", 80, tcp).Obj(),
			makeService("ns1", "c-terminating-not-serving").ClusterIP("10.96.0.22").Port("", 80, tcp).Obj(),
			makeService("ns1", "d-local-terminating").ClusterIP("10.96.0.23").Port("", 80, tcp).NodePort(30084).ExternalTrafficLocal().Obj(),
		},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "a-ready-and-terminating", "a").Port("", 8080, tcp).
				Ready("10.244.1.5", "node2").Endpoint("10.244.0.5", "node1", false, true, true).Obj(),
			makeSlice("ns1", "b-only-terminating", "b").Port("", 8080, tcp).
				Endpoint("10.244.0.6", "node1", false, true, true).Endpoint("10.244.1.6", "node2", false, true, true).Obj(),
			makeSlice("ns1", "c-terminating-not-serving", "c").Port("", 8080, tcp).
				Endpoint("10.244.0.7", "node1", false, false, true).Obj(),
			makeSlice("ns1", "d-local-terminating", "d").Port("", 8080, tcp).
				Endpoint("10.244.0.8", "node1", false, true, true).Ready("10.244.1.8", "node2").Obj(),
		},
	},
	{
		name:     "loadbalancer",
		services: []*corev1.Service{makeService("ns1", "lb").ClusterIP("10.96.0.24").Port("http", 80, tcp).NodePort(30085).LoadBalancer("203.0.113.10", "203.0.113.0/24", "192.168.0.0/24").Obj()},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "lb", "lb-abc").Port("http", 8080, tcp).Ready("10.244.1.5", "node2").Obj(),
		},
	},
	{
		name:     "masquerade-all",
		services: []*corev1.Service{makeService("ns1", "web").ClusterIP("10.96.0.10").Port("http", 80, tcp).NodePort(30080).Obj()},
		slices:   []*discoveryv1.EndpointSlice{makeSlice("ns1", "web", "web-abc").Port("http", 8080, tcp).Ready("10.244.1.5", "node2").Obj()},
		config: func(c *Config) {
			c.MasqueradeAll = true
			c.LocalDetector = LocalTrafficDetector{}
			c.LocalhostNodePorts = false
		},
	},
	{
		name:     "nodeport-addresses",
		services: []*corev1.Service{makeService("ns1", "web").ClusterIP("10.96.0.10").Port("http", 80, tcp).NodePort(30080).Obj()},
		slices:   []*discoveryv1.EndpointSlice{makeSlice("ns1", "web", "web-abc").Port("http", 8080, tcp).Ready("10.244.1.5", "node2").Obj()},
		config:   func(c *Config) { c.NodePortAddresses = []string{"192.168.0.0/24", "127.0.0.0/8"} },
	},
	{
		name: "topology-hints",
		services: []*corev1.Service{
			makeService("ns1", "zonal").ClusterIP("10.96.0.25").Port("", 80, tcp).Obj(),
		},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "zonal", "zonal-abc").Port("", 8080, tcp).
				Ready("10.244.0.5", "node1").ZoneHint("zone-a").
				Ready("10.244.1.5", "node2").ZoneHint("zone-a").
				Ready("10.244.2.5", "node3").ZoneHint("zone-b").Obj(),
		},
		labels: map[string]string{corev1.LabelTopologyZone: "zone-a"},
	},
	{
		name: "ignored-services",
		services: []*corev1.Service{
			makeService("ns1", "external").Type(corev1.ServiceTypeExternalName).Port("", 80, tcp).Obj(),
			makeService("ns1", "headless").ClusterIP(corev1.ClusterIPNone).Port("", 80, tcp).Obj(),
			makeService("ns1", "ipv6-only").ClusterIP("fd00:10:96::10").Port("", 80, tcp).Obj(),
		},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "headless", "headless-abc").Port("", 8080, tcp).Ready("10.244.0.5", "node1").Obj(),
		},
	},
	{
		name:     "sctp",
		services: []*corev1.Service{makeService("ns1", "sig").ClusterIP("10.96.0.26").Port("sig", 2905, sctp).Obj()},
		slices:   []*discoveryv1.EndpointSlice{makeSlice("ns1", "sig", "sig-abc").Port("sig", 2905, sctp).Ready("10.244.1.5", "node2").Obj()},
	},
	{
		name: "ipv6",
		services: []*corev1.Service{
			makeService("ns1", "web").ClusterIP("10.96.0.10", "fd00:10:96::10").Port("http", 80, tcp).NodePort(30080).Obj(),
			makeService("ns1", "empty").ClusterIP("fd00:10:96::11").Port("", 80, tcp).Obj(),
		},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "web", "web-v4").Port("http", 8080, tcp).Ready("10.244.1.5", "node2").Obj(),
			makeSlice("ns1", "web", "web-v6").IPv6().Port("http", 8080, tcp).Ready("fd00:10:244:1::5", "node2").Ready("fd00:10:244::5", "node1").Obj(),
		},
		config: func(c *Config) {
			c.Family = corev1.IPv6Protocol
			c.IPTables = ipttest.New(corev1.IPv6Protocol)
			c.NodeIPs = []net.IP{net.ParseIP("fd00::2")}
			c.LocalDetector, _ = NewLocalTrafficDetector(corev1.IPv6Protocol, []string{"10.244.0.0/16", "fd00:10:244::/56"})
			c.Conntrack = &conntrack.Fake{}
			c.Sysctl = sysctl.NewFake(nil)
		},
	},
}

func TestGoldenRules(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			var modify []func(*Config)
			if tc.config != nil {
				modify = append(modify, tc.config)
			}
			p := newTestProxier(t, modify...)
			if tc.labels != nil {
				p.nodeLabels = tc.labels
			}
			p.load(tc.services, tc.slices)
			restores := p.ipt.Restores()
			if len(restores) != 1 {
				t.Fatalf("Got %d restores, want 1", len(restores))
			}
			checkGolden(t, tc.name, restores[0])
		})
	}
}
