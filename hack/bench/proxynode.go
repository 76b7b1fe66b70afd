package main

// The proxy phase's work inside network namespaces: the benchmark binary
// re-executes itself under `ip netns exec` with proxyRoleEnv set, and runs
// one of the roles below instead of main. It reads its spec as JSON on
// stdin, writes its result as JSON on stdout and progress on stderr.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"github.com/strata-dev/strata/proxy/conntrack"
	"github.com/strata-dev/strata/proxy/ipt"
	proxyiptables "github.com/strata-dev/strata/proxy/iptables"
	"github.com/strata-dev/strata/proxy/sysctl"
)

const (
	// proxyRoleEnv selects the role of a re-executed benchmark binary.
	proxyRoleEnv = "STRATA_BENCH_PROXY_ROLE"
	// proxyParentNetnsEnv is the parent's network namespace, which a
	// child refuses to program.
	proxyParentNetnsEnv = "STRATA_BENCH_PROXY_PARENT_NETNS"
	// proxyStartEnv is when the parent started (Unix nanoseconds), so
	// that the progress lines of both count from the same instant.
	proxyStartEnv = "STRATA_BENCH_PROXY_START"
	// proxyListenEnv is the address the serve role listens on.
	proxyListenEnv = "STRATA_BENCH_PROXY_LISTEN"

	roleSync     = "sync"
	roleDataPath = "datapath"
	roleServe    = "serve"

	// proxyPodBody is what the pod's HTTP server answers.
	proxyPodBody = "strata-bench-pod\n"
	// proxySyncTimeout bounds the wait for one sync.
	proxySyncTimeout = 3 * time.Minute
	// proxyLoadRounds is how many rounds of alternating targets a data
	// path cell is measured in.
	proxyLoadRounds = 8
)

// proxyChildMain runs role in the network namespace the parent put this
// process in, and returns the exit code.
func proxyChildMain(role string) int {
	if ns, err := strconv.ParseInt(os.Getenv(proxyStartEnv), 10, 64); err == nil {
		progressStart = time.Unix(0, ns)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runProxyChild(ctx, role); err != nil {
		fmt.Fprintf(os.Stderr, "bench (proxy %s in its network namespace): %v\n", role, err)
		return 1
	}
	return 0
}

func runProxyChild(ctx context.Context, role string) error {
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return fmt.Errorf("reading the network namespace: %w", err)
	}
	if parent := os.Getenv(proxyParentNetnsEnv); parent == "" || parent == ns {
		return fmt.Errorf("still in the parent's network namespace %s: refusing to touch its iptables", ns)
	}
	switch role {
	case roleServe:
		return servePod(ctx, os.Getenv(proxyListenEnv))
	case roleSync:
		return serveRole(ctx, measureSyncs)
	case roleDataPath:
		return serveRole(ctx, measureDataPath)
	default:
		return fmt.Errorf("unknown role %q", role)
	}
}

// timedIPTables is the proxier's iptables interface on the real runner,
// timing what goes through it: iptables-restore apart from the other
// commands (chain and jump checks, iptables-save). A failed restore or
// chain setup, which fails the sync, is reported on failed.
type timedIPTables struct {
	ipt.Interface

	mu       sync.Mutex
	restore  time.Duration
	commands time.Duration
	written  int
	failed   chan error
}

func newTimedIPTables(inner ipt.Interface) *timedIPTables {
	return &timedIPTables{Interface: inner, failed: make(chan error, 1)}
}

func (t *timedIPTables) observe(start time.Time, restore bool, err error, fatal bool) {
	d := time.Since(start)
	t.mu.Lock()
	if restore {
		t.restore += d
	} else {
		t.commands += d
	}
	t.mu.Unlock()
	if err != nil && fatal {
		select {
		case t.failed <- err:
		default:
		}
	}
}

// take returns what was timed since the last take and starts over.
func (t *timedIPTables) take() (restore, commands time.Duration, written int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	restore, commands, written = t.restore, t.commands, t.written
	t.restore, t.commands, t.written = 0, 0, 0
	return restore, commands, written
}

