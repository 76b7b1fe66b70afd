// Command bench measures a Strata nucleus on the machine it runs on: startup
// time, request latency and throughput for ConfigMaps and Pods, the raw etcd
// put latency of the same disk as a floor for writes, memory per stored
// object, scheduling and the apps layer on simulated nodes, the real
// kubelet: pod start latency against the CRI floor and its memory (a phase
// that needs root and containerd, and skips itself without them), and the
// service proxy (proxy.go): the iptables proxier's full and partial sync
// times at thousands of Services on the real iptables-restore (of both
// iptables variants when installed), and HTTP and TCP connects through a
// cluster IP against the same pod's IP, all in network namespaces the
// phase creates and removes (root and iptables; it skips itself without
// them), and `strata up` of a whole cluster with its layers: its stages
// cold, resumed and again, and the memory of every process (root and
// containerd). For the proxy phase the benchmark re-executes itself under `ip netns
// exec` (proxynode.go). It writes a Markdown report (docs/benchmarks.md by
// default) and prints progress on stderr.
//
// Run it from the repository root after `make build images`:
//
//	go run ./hack/bench                                  # full run, a few minutes
//	go run ./hack/bench -quick                           # fewer iterations, to check it works
//	go run ./hack/bench -quick -phases kubelet -out /tmp/bench.md   # one phase
//	go run ./hack/bench -phases proxy -out /tmp/proxy.md            # the proxy, about 3 minutes
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config holds the flags.
type config struct {
	bin         string
	out         string
	workDir     string
	quick       bool
	startups    int
	ops         int
	cellLimit   time.Duration
	listSize    int
	memObjects  int
	valueSize   int
	settle      time.Duration
	concurrency []int
	scenarios   []schedScenario
	apps        appsScenario
	crdDir      string
	imagesDir   string
	chartsDir   string
	// kubeletPods are started one at a time, then in batches of
	// kubeletBatch.
	kubeletPods, kubeletBatch int
	// proxyServices are the Service counts of the proxy phase's sync
	// test, ascending; proxySyncs the full syncs timed at each (and twice
	// as many partial ones); proxyLoad the duration of one data path cell
	// and proxyClients its concurrent clients.
	proxyServices []int
	proxySyncs    int
	// proxySyncLimit bounds the proxy phase's syncs: Service counts whose
	// first sync is predicted to take longer are skipped, and full syncs
	// are repeated only as often as fits.
	proxySyncLimit time.Duration
	proxyLoad      time.Duration
	proxyClients   int
	phases         map[string]bool
}

// quickDefaults are the values -quick gives flags not set explicitly.
var quickDefaults = map[string]string{
	"startups":       "2",
	"ops":            "100",
	"cell-limit":     "3s",
	"mem-objects":    "1000",
	"settle":         "2s",
	"scheduling":     "200/20",
	"apps":           "100/10",
	"kubelet-pods":   "5",
	"kubelet-batch":  "5",
	"proxy-services": "1000",
	"proxy-syncs":    "2",
	"proxy-load":     "1s",
}

