package iptables

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/klog/v2/ktesting"

	"github.com/strata-dev/strata/proxy/conntrack"
	"github.com/strata-dev/strata/proxy/internal/netnstest"
	"github.com/strata-dev/strata/proxy/ipt"
	"github.com/strata-dev/strata/proxy/sysctl"
)

// run runs a command, failing the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return netnstest.Run(t, name, args...)
}

// serveTCP answers every connection to addr with its name and then echoes
// lines back.
func serveTCP(t *testing.T, addr, name string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "%s\n", name)
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "%s %s\n", name, sc.Text())
				}
			}()
		}
	}()
}

// serveUDP echoes datagrams to addr, prefixed with name.
func serveUDP(t *testing.T, addr, name string) {
	t.Helper()
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteTo(append([]byte(name+" "), buf[:n]...), from)
		}
	}()
}

// dialGreeting connects to addr and returns the connection and its first
// line.
func dialGreeting(t *testing.T, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("Connecting to %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		c.Close()
		t.Fatalf("Reading from %s: %v", addr, err)
	}
	return c, r, strings.TrimSpace(line)
}

func udpRoundTrip(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("UDP to %s: %v", addr, err)
	}
	return string(buf[:n])
}

func saveAll(t *testing.T) string {
	t.Helper()
	return run(t, "iptables-save")
}

