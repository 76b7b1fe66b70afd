package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The proxy phase's network namespaces and pod network. The pod network is
// a /24 of the cluster CIDR the synthetic endpoints are not in, on a bridge
// in the node's namespace, as the bridge CNI plugin makes it.
const (
	proxySyncNetns = "strata-bench-proxy-sync"
	proxyNodeNetns = "strata-bench-proxy-node"
	proxyPodNetns  = "strata-bench-proxy-pod"
	proxyBridge    = "cbr0"
	proxyNodeVeth  = "veth-pod"
	proxyBridgeIP  = "10.244.255.1"
	proxyPodIP     = "10.244.255.2"
	// proxyNodeIP2 is the node's second address on the bridge, the
	// source of the load generator's connections to the pod IP.
	proxyNodeIP2   = "10.244.255.3"
	proxyPodPrefix = 24
	// proxyServiceCIDR is routed to the bridge in the node's namespace,
	// as a node's default route would take it.
	proxyServiceCIDR = "10.96.0.0/12"
)

// proxyTools are the commands the proxy phase runs.
var proxyTools = []string{"ip", "iptables", "iptables-save", "iptables-restore"}

// proxyResult is what the proxy phase measured.
type proxyResult struct {
	// skipped says why the phase did not run, if it did not.
	skipped string
	// clients and load shape the data path cells.
	clients int
	load    time.Duration
	// backends are the iptables variants measured, the system's first.
	backends []iptablesBackend
	syncs    []proxySyncRun
	data     []dataPathRun
}

// dataPathRun is the data path test on one iptables variant.
type dataPathRun struct {
	backend string
	// target is the index of the Service whose endpoint is the pod.
	target  int
	configs []dataPathConfig
}

// proxySyncRun is the sync test of one Service count on one iptables
// variant.
type proxySyncRun struct {
	backend  string
	services int
	// skipped says why this count was not measured, if it was not.
	skipped string
	result  proxySyncResult
}

// iptablesBackend is one variant of iptables on this machine.
type iptablesBackend struct {
	// mode is nf_tables or legacy; version is `iptables --version`.
	mode, version string
	// system is the variant `iptables` runs here.
	system bool
	// path is the PATH of the children measuring it: the system's, or
	// with a directory first whose iptables, iptables-save and
	// iptables-restore are this variant.
	path string
}

// iptablesMode returns the mode `iptables --version` prints in
// parentheses ("iptables v1.8.9 (nf_tables)"), or "".
func iptablesMode(version string) string {
	_, rest, ok := strings.Cut(version, "(")
	if !ok {
		return ""
	}
	mode, _, ok := strings.Cut(rest, ")")
	if !ok {
		return ""
	}
	return strings.TrimSpace(mode)
}

// iptablesSuffix is the suffix of the commands of a mode: iptables-nft,
// iptables-legacy.
var iptablesSuffix = map[string]string{"nf_tables": "nft", "legacy": "legacy"}

// detectBackends returns the system's iptables, and the other variant of
// Debian's iptables package (iptables-nft or iptables-legacy) when it is
// installed, its commands linked under dir.
func detectBackends(ctx context.Context, dir string) ([]iptablesBackend, error) {
	out, err := exec.CommandContext(ctx, "iptables", "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("iptables --version: %w", err)
	}
	system := iptablesBackend{version: strings.TrimSpace(string(out)), system: true, path: os.Getenv("PATH")}
	system.mode = iptablesMode(system.version)
	backends := []iptablesBackend{system}
	if iptablesSuffix[system.mode] == "" {
		// Not Debian's iptables with its two variants.
		return backends, nil
	}
	for mode, suffix := range iptablesSuffix {
		if mode == system.mode {
			continue
		}
		bin := filepath.Join(dir, "iptables-"+suffix)
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return nil, err
		}
		linked := true
		for _, cmd := range []string{"iptables", "iptables-save", "iptables-restore"} {
			target, err := exec.LookPath(strings.Replace(cmd, "iptables", "iptables-"+suffix, 1))
			if err != nil {
				linked = false
				break
			}
			link := filepath.Join(bin, cmd)
			_ = os.Remove(link)
			if err := os.Symlink(target, link); err != nil {
				return nil, err
			}
		}
		if !linked {
			continue
		}
		out, err := exec.CommandContext(ctx, filepath.Join(bin, "iptables"), "--version").Output()
		if err != nil {
			return nil, fmt.Errorf("%s --version: %w", filepath.Join(bin, "iptables"), err)
		}
		backends = append(backends, iptablesBackend{mode: mode, version: strings.TrimSpace(string(out)), path: bin + ":" + os.Getenv("PATH")})
	}
	return backends, nil
}