func parseFlags() (*config, error) {
	c := &config{}
	flag.StringVar(&c.bin, "bin", "bin/strata", "The strata binary to measure (built by `make build`).")
	flag.StringVar(&c.out, "out", "docs/benchmarks.md", "Where to write the Markdown report.")
	flag.StringVar(&c.workDir, "work-dir", "", "Directory for the data dirs of the nucleus and the etcd floor (default: a new temporary directory, removed afterwards).")
	flag.BoolVar(&c.quick, "quick", false, "Shrink the run to check that it works: "+quickSummary()+".")
	flag.IntVar(&c.startups, "startups", 5, "Startups to time, each on a fresh data dir and again on the existing one.")
	flag.IntVar(&c.ops, "ops", 1000, "Operations per latency cell (kind × operation × clients).")
	flag.DurationVar(&c.cellLimit, "cell-limit", 10*time.Second, "Time limit of one latency cell; a cell stops early when it is reached.")
	flag.IntVar(&c.listSize, "list-size", 100, "Objects in the namespace that get and list read.")
	flag.IntVar(&c.memObjects, "mem-objects", 10000, "Objects to store for the memory measurement.")
	flag.IntVar(&c.valueSize, "value-size", 1024, "Value size in bytes of the etcd floor's puts.")
	flag.DurationVar(&c.settle, "settle", 5*time.Second, "Wait before reading the nucleus' memory.")
	clients := flag.String("clients", "1,10,50", "Concurrent clients of each latency cell, comma separated.")
	flag.String("scheduling", "1000/100,5000/1000", "Scheduling scenarios, pods/nodes, comma separated.")
	flag.String("apps", "1000/100", "Apps scenario: Deployment replicas/simulated nodes.")
	flag.StringVar(&c.crdDir, "crds", "config/crd/bases", "The CRDs of the apps layer.")
	flag.StringVar(&c.imagesDir, "images", "bin/images", "The image archives of `make images` (pause.tar, busybox.tar; strata.tar and coredns.tar too for the up phase), for the kubelet and up phases.")
	flag.StringVar(&c.chartsDir, "charts", "charts", "The layers' Helm charts (apps, dns), for the up phase.")
	flag.IntVar(&c.kubeletPods, "kubelet-pods", 50, "Pods the kubelet phase starts one at a time, then again in batches of -kubelet-batch (and as many containers directly through CRI).")
	flag.IntVar(&c.kubeletBatch, "kubelet-batch", 10, "Pods the kubelet phase creates concurrently in each batch.")
	proxyServices := flag.String("proxy-services", "1000,5000,10000", fmt.Sprintf("Service counts (each with %d endpoints) at which the proxy phase times syncs, comma separated; the largest is also the data path's.", proxyEndpoints))
	flag.IntVar(&c.proxySyncs, "proxy-syncs", 3, "Full syncs the proxy phase times at each Service count (and twice as many partial syncs).")
	flag.DurationVar(&c.proxySyncLimit, "proxy-sync-limit", 20*time.Second, "Bounds the proxy phase's syncs: a Service count whose first sync would take longer (predicted from the smaller counts) is skipped on that iptables variant, and full syncs are repeated only as often as fits.")
	flag.DurationVar(&c.proxyLoad, "proxy-load", 3*time.Second, "How long the proxy phase's data path loads each target (cluster IP, pod IP) per connection mode.")
	flag.IntVar(&c.proxyClients, "proxy-clients", 4, "Concurrent HTTP clients of the proxy phase's data path cells.")
	phases := flag.String("phases", "etcd floor,startup,requests,memory,scheduling,apps,kubelet,proxy,up", "Phases to run, comma separated.")
	flag.Parse()
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	if c.quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, value := range quickDefaults {
			if !set[name] {
				if err := flag.Set(name, value); err != nil {
					return nil, err
				}
			}
		}
	}
	var err error
	if c.scenarios, err = parseScenarios(flag.Lookup("scheduling").Value.String()); err != nil {
		return nil, err
	}
	if c.apps, err = parseAppsScenario(flag.Lookup("apps").Value.String()); err != nil {
		return nil, err
	}
	c.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		c.phases[strings.TrimSpace(p)] = true
	}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-clients: %q is not a positive number", s)
		}
		c.concurrency = append(c.concurrency, n)
	}
	if c.proxyServices, err = parseProxyServices(*proxyServices); err != nil {
		return nil, err
	}
	if c.proxySyncs < 1 || c.proxySyncLimit <= 0 || c.proxyLoad <= 0 || c.proxyClients < 1 {
		return nil, fmt.Errorf("-proxy-syncs, -proxy-sync-limit, -proxy-load and -proxy-clients must be positive")
	}
	if c.startups < 1 || c.ops < 1 || c.listSize < 1 || c.memObjects < 1 || c.valueSize < 1 || c.kubeletPods < 1 || c.kubeletBatch < 1 {
		return nil, fmt.Errorf("-startups, -ops, -list-size, -mem-objects, -value-size, -kubelet-pods and -kubelet-batch must be positive")
	}
	return c, nil
}

func quickSummary() string {
	var parts []string
	for _, name := range []string{"startups", "ops", "cell-limit", "mem-objects", "settle", "scheduling", "apps", "kubelet-pods", "kubelet-batch", "proxy-services", "proxy-syncs", "proxy-load"} {
		parts = append(parts, "-"+name+" "+quickDefaults[name])
	}
	return strings.Join(parts, ", ")
}