func (t *timedIPTables) EnsureChain(table ipt.Table, chain ipt.Chain) (bool, error) {
	start := time.Now()
	ok, err := t.Interface.EnsureChain(table, chain)
	t.observe(start, false, err, true)
	return ok, err
}

func (t *timedIPTables) ChainExists(table ipt.Table, chain ipt.Chain) (bool, error) {
	start := time.Now()
	ok, err := t.Interface.ChainExists(table, chain)
	t.observe(start, false, err, false)
	return ok, err
}

func (t *timedIPTables) EnsureRule(pos ipt.RulePosition, table ipt.Table, chain ipt.Chain, args ...string) (bool, error) {
	start := time.Now()
	ok, err := t.Interface.EnsureRule(pos, table, chain, args...)
	t.observe(start, false, err, true)
	return ok, err
}

func (t *timedIPTables) SaveInto(table ipt.Table, buf *bytes.Buffer) error {
	start := time.Now()
	err := t.Interface.SaveInto(table, buf)
	t.observe(start, false, err, false)
	return err
}

func (t *timedIPTables) Restore(data []byte, flush ipt.FlushFlag, counters ipt.CounterFlag) error {
	start := time.Now()
	err := t.Interface.Restore(data, flush, counters)
	t.mu.Lock()
	t.written += totalRules(countRules(data))
	t.mu.Unlock()
	t.observe(start, true, err, true)
	return err
}

// syncHook hears the proxier's completed syncs (it is the proxier's
// health updater).
type syncHook struct{ done chan struct{} }

func newSyncHook() *syncHook { return &syncHook{done: make(chan struct{}, 1)} }

func (h *syncHook) QueuedUpdate(corev1.IPFamily) {}

func (h *syncHook) Updated(corev1.IPFamily) {
	select {
	case h.done <- struct{}{}:
	default:
	}
}

// benchProxier is a Proxier on this network namespace's real iptables,
// configured as `strata proxy` configures it by default.
type benchProxier struct {
	*proxyiptables.Proxier
	ipt  *timedIPTables
	hook *syncHook
}

func newBenchProxier(ctx context.Context, nodeIP string) (*benchProxier, error) {
	runner, err := ipt.New(corev1.IPv4Protocol)
	if err != nil {
		return nil, err
	}
	detector, err := proxyiptables.NewLocalTrafficDetector(corev1.IPv4Protocol, []string{proxyClusterCIDR})
	if err != nil {
		return nil, err
	}
	b := &benchProxier{ipt: newTimedIPTables(runner), hook: newSyncHook()}
	logger := klog.FromContext(ctx)
	b.Proxier, err = proxyiptables.New(ctx, proxyiptables.Config{
		Family:             corev1.IPv4Protocol,
		IPTables:           b.ipt,
		Conntrack:          conntrack.NewExec(logger),
		Sysctl:             sysctl.New(),
		NodeName:           proxyNodeName,
		NodeIPs:            []net.IP{net.ParseIP(nodeIP)},
		LocalDetector:      detector,
		LocalhostNodePorts: true,
		// Syncs as fast as asked: what is timed is the sync itself,
		// not the rate limit (1s by default).
		MinSyncPeriod: time.Millisecond,
		Health:        b.hook,
	})
	return b, err
}

// syncTiming is one timed sync.
type syncTiming struct {
	// Total is from the event handler call to the sync's end.
	Total time.Duration `json:"total"`
	// Restore is the iptables-restore of the sync; Commands the other
	// iptables commands (chain and jump checks, iptables-save).
	Restore  time.Duration `json:"restore"`
	Commands time.Duration `json:"commands"`
	// Written counts the rules in the restore input.
	Written int `json:"written"`
}

// measure times trigger and the sync it causes, until the proxier reports
// it done.
func (b *benchProxier) measure(ctx context.Context, trigger func()) (syncTiming, error) {
	b.ipt.take()
	select {
	case <-b.hook.done:
	default:
	}
	start := time.Now()
	trigger()
	timer := time.NewTimer(proxySyncTimeout)
	defer timer.Stop()
	select {
	case <-b.hook.done:
	case err := <-b.ipt.failed:
		return syncTiming{}, fmt.Errorf("the sync failed: %w", err)
	case <-timer.C:
		return syncTiming{}, fmt.Errorf("no sync ended within %s", proxySyncTimeout)
	case <-ctx.Done():
		return syncTiming{}, ctx.Err()
	}
	t := syncTiming{Total: time.Since(start)}
	t.Restore, t.Commands, t.Written = b.ipt.take()
	return t, nil
}