// proxyUnavailable says why the proxy phase cannot run here, or "".
func proxyUnavailable() string {
	if os.Geteuid() != 0 {
		return "it creates network namespaces and programs iptables in them, which needs root"
	}
	for _, tool := range proxyTools {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("%s is not installed (`make deps` installs iptables and iproute2)", tool)
		}
	}
	return ""
}

// benchProxy measures the service proxy in network namespaces of its own:
// the sync times of a proxier (proxy/iptables) with thousands of Services
// on the real iptables-restore (of the system's iptables, and of its other
// variant when installed), then HTTP through a cluster IP against the same
// pod reached directly.
func benchProxy(ctx context.Context, c *config, dir string) (r proxyResult, err error) {
	r.clients, r.load = c.proxyClients, c.proxyLoad
	if why := proxyUnavailable(); why != "" {
		r.skipped = why
		progressf("SKIPPING the proxy phase: %s", why)
		return r, nil
	}
	parentNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return r, fmt.Errorf("reading this process' network namespace: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	if r.backends, err = detectBackends(ctx, dir); err != nil {
		return r, err
	}
	baseEnv := append(os.Environ(), proxyParentNetnsEnv+"="+parentNS, proxyStartEnv+"="+strconv.FormatInt(progressStart.UnixNano(), 10))
	envOf := func(b iptablesBackend) []string { return append(slices.Clone(baseEnv), "PATH="+b.path) }

	// The data path uses the largest Service count each variant synced
	// within the limit.
	largest := map[string]int{}
	for _, b := range r.backends {
		var done []proxySyncRun
		for _, n := range c.proxyServices {
			run := proxySyncRun{backend: b.mode, services: n}
			if predicted, k := predictFirstSync(done, n); predicted > c.proxySyncLimit {
				run.skipped = fmt.Sprintf("its first sync would take about %s (growing as n^%.1f), over -proxy-sync-limit %s", fmtDuration(predicted), k, c.proxySyncLimit)
				progressf("proxy syncs on %s with %s Services: skipped, %s", b.version, fmtCount(n), run.skipped)
				r.syncs = append(r.syncs, run)
				continue
			}
			progressf("proxy syncs on %s with %s Services of %d endpoints, in network namespace %s", b.version, fmtCount(n), proxyEndpoints, proxySyncNetns)
			err := withNetns(ctx, []string{proxySyncNetns}, func() error {
				spec := proxySyncSpec{Services: n, FullSyncs: c.proxySyncs, PartialSyncs: 2 * c.proxySyncs, Limit: c.proxySyncLimit}
				return runInNetns(ctx, proxySyncNetns, self, envOf(b), roleSync, spec, &run.result)
			})
			if err != nil {
				return r, fmt.Errorf("%s, %d Services: %w", b.mode, n, err)
			}
			r.syncs = append(r.syncs, run)
			done = append(done, run)
			if run.result.First.Total <= c.proxySyncLimit {
				largest[b.mode] = n
			}
		}
	}

	// The system's iptables with the Service alone and among the largest
	// count; the other variant only if it synced a larger count, among
	// that many.
	for _, b := range r.backends {
		n := largest[b.mode]
		run := dataPathRun{backend: b.mode, target: n / 2}
		spec := proxyDataSpec{
			Target: n / 2, PodIP: proxyPodIP, NodeIP: proxyBridgeIP,
			ClusterSource: proxyBridgeIP, PodSource: proxyNodeIP2,
			Load: c.proxyLoad, Clients: c.proxyClients,
		}
		switch {
		case b.system:
			spec.Services = []int{1}
			if n > 1 {
				spec.Services = append(spec.Services, n)
			}
		case n > largest[r.backends[0].mode]:
			spec.Services = []int{n}
		default:
			continue
		}
		progressf("proxy data path on %s: a pod in %s behind a bridge of %s, its Service among %v", b.version, proxyPodNetns, proxyNodeNetns, spec.Services)
		err = withNetns(ctx, []string{proxyNodeNetns, proxyPodNetns}, func() error {
			if err := setUpPodNetwork(ctx); err != nil {
				return err
			}
			server, err := startPod(ctx, self, envOf(b))
			if err != nil {
				return err
			}
			defer server.stop()
			return runInNetns(ctx, proxyNodeNetns, self, envOf(b), roleDataPath, spec, &run.configs)
		})
		if err != nil {
			return r, fmt.Errorf("%s data path: %w", b.mode, err)
		}
		r.data = append(r.data, run)
	}
	return r, nil
}