// invocation is the command that produced this run, as the report states it.
func invocation() string {
	cmd := "go run ./hack/bench"
	for _, a := range os.Args[1:] {
		cmd += " " + shellQuote(a)
	}
	if os.Getenv("MAKELEVEL") != "" {
		return "`make bench`, which ran `" + cmd + "`"
	}
	return "`" + cmd + "`"
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func main() {
	if role := os.Getenv(proxyRoleEnv); role != "" {
		// Re-executed by the proxy phase in a network namespace.
		os.Exit(proxyChildMain(role))
	}
	c, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run measures every phase and writes the report.
func run(ctx context.Context, c *config) error {
	if _, err := os.Stat(c.bin); err != nil {
		return fmt.Errorf("%s not found: run `make build` first (or point -bin at a strata binary): %w", c.bin, err)
	}
	r := &results{command: invocation(), started: time.Now(), config: c}
	cpuBefore, err := readCPU()
	if err != nil {
		return err
	}
	if r.version, err = binaryVersion(ctx, c.bin); err != nil {
		return err
	}

	root := c.workDir
	if root == "" {
		if root, err = os.MkdirTemp("", "strata-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(root)
	} else if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if r.machine, err = describeMachine(root); err != nil {
		return err
	}
	progressf("measuring %s (%s) in %s on %s", c.bin, r.version.raw, root, r.machine.filesystem)

	phases := []struct {
		name string
		run  func() error
	}{
		{"etcd floor", func() (err error) {
			r.floor, err = benchEtcdFloor(ctx, c, filepath.Join(root, "etcd-floor"))
			return err
		}},
		{"startup", func() (err error) {
			r.startup, err = benchStartup(ctx, c, filepath.Join(root, "startup"))
			return err
		}},
		{"requests", func() (err error) {
			r.requests, err = benchRequests(ctx, c, filepath.Join(root, "requests"))
			return err
		}},
		{"memory", func() (err error) {
			r.memory, err = benchMemory(ctx, c, filepath.Join(root, "memory"))
			return err
		}},
		{"scheduling", func() (err error) {
			r.scheduler, err = benchScheduler(ctx, c, filepath.Join(root, "scheduling"))
			return err
		}},
		{"apps", func() error {
			a, err := benchApps(ctx, c, filepath.Join(root, "apps"))
			r.apps = &a
			return err
		}},
		{"kubelet", func() error {
			k, err := benchKubelet(ctx, c, filepath.Join(root, "kubelet"))
			r.kubelet = &k
			return err
		}},
		{"proxy", func() error {
			p, err := benchProxy(ctx, c, filepath.Join(root, "proxy"))
			r.proxy = &p
			return err
		}},
		{"up", func() error {
			u, err := benchUp(ctx, c, filepath.Join(root, "up"))
			r.up = &u
			return err
		}},
	}
	for _, p := range phases {
		if !c.phases[p.name] {
			continue
		}
		if err := phase(p.name, p.run); err != nil {
			return err
		}
	}

	r.elapsed = time.Since(r.started)
	cpuAfter, err := readCPU()
	if err != nil {
		return err
	}
	r.background = cpuAfter.otherShare(cpuBefore)
	if err := os.WriteFile(c.out, []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	progressf("wrote %s in %s; other processes used %.0f%% of the machine's CPU meanwhile", c.out, r.elapsed.Round(time.Second), 100*r.background)
	return nil
}

var progressStart = time.Now()

// progressf prints one progress line on stderr, stamped with the time since
// the program started.
func progressf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(progressStart).Seconds(), fmt.Sprintf(format, args...))
}

// phase runs f, announcing it and its duration on stderr.
func phase(name string, f func() error) error {
	progressf("== %s", name)
	start := time.Now()
	err := f()
	if err != nil {
		progressf("== %s failed after %s", name, time.Since(start).Round(time.Millisecond))
		return fmt.Errorf("%s: %w", name, err)
	}
	progressf("== %s done in %s", name, time.Since(start).Round(time.Millisecond))
	return nil
}