// TestRealIPTablesInNetns programs a network namespace's real iptables
// (nf_tables backend on Debian) with a proxier and checks the chains exist
// and that Services answer: a cluster IP, node ports on the node address and
// on localhost, UDP; then that a restarted proxier keeps an established
// connection, that every golden rule set is accepted by the real
// iptables-restore, and that cleanup removes everything.
func TestRealIPTablesInNetns(t *testing.T) {
	if !netnstest.Enter(t, "iptables", "iptables-save", "iptables-restore") {
		return
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The node is 192.168.0.2; the pods are 10.244.0.5 and .6; all
	// on lo, with the Service range routed there.
	for _, a := range []string{"192.168.0.2/32", "10.244.0.5/32", "10.244.0.6/32"} {
		run(t, "ip", "addr", "add", a, "dev", "lo")
	}
	run(t, "ip", "route", "add", "10.96.0.0/16", "dev", "lo")
	serveTCP(t, "10.244.0.5:8080", "pod-a")
	serveTCP(t, "10.244.0.6:8080", "pod-b")
	serveUDP(t, "10.244.0.5:5353", "dns-a")

	runner, err := ipt.New(corev1.IPv4Protocol)
	if err != nil {
		t.Fatal(err)
	}
	newProxier := func() *Proxier {
		detector, _ := NewLocalTrafficDetector(corev1.IPv4Protocol, []string{"10.244.0.0/16"})
		p, err := New(ctx, Config{
			IPTables:           runner,
			Conntrack:          conntrack.NewExec(ktesting.NewLogger(t, ktesting.NewConfig())),
			Sysctl:             sysctl.New(),
			NodeName:           testNodeName,
			NodeIPs:            []net.IP{net.ParseIP("192.168.0.2")},
			LocalDetector:      detector,
			LocalhostNodePorts: true,
			MinSyncPeriod:      time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	services := []*corev1.Service{
		makeService("ns1", "web").ClusterIP("10.96.0.10").Port("http", 80, tcp).NodePort(30080).Obj(),
		makeService("kube-system", "dns").ClusterIP("10.96.0.53").Port("dns", 53, udp).Obj(),
		makeService("ns1", "empty").ClusterIP("10.96.0.11").Port("", 80, tcp).Obj(),
	}
	webA := makeSlice("ns1", "web", "web-1").Port("http", 8080, tcp).Ready("10.244.0.5", testNodeName).Obj()
	slices := []*discoveryv1.EndpointSlice{
		webA,
		makeSlice("kube-system", "dns", "dns-1").Port("dns", 5353, udp).Ready("10.244.0.5", testNodeName).Obj(),
	}
	feed := func(p *Proxier) {
		for _, s := range services {
			p.OnServiceAdd(s)
		}
		for _, s := range slices {
			p.OnEndpointSliceAdd(s)
		}
		p.OnServiceSynced()
		p.OnEndpointSlicesSynced()
	}

	p := newProxier()
	feed(p)
	if v, err := sysctl.New().Get(sysctlRouteLocalnet); err != nil || v != 1 {
		t.Errorf("route_localnet = %d, %v; want 1", v, err)
	}
	saved := saveAll(t)
	for _, want := range []string{
		":KUBE-SERVICES", ":KUBE-NODEPORTS", ":KUBE-POSTROUTING", ":KUBE-MARK-MASQ",
		":KUBE-EXTERNAL-SERVICES", ":KUBE-FORWARD", ":KUBE-FIREWALL",
		":" + string(clusterPolicyChain("ns1/web:http", "tcp")),
		":" + string(externalChain("ns1/web:http", "tcp")),
		":" + string(endpointChain("ns1/web:http", "tcp", "10.244.0.5:8080")),
		":" + string(clusterPolicyChain("kube-system/dns:dns", "udp")),
		"-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
		"-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
		"-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
		"--probability", // none: one endpoint each; checked below
	} {
		if want == "--probability" {
			if strings.Contains(saved, want) {
				t.Errorf("Random balancing with a single endpoint:\n%s", saved)
			}
			continue
		}
		if !strings.Contains(saved, want) {
			t.Errorf("iptables-save lacks %q:\n%s", want, saved)
		}
	}
	if !strings.Contains(saved, `-A KUBE-SERVICES -d 10.96.0.11/32 -p tcp -m comment --comment "ns1/empty has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`) {
		t.Errorf("No REJECT rule for the Service without endpoints:\n%s", saved)
	}

	// The Services answer.
	for _, addr := range []string{"10.96.0.10:80", "192.168.0.2:30080", "127.0.0.1:30080"} {
		c, _, got := dialGreeting(t, addr)
		c.Close()
		if got != "pod-a" {
			t.Errorf("%s answered %q, want pod-a", addr, got)
		}
	}
	if got := udpRoundTrip(t, "10.96.0.53:53", "query"); got != "dns-a query" {
		t.Errorf("UDP Service answered %q", got)
	}
	// No endpoints: the connection fails, rejected by the filter rule.
	// (The ICMP error does not come back through lo in this namespace,
	// so the dial times out; the rule's counter shows the rejection.)
	if c, err := net.DialTimeout("tcp", "10.96.0.11:80", time.Second); err == nil {
		c.Close()
		t.Error("Connected to a Service without endpoints")
	}
	if !rejected(run(t, "iptables-save", "-c", "-t", "filter"), "ns1/empty has no endpoints") {
		t.Errorf("The REJECT rule of the Service without endpoints matched nothing:\n%s", run(t, "iptables-save", "-c", "-t", "filter"))
	}

	// An established connection survives a restart: a new proxier with
	// an empty state rewrites the rules in one restore.
	conn, r, _ := dialGreeting(t, "10.96.0.10:80")
	defer conn.Close()
	cancel()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	p = newProxier()
	feed(p)
	if _, err := fmt.Fprintln(conn, "still there"); err != nil {
		t.Fatalf("Writing on the established connection after the restart: %v", err)
	}
	if line, err := r.ReadString('\n'); err != nil || strings.TrimSpace(line) != "pod-a still there" {
		t.Errorf("Established connection after the restart read %q, %v", line, err)
	}
	if got := saveAll(t); !sameRules(saved, got) {
		t.Errorf("Rules after the restart differ:\nbefore:\n%s\nafter:\n%s", saved, got)
	}

	// A partial sync: a second endpoint, through the runner.
	go p.Run(ctx)
	webAB := makeSlice("ns1", "web", "web-1").Port("http", 8080, tcp).Ready("10.244.0.5", testNodeName).Ready("10.244.0.6", testNodeName).Obj()
	p.OnEndpointSliceUpdate(webA, webAB)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(saveAll(t), "--probability 0.5") {
		if time.Now().After(deadline) {
			t.Fatalf("The second endpoint never showed up:\n%s", saveAll(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[string]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		c, _, got := dialGreeting(t, "10.96.0.10:80")
		c.Close()
		seen[got] = true
	}
	if !seen["pod-a"] || !seen["pod-b"] {
		t.Errorf("Connections reached %v, want both pods", seen)
	}
	cancel()

	// conntrack, if installed, runs here without error.
	if _, err := exec.LookPath("conntrack"); err == nil {
		ct := conntrack.NewExec(ktesting.NewLogger(t, ktesting.NewConfig()))
		if err := ct.ClearEntriesForIP("10.96.0.53", corev1.ProtocolUDP); err != nil {
			t.Errorf("conntrack: %v", err)
		}
		if err := ct.ClearEntriesForNAT("10.96.0.53", "10.244.0.9", corev1.ProtocolUDP); err != nil {
			t.Errorf("conntrack: %v", err)
		}
	}

	// Cleanup removes all of it, and twice is fine.
	_, cctx := ktesting.NewTestContext(t)
	for i := 0; i < 2; i++ {
		if err := CleanupLeftovers(cctx, runner); err != nil {
			t.Fatalf("Cleanup %d: %v", i+1, err)
		}
	}
	if got := saveAll(t); strings.Contains(got, "KUBE-") {
		t.Errorf("Proxy rules remain after cleanup:\n%s", got)
	}
}

// rejected reports whether the rule with comment in `iptables-save -c`
// output counted packets.
func rejected(saved, comment string) bool {
	for _, l := range strings.Split(saved, "\n") {
		if strings.Contains(l, comment) && strings.Contains(l, "REJECT") && !strings.HasPrefix(l, "[0:") {
			return true
		}
	}
	return false
}

// sameRules compares iptables-save outputs without comments and counters.
func sameRules(a, b string) bool {
	norm := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "#") {
				continue
			}
			if i := strings.Index(l, " ["); strings.HasPrefix(l, ":") && i > 0 {
				l = l[:i]
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	return norm(a) == norm(b)
}

// TestGoldenRulesInNetns feeds every golden rule set to the real
// iptables-restore (ip6tables-restore for IPv6), in a network namespace.
func TestGoldenRulesInNetns(t *testing.T) {
	if !netnstest.Enter(t, "iptables", "iptables-save", "iptables-restore") {
		return
	}
	for _, tc := range goldenCases {
		family := corev1.IPv4Protocol
		if tc.name == "ipv6" {
			family = corev1.IPv6Protocol
		}
		runner, err := ipt.New(family)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join("testdata", tc.name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.Restore(data, ipt.NoFlushTables, ipt.RestoreCounters); err != nil {
			if tc.name == "sctp" {
				// The sctp match needs the xt_sctp module.
				t.Logf("SCTP rules not accepted (no sctp support in this kernel?): %v", err)
				continue
			}
			var lines []string
			var rerr *ipt.RestoreError
			if errors.As(err, &rerr) && rerr.Line > 0 {
				lines = ipt.ExtractLines(data, rerr.Line, 2)
			}
			t.Errorf("%s: %v\n%s", tc.name, err, strings.Join(lines, "\n"))
		}
	}
}