// load feeds services (and their slices) to the handlers of a proxier that
// has not synced yet and times the first sync, which marking both informers
// synced runs.
func (b *benchProxier) load(ctx context.Context, services []*corev1.Service, endpointSlices []*discoveryv1.EndpointSlice) (syncTiming, error) {
	return b.measure(ctx, func() {
		for _, s := range services {
			b.OnServiceAdd(s)
		}
		for _, s := range endpointSlices {
			b.OnEndpointSliceAdd(s)
		}
		b.OnServiceSynced()
		b.OnEndpointSlicesSynced()
	})
}

// kernelRules counts the rules iptables-save shows in the nat and filter
// tables.
func kernelRules() (map[string]tableCount, error) {
	runner, err := ipt.New(corev1.IPv4Protocol)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, t := range []ipt.Table{ipt.TableNAT, ipt.TableFilter} {
		if err := runner.SaveInto(t, &buf); err != nil {
			return nil, err
		}
	}
	return countRules(buf.Bytes()), nil
}

// proxySyncSpec is what a sync child measures.
type proxySyncSpec struct {
	Services     int `json:"services"`
	FullSyncs    int `json:"fullSyncs"`
	PartialSyncs int `json:"partialSyncs"`
	// Limit bounds the time of the full syncs (each about as long as
	// the first).
	Limit time.Duration `json:"limit"`
}

// proxySyncResult is what a sync child measured.
type proxySyncResult struct {
	Services  int `json:"services"`
	Endpoints int `json:"endpoints"`
	// First is the first sync of a new proxier, with nothing in the
	// kernel yet.
	First syncTiming `json:"first"`
	// Full are full syncs with the rules in place (the node's labels
	// changed), Partial syncs after one endpoint of one Service was
	// added or removed.
	Full    []syncTiming `json:"full"`
	Partial []syncTiming `json:"partial"`
	// Kernel counts the rules in the kernel after the first sync (later,
	// stale chains of removed endpoints may linger until the proxier's
	// next look for them, at most every 30 s with this many endpoints).
	Kernel map[string]tableCount `json:"kernel"`
}

// measureSyncs times a proxier's first sync of spec.Services Services,
// then full and partial syncs, driven through its event handlers.
func measureSyncs(ctx context.Context, spec proxySyncSpec) (r proxySyncResult, err error) {
	ctx, cancel := context.WithCancel(klog.NewContext(ctx, childLogger()))
	defer cancel()
	n := spec.Services
	r.Services, r.Endpoints = n, n*proxyEndpoints
	services := make([]*corev1.Service, n)
	endpointSlices := make([]*discoveryv1.EndpointSlice, n)
	for i := range n {
		services[i] = proxyService(i)
		endpointSlices[i] = proxySlice(i, proxyTargetPort, proxyEndpointsOf(i, proxyEndpoints)...)
	}
	p, err := newBenchProxier(ctx, "192.168.0.2")
	if err != nil {
		return r, err
	}
	if r.First, err = p.load(ctx, services, endpointSlices); err != nil {
		return r, fmt.Errorf("first sync of %d Services: %w", n, err)
	}
	progressf("  %s Services: first sync %s (iptables-restore %s, %s rules)", fmtCount(n), fmtDuration(r.First.Total), fmtDuration(r.First.Restore), fmtCount(r.First.Written))
	if r.Kernel, err = kernelRules(); err != nil {
		return r, err
	}

	go p.Run(ctx)
	// Run reports the proxier healthy and its monitor creates the canary
	// chains; let that pass before timing.
	if err := waitCanaries(ctx); err != nil {
		return r, err
	}

	fullSyncs := fullSyncsWithin(spec.FullSyncs, r.First.Total, spec.Limit)
	if fullSyncs < spec.FullSyncs {
		progressf("  %s Services: %d full syncs of about %s fit in %s", fmtCount(n), fullSyncs, fmtDuration(r.First.Total), spec.Limit)
	}
	for i := range fullSyncs {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: proxyNodeName, Labels: map[string]string{"bench.strata.dev/sync": strconv.Itoa(i)}}}
		t, err := p.measure(ctx, func() { p.OnNodeUpdate(nil, node) })
		if err != nil {
			return r, fmt.Errorf("full sync %d of %d Services: %w", i+1, n, err)
		}
		r.Full = append(r.Full, t)
	}
	if len(r.Full) > 0 {
		full := timingSample(r.Full, func(t syncTiming) time.Duration { return t.Total })
		progressf("  %s Services: %d full syncs, p50 %s", fmtCount(n), len(r.Full), fmtDuration(full.quantile(0.5)))
	}

	for k := range spec.PartialSyncs {
		i := partialTarget(k, n)
		old, changed := endpointSlices[i], proxySlice(i, proxyTargetPort, proxyEndpointsOf(i, proxyEndpoints+1)...)
		if k%2 == 1 {
			old, changed = changed, endpointSlices[i]
		}
		t, err := p.measure(ctx, func() { p.OnEndpointSliceUpdate(old, changed) })
		if err != nil {
			return r, fmt.Errorf("partial sync %d of %d Services: %w", k+1, n, err)
		}
		r.Partial = append(r.Partial, t)
	}
	partial := timingSample(r.Partial, func(t syncTiming) time.Duration { return t.Total })
	progressf("  %s Services: %d partial syncs, p50 %s", fmtCount(n), len(r.Partial), fmtDuration(partial.quantile(0.5)))

	return r, nil
}