// withNetns creates the named network namespaces (removing leftovers of an
// earlier run first), runs f, and removes them whatever happens: with them
// go every interface and iptables rule made inside.
func withNetns(ctx context.Context, names []string, f func() error) (err error) {
	defer func() {
		for _, name := range names {
			if rerr := ipCommand(context.WithoutCancel(ctx), "netns", "delete", name); rerr != nil && netnsExists(name) {
				err = errors.Join(err, fmt.Errorf("removing network namespace %s (remove it with `ip netns delete %s`): %w", name, name, rerr))
			}
		}
	}()
	for _, name := range names {
		if netnsExists(name) {
			progressf("removing network namespace %s left by an earlier run", name)
			if err := ipCommand(ctx, "netns", "delete", name); err != nil {
				return err
			}
		}
		if err := ipCommand(ctx, "netns", "add", name); err != nil {
			return err
		}
		if err := ipCommand(ctx, "-n", name, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	return f()
}

func netnsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// ipCommand runs `ip args...`.
func ipCommand(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// setUpPodNetwork connects the pod's namespace to a bridge in the node's
// with a veth pair, and routes the Service range to the bridge.
func setUpPodNetwork(ctx context.Context) error {
	node, pod := proxyNodeNetns, proxyPodNetns
	prefix := "/" + strconv.Itoa(proxyPodPrefix)
	for _, args := range [][]string{
		{"-n", node, "link", "add", proxyBridge, "type", "bridge"},
		{"-n", node, "addr", "add", proxyBridgeIP + prefix, "dev", proxyBridge},
		{"-n", node, "addr", "add", proxyNodeIP2 + prefix, "dev", proxyBridge},
		{"-n", node, "link", "set", proxyBridge, "up"},
		{"-n", node, "link", "add", proxyNodeVeth, "type", "veth", "peer", "name", "eth0", "netns", pod},
		{"-n", node, "link", "set", proxyNodeVeth, "master", proxyBridge},
		{"-n", node, "link", "set", proxyNodeVeth, "up"},
		{"-n", pod, "addr", "add", proxyPodIP + prefix, "dev", "eth0"},
		{"-n", pod, "link", "set", "eth0", "up"},
		{"-n", pod, "route", "add", "default", "via", proxyBridgeIP},
		{"-n", node, "route", "add", proxyServiceCIDR, "dev", proxyBridge},
	} {
		if err := ipCommand(ctx, args...); err != nil {
			return fmt.Errorf("setting up the pod network: %w", err)
		}
	}
	return nil
}

// childCommand is the benchmark binary re-executed in a network namespace
// in role.
func childCommand(ctx context.Context, netns, self string, env []string, role string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", netns, self)
	cmd.Env = append(env, proxyRoleEnv+"="+role)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// runInNetns runs role in netns with spec on its stdin and decodes its
// stdout into result.
func runInNetns(ctx context.Context, netns, self string, env []string, role string, spec, result any) error {
	in, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	cmd := childCommand(ctx, netns, self, env, role)
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the %s run in network namespace %s failed (its errors are above): %w", role, netns, err)
	}
	if err := json.Unmarshal(out.Bytes(), result); err != nil {
		return fmt.Errorf("reading the %s run's result: %w: %q", role, err, out.String())
	}
	return nil
}

// podServer is the pod's HTTP server, running in the pod's namespace.
type podServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startPod starts the pod's HTTP server and waits until it listens.
func startPod(ctx context.Context, self string, env []string) (*podServer, error) {
	cmd := childCommand(ctx, proxyPodNetns, self, append(env, fmt.Sprintf("%s=%s:%d", proxyListenEnv, proxyPodIP, proxyTargetPort)), roleServe)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the pod's HTTP server: %w", err)
	}
	s := &podServer{cmd: cmd, stdin: stdin}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "ready" {
			err = fmt.Errorf("unexpected output %q", line)
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err = <-ready:
	case <-time.After(30 * time.Second):
		err = errors.New("not listening after 30s")
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("the pod's HTTP server: %w", err)
	}
	return s, nil
}

// stop closes the server's stdin, which ends it, and waits for it.
func (s *podServer) stop() {
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// proxySection reports the proxy phase.
func (r *results) proxySection(b *strings.Builder) {
	p := r.proxy
	if p == nil {
		return
	}
	fmt.Fprintf(b, "## Service proxy: sync time and data path\n\n")
	if p.skipped != "" {
		fmt.Fprintf(b, "**Skipped**: %s.\n\n", p.skipped)
		return
	}
	var variants []string
	for _, v := range p.backends {
		desc := "`" + v.version + "`"
		if v.system {
			desc += " (the system's `iptables`, which `strata proxy` would use)"
		} else {
			desc += " (the other variant of the same package, for comparison)"
		}
		variants = append(variants, desc)
	}
	fmt.Fprintf(b, "Strata's iptables proxier (`proxy/iptables`, compiled into the benchmark from the same tree) on the real `iptables-restore` of %s, in network namespaces the benchmark creates and removes: the machine's own rules are never touched. "+
		"It is configured as `strata proxy` by default (cluster CIDR %s, node ports on every local address and localhost) except for the rate limit (1 ms instead of 1 s between syncs), and driven only through its event handlers, as its informers drive it: no API server.\n\n",
		strings.Join(variants, " and "), proxyClusterCIDR)

	if len(p.syncs) > 0 {
		r.proxySyncSection(b)
	}
	if len(p.data) > 0 {
		r.proxyDataSection(b)
	}
}

// proxyDataSection reports the data path test.
func (r *results) proxyDataSection(b *strings.Builder) {
	p := r.proxy
	var among []string
	for _, d := range p.data {
		last := d.configs[len(d.configs)-1]
		if last.Services > 1 {
			among = append(among, fmt.Sprintf("as Service %d of %s on %s", d.target, fmtCount(last.Services), d.backend))
		}
	}
	fmt.Fprintf(b, "### Data path\n\n")
	fmt.Fprintf(b, "A *node* namespace with a bridge (%s/%d) and a *pod* namespace behind a veth pair (%s), whose HTTP server is the benchmark binary re-executed there (Go `net/http`, a %d-byte answer). "+
		"A new proxier in the node's namespace programs a Service whose only endpoint is the pod: alone, and among the largest count of Services its iptables synced within `-proxy-sync-limit` above (%s; the others are the sync test's, and the Service is in the middle of `KUBE-SERVICES`, which is sorted by name). "+
		"A load generator in the node's namespace (Go `net/http` and `net`) connects to the **cluster IP** (from %[7]s) and **directly to the pod IP** (from %[8]s), %[9]s each per mode, in %[10]d rounds with the order swapped every round. "+
		"Both sources are in the cluster CIDR, so not masqueraded, as from a pod; they differ so that the two targets' connections never share the pod's port space (a new connection on a port the other target's connection left in TIME_WAIT at the pod, with TCP timestamps of another offset, would wait a second for a SYN retransmission). "+
		"*keep-alive*: %[6]d clients send GET requests on reused connections; only a connection's first packet goes through the nat rules, conntrack translates the rest. "+
		"*new connection*: the same, but the server closes every connection after its answer, so each request pays a connection set-up and, through the cluster IP, a walk down `KUBE-SERVICES` to its DNAT; with %[6]d clients keeping the CPUs busy, ops/s shows what a request costs. "+
		"*TCP connect*: one client opens a connection and closes it at once, nothing else: its p50 is the latency of a set-up, walk included, without queueing. "+
		"Both targets go through the proxy's rules: the first packet of every connection leaving the node's namespace walks `KUBE-SERVICES` (from OUTPUT) until a rule matches, for the cluster IP down to its Service's DNAT, for the pod IP, which no rule matches, to the end. "+
		"So the *1 Service* rows are the baseline without the rules' cost, and the pod IP is no baseline when there are many Services.\n\n",
		proxyBridgeIP, proxyPodPrefix, proxyPodIP, len(proxyPodBody), strings.Join(among, ", "),
		p.clients, proxyBridgeIP, proxyNodeIP2, p.load, proxyLoadRounds)
	fmt.Fprintf(b, "| iptables | Services | Rules in the kernel | Mode | Cluster IP ops/s | Pod IP ops/s | Ratio ops/s | Cluster IP p50 | Pod IP p50 | Ratio p50 | Errors |\n")
	fmt.Fprintf(b, "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, run := range p.data {
		for _, d := range run.configs {
			for _, cell := range d.Cells {
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n",
					run.backend, fmtCount(d.Services), fmtCount(totalRules(d.Kernel)), fmt.Sprintf("%s, %d client(s)", cell.Mode, cell.Clients),
					fmtRate(cell.Cluster.rate()), fmtRate(cell.Pod.rate()), fmtRatio(cell.Cluster.rate(), cell.Pod.rate()),
					fmtDuration(cell.Cluster.P50), fmtDuration(cell.Pod.P50), fmtRatio(float64(cell.Cluster.P50), float64(cell.Pod.P50)),
					cell.Cluster.failures()+cell.Pod.failures())
			}
		}
	}
	fmt.Fprintln(b)
}

// proxySyncSection reports the sync test.
func (r *results) proxySyncSection(b *strings.Builder) {
	p, c := r.proxy, r.config
	fmt.Fprintf(b, "### Sync time\n\n")
	fmt.Fprintf(b, "ClusterIP Services of one TCP port, each with an EndpointSlice of %d ready endpoints on another node, are fed to a new proxier; marking its informers synced runs the **first sync** (nothing in the kernel yet). "+
		"Then up to %d **full syncs** (a change of the node's labels asks for one: every chain rewritten, the jumps from the built-in chains checked) and %d **partial syncs** (one endpoint added to one Service, or removed again: only that Service's chains and the top-level ones rewritten). "+
		"Each is timed from the event handler call to the proxier reporting the sync done; in parentheses the `iptables-restore` within it, the rest being the rules computed from the change trackers and, on full syncs, the `iptables` commands that check the jumps (and, at most every 30 s, an `iptables-save` looking for stale chains). "+
		"*Rules written* counts the `-A` lines of one restore. To bound the run (`-proxy-sync-limit` %s), full syncs are repeated only as often as that fits (none after a longer first sync: the ratio is then to the first sync), and a count whose first sync would take longer, predicted from the smaller counts, is not measured.\n\n",
		proxyEndpoints, c.proxySyncs, 2*c.proxySyncs, c.proxySyncLimit)
	fmt.Fprintf(b, "| iptables | Services | Endpoints | Rules in the kernel (nat + filter) | First sync | Full syncs | Full sync p50 | Full max | Partial sync p50 | Partial max | Rules written full / partial | Partial / full p50 |\n")
	fmt.Fprintf(b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	total := func(t syncTiming) time.Duration { return t.Total }
	restore := func(t syncTiming) time.Duration { return t.Restore }
	written := func(t syncTiming) time.Duration { return time.Duration(t.Written) }
	withRestore := func(total, restore time.Duration) string {
		return fmt.Sprintf("%s (%s)", fmtDuration(total), fmtDuration(restore))
	}
	for _, run := range p.syncs {
		if run.skipped != "" {
			fmt.Fprintf(b, "| %s | %s | not measured: %s | | | | | | | | | |\n", run.backend, fmtCount(run.services), run.skipped)
			continue
		}
		s := run.result
		full, partial := timingSample(s.Full, total), timingSample(s.Partial, total)
		fullCol, fullMax, fullWritten := "–", "–", s.First.Written
		base, ratioNote := s.First.Total, " of the first"
		if len(s.Full) > 0 {
			fullCol = withRestore(full.quantile(0.5), timingSample(s.Full, restore).quantile(0.5))
			fullMax = fmtDuration(full.quantile(1))
			fullWritten = int(timingSample(s.Full, written).quantile(0.5))
			base, ratioNote = full.quantile(0.5), ""
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s + %s | %s | %d | %s | %s | %s | %s | %s / %s | %s%s |\n",
			run.backend, fmtCount(s.Services), fmtCount(s.Endpoints), fmtCount(s.Kernel["nat"].Rules), fmtCount(s.Kernel["filter"].Rules),
			withRestore(s.First.Total, s.First.Restore), len(s.Full), fullCol, fullMax,
			withRestore(partial.quantile(0.5), timingSample(s.Partial, restore).quantile(0.5)), fmtDuration(partial.quantile(1)),
			fmtCount(fullWritten), fmtCount(int(timingSample(s.Partial, written).quantile(0.5))),
			fmtRatio(float64(partial.quantile(0.5)), float64(base)), ratioNote)
	}
	fmt.Fprintln(b)
	fmt.Fprintf(b, "Where the time of a sync goes (median of each part, so the parts need not add up to the median total): `iptables-restore`; the other `iptables` commands (on full syncs the jump checks, one `iptables` process each; now and then an `iptables-save`); and the rest, the proxier's own work (applying the tracked changes and writing the rules):\n\n")
	fmt.Fprintf(b, "| iptables | Services | Sync | Total | iptables-restore | Other iptables commands | Proxier |\n|---|---:|---|---:|---:|---:|---:|\n")
	commands := func(t syncTiming) time.Duration { return t.Commands }
	rest := func(t syncTiming) time.Duration { return t.Total - t.Restore - t.Commands }
	for _, run := range p.syncs {
		if run.skipped != "" {
			continue
		}
		for _, kind := range []struct {
			name string
			ts   []syncTiming
		}{{"first", []syncTiming{run.result.First}}, {"full", run.result.Full}, {"partial", run.result.Partial}} {
			if len(kind.ts) == 0 {
				continue
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", run.backend, fmtCount(run.services), kind.name,
				fmtDuration(timingSample(kind.ts, total).quantile(0.5)), fmtDuration(timingSample(kind.ts, restore).quantile(0.5)),
				fmtDuration(timingSample(kind.ts, commands).quantile(0.5)), fmtDuration(timingSample(kind.ts, rest).quantile(0.5)))
		}
	}
	fmt.Fprintln(b)
	if lines := growthLines(p.syncs); len(lines) > 0 {
		fmt.Fprintf(b, "How the first sync grows with the Service count n (t ∝ n^k between two counts; 1 is linear):\n\n%s\n\n", strings.Join(lines, "\n"))
	}
}

// predictFirstSync predicts the first sync of n Services from the runs
// before (measured, ascending counts of one variant): the last one scaled
// by (n/its count)^k, k the growth between the last two, at least 1
// (linear). Zero without runs.
func predictFirstSync(runs []proxySyncRun, n int) (time.Duration, float64) {
	if len(runs) == 0 {
		return 0, 0
	}
	last := runs[len(runs)-1]
	k := 1.0
	if len(runs) > 1 {
		prev := runs[len(runs)-2]
		k = max(k, growthExponent(prev.services, last.services, prev.result.First.Total, last.result.First.Total))
	}
	scale := math.Pow(float64(n)/float64(last.services), k)
	return time.Duration(float64(last.result.First.Total) * scale), k
}

// growthLines describes, per iptables variant, how the first sync's time
// grew between consecutive measured Service counts.
func growthLines(runs []proxySyncRun) []string {
	var lines []string
	for i := 1; i < len(runs); i++ {
		a, b := runs[i-1], runs[i]
		if a.backend != b.backend || a.skipped != "" || b.skipped != "" {
			continue
		}
		k := growthExponent(a.services, b.services, a.result.First.Total, b.result.First.Total)
		lines = append(lines, fmt.Sprintf("- %s, %s → %s Services: %s → %s, k = %.1f",
			a.backend, fmtCount(a.services), fmtCount(b.services),
			fmtDuration(a.result.First.Total), fmtDuration(b.result.First.Total), k))
	}
	return lines
}

// growthExponent is k such that t2/t1 = (n2/n1)^k, or 0 when it is not
// defined.
func growthExponent(n1, n2 int, t1, t2 time.Duration) float64 {
	if n1 <= 0 || n2 <= 0 || n1 == n2 || t1 <= 0 || t2 <= 0 {
		return 0
	}
	return math.Log(float64(t2)/float64(t1)) / math.Log(float64(n2)/float64(n1))
}

// iptablesVersion is `iptables --version`, e.g. "iptables v1.8.9
// (nf_tables)".
func iptablesVersion() string {
	out, err := exec.Command("iptables", "--version").Output()
	if err != nil {
		return "iptables"
	}
	return strings.TrimSpace(string(out))
}
