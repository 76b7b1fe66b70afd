package iptables

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/strata-dev/strata/proxy/ipt"
)

func TestChainNamesAsUpstream(t *testing.T) {
	// Names from upstream's own tests: chains keep their names across a
	// switch between kube-proxy and Strata's proxy.
	for _, tc := range []struct{ got, want ipt.Chain }{
		{clusterPolicyChain("ns1/svc1:p80", "tcp"), "KUBE-SVC-XPGD46QRK7WJZT7O"},
		{endpointChain("ns1/svc1:p80", "tcp", "10.180.0.1:80"), "KUBE-SEP-SXIVWICOYRO3J4NJ"},
		{externalChain("ns1/svc1:p80", "tcp"), "KUBE-EXT-XPGD46QRK7WJZT7O"},
		{localPolicyChain("ns1/svc1:p80", "tcp"), "KUBE-SVL-XPGD46QRK7WJZT7O"},
		{firewallChain("ns1/svc1:p80", "tcp"), "KUBE-FW-XPGD46QRK7WJZT7O"},
	} {
		if tc.got != tc.want {
			t.Errorf("Got chain %s, want %s", tc.got, tc.want)
		}
	}
}

func TestProbability(t *testing.T) {
	for n, want := range map[int]string{1: "1.0000000000", 2: "0.5000000000", 3: "0.3333333333", 7: "0.1428571429"} {
		if got := probability(n); got != want {
			t.Errorf("probability(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestNoSyncBeforeInformersSynced(t *testing.T) {
	p := newTestProxier(t)
	p.OnServiceAdd(makeService("ns1", "web").ClusterIP("10.96.0.10").Port("", 80, tcp).Obj())
	p.OnServiceSynced()
	if n := len(p.ipt.Restores()); n != 0 {
		t.Fatalf("Got %d restores before EndpointSlices synced, want none", n)
	}
	p.OnEndpointSlicesSynced()
	if n := len(p.ipt.Restores()); n != 1 {
		t.Fatalf("Got %d restores once synced, want 1", n)
	}
}

func TestRouteLocalnet(t *testing.T) {
	p := newTestProxier(t)
	if v := p.sysctl.Values[sysctlRouteLocalnet]; v != 1 {
		t.Errorf("route_localnet = %d, want 1 with localhost node ports", v)
	}
	p = newTestProxier(t, func(c *Config) { c.LocalhostNodePorts = false })
	if v := p.sysctl.Values[sysctlRouteLocalnet]; v != 0 {
		t.Errorf("route_localnet = %d, want it left at 0 without localhost node ports", v)
	}
	p = newTestProxier(t, func(c *Config) { c.NodePortAddresses = []string{"192.168.0.0/24"} })
	if v := p.sysctl.Values[sysctlRouteLocalnet]; v != 0 {
		t.Errorf("route_localnet = %d, want it left at 0 when node port addresses exclude localhost", v)
	}
}

func TestJumpRulesEnsuredOnce(t *testing.T) {
	p := newTestProxier(t)
	p.load(nil, nil)
	p.forceSyncProxyRules()
	dump := p.ipt.Dump()
	for _, want := range []string{
		`-A PREROUTING -m comment --comment kubernetes service portals -j KUBE-SERVICES`,
		`-A OUTPUT -m comment --comment kubernetes service portals -j KUBE-SERVICES`,
		`-A POSTROUTING -m comment --comment kubernetes postrouting rules -j KUBE-POSTROUTING`,
		`-A FORWARD -m comment --comment kubernetes forwarding rules -j KUBE-FORWARD`,
		`-A INPUT -j KUBE-FIREWALL`,
	} {
		if n := strings.Count(dump, want+"\n"); n != 1 {
			t.Errorf("Rule %q appears %d times, want once:\n%s", want, n, dump)
		}
	}
}

// objects is a small cluster: two Services, one with two endpoints.
func objects() ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	return []*corev1.Service{
			makeService("ns1", "a").ClusterIP("10.96.0.10").Port("", 80, tcp).Obj(),
			makeService("ns1", "b").ClusterIP("10.96.0.11").Port("", 80, tcp).NodePort(30080).Obj(),
		}, []*discoveryv1.EndpointSlice{
			makeSlice("ns1", "a", "a-1").Port("", 8080, tcp).Ready("10.244.0.5", "node1").Obj(),
			makeSlice("ns1", "b", "b-1").Port("", 8080, tcp).Ready("10.244.1.5", "node2").Ready("10.244.2.5", "node3").Obj(),
		}
}

// fullSyncState returns the tables a fresh proxier writes for the objects.
func fullSyncState(t *testing.T, services []*corev1.Service, slices []*discoveryv1.EndpointSlice) string {
	t.Helper()
	p := newTestProxier(t)
	p.load(services, slices)
	return p.ipt.Dump()
}

func TestPartialSync(t *testing.T) {
	services, slices := objects()
	p := newTestProxier(t)
	p.load(services, slices)

	// b loses an endpoint: only b's chains are rewritten.
	newB := makeSlice("ns1", "b", "b-1").Port("", 8080, tcp).Ready("10.244.1.5", "node2").Obj()
	p.OnEndpointSliceUpdate(slices[1], newB)
	p.syncProxyRules()
	data := string(p.ipt.LastRestore())
	svcA, svcB := clusterPolicyChain("ns1/a", "tcp"), clusterPolicyChain("ns1/b", "tcp")
	if strings.Contains(data, ":"+string(svcA)) {
		t.Errorf("Partial sync rewrote the unchanged Service a:\n%s", data)
	}
	if !strings.Contains(data, ":"+string(svcB)) {
		t.Errorf("Partial sync did not rewrite the changed Service b:\n%s", data)
	}
	gone := endpointChain("ns1/b", "tcp", "10.244.2.5:8080")
	if !strings.Contains(data, "-X "+string(gone)+"\n") {
		t.Errorf("Partial sync did not delete the stale chain %s:\n%s", gone, data)
	}
	// The jump to a's chain is still in KUBE-SERVICES.
	if !strings.Contains(data, "-j "+string(svcA)+"\n") {
		t.Errorf("Partial sync dropped the jump to Service a:\n%s", data)
	}
	// The kernel state is what a full sync of the same objects makes.
	if diff := cmp.Diff(fullSyncState(t, services[:], []*discoveryv1.EndpointSlice{slices[0], newB}), p.ipt.Dump()); diff != "" {
		t.Errorf("State after partial sync differs from a full sync (-full +partial):\n%s", diff)
	}

	// Deleting a Service deletes all its chains.
	p.OnServiceDelete(services[0])
	p.OnEndpointSliceDelete(slices[0])
	p.syncProxyRules()
	if diff := cmp.Diff(fullSyncState(t, services[1:], []*discoveryv1.EndpointSlice{newB}), p.ipt.Dump()); diff != "" {
		t.Errorf("State after deleting a Service differs from a full sync (-full +partial):\n%s", diff)
	}
	if strings.Contains(p.ipt.Dump(), string(svcA)) {
		t.Errorf("Chains of the deleted Service remain:\n%s", p.ipt.Dump())
	}

	// Nothing changed: only the top-level chains are rewritten.
	p.syncProxyRules()
	if data := string(p.ipt.LastRestore()); strings.Contains(data, "KUBE-SEP-") {
		t.Errorf("A sync without changes rewrote endpoint chains:\n%s", data)
	}
}

func TestServiceChangeRewritesChains(t *testing.T) {
	services, slices := objects()
	p := newTestProxier(t)
	p.load(services, slices)
	sticky := makeService("ns1", "a").ClusterIP("10.96.0.10").Port("", 80, tcp).ClientIPAffinity(60).Obj()
	p.OnServiceUpdate(services[0], sticky)
	p.syncProxyRules()
	if !strings.Contains(string(p.ipt.LastRestore()), "--rcheck --seconds 60 --reap") {
		t.Errorf("Session affinity not written after a Service change:\n%s", p.ipt.LastRestore())
	}
	if diff := cmp.Diff(fullSyncState(t, []*corev1.Service{sticky, services[1]}, slices), p.ipt.Dump()); diff != "" {
		t.Errorf("State differs from a full sync (-full +partial):\n%s", diff)
	}
}

func TestFailedSyncRetriesWithFullSync(t *testing.T) {
	services, slices := objects()
	p := newTestProxier(t)
	p.load(services, slices)

	p.ipt.SetRestoreError(errors.New("boom"))
	newB := makeSlice("ns1", "b", "b-1").Port("", 8080, tcp).Ready("10.244.1.5", "node2").Obj()
	p.OnEndpointSliceUpdate(slices[1], newB)
	p.syncProxyRules()
	if !p.needFullSync {
		t.Fatal("A failed sync did not ask for a full sync")
	}

	p.ipt.SetRestoreError(nil)
	p.syncProxyRules()
	data := string(p.ipt.LastRestore())
	if !strings.Contains(data, ":"+string(clusterPolicyChain("ns1/a", "tcp"))) {
		t.Errorf("The sync after a failure was not full:\n%s", data)
	}
	if diff := cmp.Diff(fullSyncState(t, services, []*discoveryv1.EndpointSlice{slices[0], newB}), p.ipt.Dump()); diff != "" {
		t.Errorf("State after recovery differs from a full sync (-full +got):\n%s", diff)
	}
}

func TestFlushedRulesForceFullSync(t *testing.T) {
	services, slices := objects()
	p := newTestProxier(t)
	p.load(services, slices)
	for _, tbl := range canaryTables {
		if _, err := p.ipt.EnsureChain(tbl, kubeProxyCanaryChain); err != nil {
			t.Fatal(err)
		}
	}
	if !p.checkCanaries() {
		t.Fatal("Canaries missing after creating them")
	}
	want := p.ipt.Dump()

	p.ipt.Flush()
	if p.checkCanaries() {
		t.Fatal("Canaries still found after a flush")
	}
	// What the monitor does on a missing canary.
	for _, tbl := range canaryTables {
		if _, err := p.ipt.EnsureChain(tbl, kubeProxyCanaryChain); err != nil {
			t.Fatal(err)
		}
	}
	p.forceSyncProxyRules()
	if diff := cmp.Diff(want, p.ipt.Dump()); diff != "" {
		t.Errorf("State after the forced full sync differs (-before flush +after):\n%s", diff)
	}
}

func TestMonitorDetectsFlush(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Now())
	p := newTestProxier(t, func(c *Config) { c.Clock = clk })
	p.load(objects())
	ctx, cancel := contextWithCancel(t)
	defer cancel()
	done := make(chan struct{})
	go func() { p.monitor(ctx); close(done) }()
	waitFor(t, func() bool {
		ok, _ := p.ipt.ChainExists(ipt.TableMangle, kubeProxyCanaryChain)
		return ok && clk.HasWaiters()
	})
	before := len(p.ipt.Restores())
	p.ipt.Flush()
	clk.Step(DefaultSyncPeriod)
	waitFor(t, func() bool { return len(p.ipt.Restores()) > before })
	if diff := cmp.Diff(fullSyncState(t, objectsServices(), objectsSlices()), withoutCanaries(p.ipt.Dump())); diff != "" {
		t.Errorf("State after the monitor's full sync differs (-want +got):\n%s", diff)
	}
	cancel()
	<-done
}

func objectsServices() []*corev1.Service          { s, _ := objects(); return s }
func objectsSlices() []*discoveryv1.EndpointSlice { _, s := objects(); return s }

func withoutCanaries(dump string) string {
	var out []string
	for _, l := range strings.SplitAfter(dump, "\n") {
		if !strings.Contains(l, string(kubeProxyCanaryChain)) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

func TestRestartKeepsState(t *testing.T) {
	services, slices := objects()
	p := newTestProxier(t)
	p.load(services, slices)
	before := p.ipt.Dump()

	// A new proxier on the same tables, as after a restart: one
	// restore that rewrites the same chains, no deletion.
	p2 := newTestProxier(t, func(c *Config) { c.IPTables = p.ipt })
	p2.load(services, slices)
	if diff := cmp.Diff(before, p.ipt.Dump()); diff != "" {
		t.Errorf("State after a restart differs (-before +after):\n%s", diff)
	}
	if data := string(p.ipt.LastRestore()); strings.Contains(data, "-X ") {
		t.Errorf("The restart's sync deleted chains:\n%s", data)
	}
}

func TestCleanupLeftovers(t *testing.T) {
	services, slices := objects()
	p := newTestProxier(t)
	p.load(services, slices)
	for _, tbl := range canaryTables {
		if _, err := p.ipt.EnsureChain(tbl, kubeProxyCanaryChain); err != nil {
			t.Fatal(err)
		}
	}
	// Someone else's rule survives.
	if _, err := p.ipt.EnsureChain(ipt.TableNAT, "OTHER"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ipt.EnsureRule(ipt.Append, ipt.TableNAT, ipt.ChainPostrouting, "-j", "OTHER"); err != nil {
		t.Fatal(err)
	}
	_, ctx := contextWithLogger(t)
	for i := 0; i < 2; i++ {
		if err := CleanupLeftovers(ctx, p.ipt); err != nil {
			t.Fatalf("Cleanup %d: %v", i+1, err)
		}
	}
	dump := p.ipt.Dump()
	if strings.Contains(dump, "KUBE-") {
		t.Errorf("Proxy chains or rules remain after cleanup:\n%s", dump)
	}
	if !strings.Contains(dump, "-A POSTROUTING -j OTHER\n") || !strings.Contains(dump, ":OTHER - ") {
		t.Errorf("Cleanup removed rules that are not the proxy's:\n%s", dump)
	}
}

func TestConntrackCleanup(t *testing.T) {
	dns := makeService("kube-system", "dns").ClusterIP("10.96.0.53").Port("dns", 53, udp).NodePort(30053).ExternalIPs("192.168.0.100").Obj()
	empty := makeSlice("kube-system", "dns", "dns-1").Port("dns", 5353, udp).Obj()
	p := newTestProxier(t)
	p.load([]*corev1.Service{dns}, []*discoveryv1.EndpointSlice{empty})
	if got := p.conntrack.Take(); len(got) != 0 {
		t.Errorf("Cleared %v for a Service without endpoints", got)
	}

	// From no endpoints to some: flows black-holed meanwhile go.
	two := makeSlice("kube-system", "dns", "dns-1").Port("dns", 5353, udp).Ready("10.244.0.53", "node1").Ready("10.244.1.53", "node2").Obj()
	p.OnEndpointSliceUpdate(empty, two)
	p.syncProxyRules()
	if diff := cmp.Diff([]string{"ip 10.96.0.53 UDP", "ip 192.168.0.100 UDP", "port 30053 UDP"}, p.conntrack.Take()); diff != "" {
		t.Errorf("Conntrack cleared for a newly active Service (-want +got):\n%s", diff)
	}

	// An endpoint goes: flows DNATed to it go.
	one := makeSlice("kube-system", "dns", "dns-1").Port("dns", 5353, udp).Ready("10.244.0.53", "node1").Obj()
	p.OnEndpointSliceUpdate(two, one)
	p.syncProxyRules()
	if diff := cmp.Diff([]string{"portnat 30053 -> 10.244.1.53 UDP", "nat 10.96.0.53 -> 10.244.1.53 UDP", "nat 192.168.0.100 -> 10.244.1.53 UDP"}, p.conntrack.Take()); diff != "" {
		t.Errorf("Conntrack cleared for a deleted endpoint (-want +got):\n%s", diff)
	}

	// An endpoint stops serving (terminating, not ready): same.
	stopping := makeSlice("kube-system", "dns", "dns-1").Port("dns", 5353, udp).Endpoint("10.244.0.53", "node1", false, false, true).Obj()
	p.OnEndpointSliceUpdate(one, stopping)
	p.syncProxyRules()
	if diff := cmp.Diff([]string{"portnat 30053 -> 10.244.0.53 UDP", "nat 10.96.0.53 -> 10.244.0.53 UDP", "nat 192.168.0.100 -> 10.244.0.53 UDP"}, p.conntrack.Take()); diff != "" {
		t.Errorf("Conntrack cleared for an endpoint that stopped serving (-want +got):\n%s", diff)
	}

	// The Service goes: flows to its cluster IP go.
	p.OnServiceDelete(dns)
	p.syncProxyRules()
	if diff := cmp.Diff([]string{"ip 10.96.0.53 UDP"}, p.conntrack.Take()); diff != "" {
		t.Errorf("Conntrack cleared for a deleted Service (-want +got):\n%s", diff)
	}

	// TCP is never touched.
	web := makeService("ns1", "web").ClusterIP("10.96.0.10").Port("", 80, tcp).Obj()
	p.OnServiceAdd(web)
	p.OnEndpointSliceAdd(makeSlice("ns1", "web", "web-1").Port("", 8080, tcp).Ready("10.244.0.5", "node1").Obj())
	p.syncProxyRules()
	p.OnServiceDelete(web)
	p.syncProxyRules()
	if got := p.conntrack.Take(); len(got) != 0 {
		t.Errorf("Cleared %v for a TCP Service", got)
	}
}

func TestNodeLabelsForceFullSync(t *testing.T) {
	p := newTestProxier(t)
	p.load(objects())
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: testNodeName, Labels: map[string]string{corev1.LabelTopologyZone: "zone-a"}}}
	p.OnNodeAdd(node)
	if !p.needFullSync {
		t.Error("New node labels did not ask for a full sync")
	}
	p.syncProxyRules()
	p.OnNodeUpdate(node, node.DeepCopy())
	if p.needFullSync {
		t.Error("Unchanged node labels asked for a full sync")
	}
	other := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node2", Labels: map[string]string{"x": "y"}}}
	p.OnNodeAdd(other)
	if p.needFullSync {
		t.Error("Another node's labels asked for a full sync")
	}
}

func TestLargeClusterDropsComments(t *testing.T) {
	svc := makeService("ns1", "big").ClusterIP("10.96.0.10").Port("", 80, tcp).Obj()
	b := makeSlice("ns1", "big", "big-1").Port("", 8080, tcp)
	for i := 0; i <= largeClusterEndpointsThreshold; i++ {
		b = b.Ready("10.245."+itoa(i/250)+"."+itoa(i%250+1), "node2")
	}
	p := newTestProxier(t)
	p.load([]*corev1.Service{svc}, []*discoveryv1.EndpointSlice{b.Obj()})
	data := p.ipt.LastRestore()
	for _, line := range bytes.Split(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("-A KUBE-SEP-")) && bytes.Contains(line, []byte("--comment")) {
			t.Fatalf("Endpoint rule with a comment in large cluster mode: %s", line)
		}
	}
}