// fullSyncsWithin is how many of want full syncs, each about as long as
// the first sync, fit in limit.
func fullSyncsWithin(want int, first, limit time.Duration) int {
	if first <= 0 {
		return want
	}
	return min(want, int(limit/first))
}

// waitCanaries waits for the proxier's monitor to have created its canary
// chains.
func waitCanaries(ctx context.Context) error {
	runner, err := ipt.New(corev1.IPv4Protocol)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		ok, err := runner.ChainExists(ipt.TableFilter, "KUBE-PROXY-CANARY")
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the proxier's canary chain did not appear within a minute (%v)", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// childLogger logs the proxier's messages of level 0 (warnings, failed
// syncs) on stderr.
func childLogger() klog.Logger {
	return textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(0), textlogger.Output(os.Stderr)))
}

// timingSample turns timings into a sample of the durations f picks.
func timingSample(ts []syncTiming, f func(syncTiming) time.Duration) sample {
	s := sample{}
	for _, t := range ts {
		s.latencies = append(s.latencies, f(t))
		s.elapsed += f(t)
	}
	slices.Sort(s.latencies)
	return s
}

// proxyDataSpec is what the data path child measures.
type proxyDataSpec struct {
	// Services are the sizes of the proxier's state: the target Service
	// alone, or among others (Services 0 to n-1, the target their
	// middle one).
	Services []int `json:"services"`
	// Target is the index of the Service whose endpoint is the pod.
	Target int    `json:"target"`
	PodIP  string `json:"podIP"`
	NodeIP string `json:"nodeIP"`
	// ClusterSource and PodSource are the node's addresses the load
	// generator connects from to the cluster IP and to the pod IP: two,
	// so that the two targets' connections never share the pod's port
	// space.
	ClusterSource string `json:"clusterSource"`
	PodSource     string `json:"podSource"`
	// Load is how long each target is loaded per connection mode, in
	// proxyLoadRounds rounds with the targets in alternating order.
	Load    time.Duration `json:"load"`
	Clients int           `json:"clients"`
}

// loadSummary is one load cell's outcome.
type loadSummary struct {
	Requests int            `json:"requests"`
	Elapsed  time.Duration  `json:"elapsed"`
	P50      time.Duration  `json:"p50"`
	P99      time.Duration  `json:"p99"`
	Errors   map[string]int `json:"errors,omitempty"`
}

func summarize(s sample) loadSummary {
	return loadSummary{Requests: len(s.latencies), Elapsed: s.elapsed, P50: s.quantile(0.5), P99: s.quantile(0.99), Errors: s.errors}
}

func (l loadSummary) rate() float64 {
	return sample{latencies: make([]time.Duration, l.Requests), elapsed: l.Elapsed}.rate()
}

func (l loadSummary) failures() int { return sample{errors: l.Errors}.failures() }

// The data path's connection modes.
const (
	// modeKeepAlive: HTTP requests on reused connections.
	modeKeepAlive = "keep-alive"
	// modeNewConnection: an HTTP request per connection, which the
	// server closes after its answer.
	modeNewConnection = "new connection"
	// modeConnect: TCP connections opened and closed at once by one
	// client: the latency of a connection set-up alone.
	modeConnect = "TCP connect"
)

// dataPathModes are the modes measured, in order.
var dataPathModes = []string{modeKeepAlive, modeNewConnection, modeConnect}

// dataPathCell compares the cluster IP with the pod IP in one connection
// mode.
type dataPathCell struct {
	Mode    string      `json:"mode"`
	Clients int         `json:"clients"`
	Cluster loadSummary `json:"cluster"`
	Pod     loadSummary `json:"pod"`
}

// dataPathTarget is where the load generator connects to, and from.
type dataPathTarget struct {
	name, addr, source string
}

// dataPathConfig is one size of the proxier's state and its cells.
type dataPathConfig struct {
	Services  int                   `json:"services"`
	ClusterIP string                `json:"clusterIP"`
	Kernel    map[string]tableCount `json:"kernel"`
	Cells     []dataPathCell        `json:"cells"`
}

// measureDataPath programs the target Service (alone, then among others)
// with a proxier and loads the pod's HTTP server through its cluster IP
// and directly.
func measureDataPath(ctx context.Context, spec proxyDataSpec) ([]dataPathConfig, error) {
	ctx = klog.NewContext(ctx, childLogger())
	// Per network namespace: many short connections need ports.
	for path, value := range map[string]string{
		"/proc/sys/net/ipv4/ip_local_port_range": "1024 65535",
		"/proc/sys/net/ipv4/tcp_tw_reuse":        "1",
	} {
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			return nil, fmt.Errorf("setting %s in the node's network namespace: %w", path, err)
		}
	}
	var out []dataPathConfig
	for _, n := range spec.Services {
		cfg, err := measureDataPathConfig(ctx, spec, n)
		if err != nil {
			return out, err
		}
		out = append(out, cfg)
	}
	return out, nil
}

func measureDataPathConfig(ctx context.Context, spec proxyDataSpec, n int) (dataPathConfig, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := dataPathConfig{Services: n, ClusterIP: proxyClusterIP(spec.Target)}
	var services []*corev1.Service
	var endpointSlices []*discoveryv1.EndpointSlice
	for i := range n {
		if n == 1 {
			i = spec.Target
		}
		services = append(services, proxyService(i))
		if i == spec.Target {
			endpointSlices = append(endpointSlices, proxySlice(i, proxyTargetPort, spec.PodIP))
		} else {
			endpointSlices = append(endpointSlices, proxySlice(i, proxyTargetPort, proxyEndpointsOf(i, proxyEndpoints)...))
		}
	}
	// A new proxier, as after a restart: its first sync rewrites every
	// chain of the proxy in one restore.
	p, err := newBenchProxier(ctx, spec.NodeIP)
	if err != nil {
		return cfg, err
	}
	if _, err := p.load(ctx, services, endpointSlices); err != nil {
		return cfg, fmt.Errorf("syncing %d Services: %w", n, err)
	}
	if cfg.Kernel, err = kernelRules(); err != nil {
		return cfg, err
	}

	targets := []dataPathTarget{
		{"cluster IP", net.JoinHostPort(cfg.ClusterIP, strconv.Itoa(proxyPort)), spec.ClusterSource},
		{"pod IP", net.JoinHostPort(spec.PodIP, strconv.Itoa(proxyTargetPort)), spec.PodSource},
	}
	for _, t := range targets {
		if err := checkPod(ctx, t); err != nil {
			return cfg, fmt.Errorf("the pod does not answer through its %s: %w", t.name, err)
		}
	}
	for _, mode := range dataPathModes {
		cell := dataPathCell{Mode: mode, Clients: spec.Clients}
		if mode == modeConnect {
			cell.Clients = 1
		}
		samples := make([]sample, len(targets))
		// Rounds with the targets in alternating order (ABBA…), so that
		// a drift of the machine's load weighs on both alike.
		for round := range proxyLoadRounds {
			for k := range targets {
				idx := (k + round) % len(targets)
				op, done := loadOp(mode, targets[idx], cell.Clients)
				s := runLoad(ctx, cell.Clients, spec.Load/proxyLoadRounds, op)
				done()
				samples[idx] = mergeSamples(samples[idx], s)
			}
		}
		cell.Cluster, cell.Pod = summarize(samples[0]), summarize(samples[1])
		cfg.Cells = append(cfg.Cells, cell)
		progressf("  %s Service(s), %s: cluster IP %s, pod IP %s", fmtCount(n), mode, samples[0].summary(), samples[1].summary())
		if ctx.Err() != nil {
			return cfg, ctx.Err()
		}
	}
	return cfg, nil
}

// dialerFrom dials from the local address source.
func dialerFrom(source string) *net.Dialer {
	return &net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
}

// checkPod fetches / from t once and checks the pod answered.
func checkPod(ctx context.Context, t dataPathTarget) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DialContext: dialerFrom(t.source).DialContext}}
	url := "http://" + t.addr + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != proxyPodBody {
		return fmt.Errorf("GET %s answered %s %q, want 200 %q", url, resp.Status, body, proxyPodBody)
	}
	return nil
}

// loadOp returns the operation a cell of mode repeats against t, and what
// to call once the cell is done.
func loadOp(mode string, t dataPathTarget, clients int) (op func(context.Context) error, done func()) {
	dialer := dialerFrom(t.source)
	if mode == modeConnect {
		return func(ctx context.Context) error {
			c, err := dialer.DialContext(ctx, "tcp", t.addr)
			if err != nil {
				return err
			}
			return c.Close()
		}, func() {}
	}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		DisableKeepAlives:   mode == modeNewConnection,
		MaxIdleConnsPerHost: clients,
	}
	client := &http.Client{Transport: transport, Timeout: 5 * time.Second}
	url := "http://" + t.addr + "/"
	return func(ctx context.Context) error { return get(ctx, client, url) }, transport.CloseIdleConnections
}

// runLoad runs op from clients goroutines for d, each one after the
// previous one's end, and samples their latencies.
func runLoad(ctx context.Context, clients int, d time.Duration, op func(context.Context) error) sample {
	results := make([]sample, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range clients {
		wg.Go(func() {
			s := sample{errors: map[string]int{}}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(ctx); err != nil {
					s.errors[err.Error()]++
					continue
				}
				s.latencies = append(s.latencies, time.Since(t0))
			}
			results[w] = s
		})
	}
	wg.Wait()
	out := sample{}
	for _, s := range results {
		out = mergeSamples(out, s)
	}
	out.elapsed = time.Since(start)
	return out
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return err
}

// mergeSamples returns the operations of a and b as one sample: latencies
// sorted, errors added, elapsed times added (the samples were taken one
// after the other).
func mergeSamples(a, b sample) sample {
	out := sample{
		latencies: slices.Sorted(slices.Values(slices.Concat(a.latencies, b.latencies))),
		elapsed:   a.elapsed + b.elapsed,
	}
	for _, errs := range []map[string]int{a.errors, b.errors} {
		for msg, n := range errs {
			if out.errors == nil {
				out.errors = map[string]int{}
			}
			out.errors[msg] += n
		}
	}
	return out
}

// servePod is the pod: an HTTP server on addr answering proxyPodBody, until
// stdin closes (the parent is done) or ctx ends. It prints "ready" once it
// listens.
func servePod(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, proxyPodBody)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		_ = srv.Close()
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Println("ready")
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveRole reads a child's spec from stdin, measures, and writes the
// result to stdout, both as JSON.
func serveRole[S, R any](ctx context.Context, measure func(context.Context, S) (R, error)) error {
	var spec S
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		return fmt.Errorf("reading the spec: %w", err)
	}
	r, err := measure(ctx, spec)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
