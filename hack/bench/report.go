package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// noisyShare is the share of the machine's CPU used by other processes above
// which the report warns that its figures are noisy.
const noisyShare = 0.10

// results is everything one run measured.
type results struct {
	command    string
	started    time.Time
	elapsed    time.Duration
	config     *config
	machine    machineInfo
	version    versionInfo
	background float64
	floor      []cell
	startup    startupResult
	requests   []kindResult
	memory     memoryResult
	scheduler  []schedResult
	apps       *appsResult
	kubelet    *kubeletResult
	proxy      *proxyResult
	up         *upResult
}

// markdown renders the report.
func (r *results) markdown() string {
	var b strings.Builder
	r.header(&b)
	ran := r.config.phases
	if ran["startup"] {
		r.startupSection(&b)
	}
	if ran["requests"] {
		r.requestSection(&b)
	}
	if ran["etcd floor"] {
		r.floorSection(&b)
	}
	if ran["memory"] {
		r.memorySection(&b)
	}
	r.schedulerSection(&b)
	r.appsSection(&b)
	r.kubeletSection(&b)
	r.proxySection(&b)
	r.upSection(&b)
	r.errorSection(&b)
	return b.String()
}

func (r *results) header(b *strings.Builder) {
	c, m, v := r.config, r.machine, r.version
	fmt.Fprintf(b, "# Benchmarks\n\n")
	fmt.Fprintf(b, "Produced by %s on %s, in %s. Regenerate with `make build bench`; see `go run ./hack/bench -h` for the flags.\n\n",
		r.command, r.started.UTC().Format("2006-01-02 15:04 MST"), r.elapsed.Round(time.Second))
	fmt.Fprintf(b, "| | |\n|---|---|\n")
	cpu := fmt.Sprintf("%d CPUs", m.cpus)
	if m.cpuModel != "" {
		cpu += " (" + m.cpuModel + ")"
	}
	fmt.Fprintf(b, "| Machine | %s, %.1f GiB memory, Linux %s |\n", cpu, float64(m.memory)/(1<<30), m.kernel)
	fmt.Fprintf(b, "| Data dirs | on %s, the nucleus' and the etcd floor's alike |\n", m.filesystem)
	fmt.Fprintf(b, "| Go | %s (%s built with %s) |\n", m.goVersion, c.bin, v.goVersion)
	fmt.Fprintf(b, "| Strata | %s, serving Kubernetes %s (`%s version`: `%s`; binary of %s) |\n",
		v.strata, v.kubernetes, c.bin, v.raw, v.modified.UTC().Format("2006-01-02 15:04 MST"))
	mode := "full"
	if c.quick {
		mode = "`-quick`"
	}
	fmt.Fprintf(b, "| Run | %s: %d startups of each kind; %s operations or %s per latency cell; lists of %d objects; %s objects for memory; %d pods on the kubelet, in batches of %d |\n",
		mode, c.startups, fmtCount(c.ops), c.cellLimit, c.listSize, fmtCount(c.memObjects), c.kubeletPods, c.kubeletBatch)
	fmt.Fprintf(b, "| Background load | other processes used %.0f%% of the machine's CPU during the run; load average %s at the start |\n\n",
		100*r.background, m.loadavg)
	if r.background > noisyShare {
		fmt.Fprintf(b, "> **Noisy numbers.** Other processes (such as concurrent builds) used %.0f%% of the machine's CPU while this ran, so the figures are indicative, not precise: compare ratios, not absolute values.\n\n", 100*r.background)
	}
	if c.quick {
		fmt.Fprintf(b, "> **Quick run.** Few iterations: the percentiles, p99 above all, are rough.\n\n")
	}
}

func (r *results) startupSection(b *strings.Builder) {
	s := r.startup
	fmt.Fprintf(b, "## Startup\n\n")
	fmt.Fprintf(b, "Time from starting `strata nucleus` to `/readyz` answering 200 (polled every 10 ms), %d times each; a restart follows right after the fresh start that created its data.\n\n", len(s.fresh))
	fmt.Fprintf(b, "| | median | p90 |\n|---|---:|---:|\n")
	row := func(name string, ds []time.Duration) {
		median, p90 := medianP90(ds)
		fmt.Fprintf(b, "| %s | %s | %s |\n", name, fmtDuration(median), fmtDuration(p90))
	}
	row("Fresh data dir (creates the PKI and the etcd member)", s.fresh)
	row("Restart on existing data", s.restart)
	row("Stop (SIGTERM to exit)", s.stop)
	fmt.Fprintln(b)
}

func (r *results) requestSection(b *strings.Builder) {
	c := r.config
	fmt.Fprintf(b, "## Requests\n\n")
	fmt.Fprintf(b, "Against a running `strata nucleus` over HTTPS, with client-go clientsets speaking protobuf without client-side rate limiting, each client on its own connection. "+
		"`create` stores a new object; `get` reads one of %[1]d objects; `list` lists a namespace of %[1]d (ConfigMaps: plus the kube-root-ca.crt every namespace holds); "+
		"`watch` is the time from a create returning to the ADDED event reaching the creating client's watch (each client watches its own objects by label, and creates the next once it has seen the last); "+
		"near zero means the event had arrived before the create's response. "+
		"ConfigMaps carry 1 KiB of data; Pods have one container with a name and an image. "+
		"Each cell runs %[2]s operations or for %[3]s, whichever ends first; ops/s counts successful operations.\n\n",
		c.listSize, fmtCount(c.ops), c.cellLimit)
	fmt.Fprintf(b, "| Kind | Operation | Clients | p50 | p90 | p99 | ops/s | Errors |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, k := range r.requests {
		if k.notServed {
			fmt.Fprintf(b, "| %s | all | – | not served (404) | | | | |\n", k.kind)
			continue
		}
		for _, cl := range k.cells {
			s := cl.sample
			fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s | %d |\n", cl.kind, cl.op, cl.clients,
				fmtDuration(s.quantile(0.5)), fmtDuration(s.quantile(0.9)), fmtDuration(s.quantile(0.99)), fmtRate(s.rate()), s.failures())
		}
	}
	fmt.Fprintln(b)
}

func (r *results) floorSection(b *strings.Builder) {
	c := r.config
	fmt.Fprintf(b, "## Writes against the storage floor\n\n")
	var sizes []string
	for _, k := range r.requests {
		if !k.notServed {
			sizes = append(sizes, fmt.Sprintf("%s bytes for a %s", fmtCount(k.encodedSize), k.kind))
		}
	}
	fmt.Fprintf(b, "The floor is raw etcd Put latency, measured in the same run: an embedded etcd configured as the nucleus' own (`nucleus/etcd`) on the same filesystem, "+
		"%s-byte values (the benchmark's objects encode to %s in protobuf, as stored), all clients sharing one etcd client as the nucleus does.\n\n",
		fmtCount(c.valueSize), strings.Join(sizes, " and "))
	fmt.Fprintf(b, "| etcd put, clients | p50 | p90 | p99 | ops/s | Errors |\n|---:|---:|---:|---:|---:|---:|\n")
	floors := map[int]sample{}
	for _, f := range r.floor {
		floors[f.clients] = f.sample
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %d |\n", f.clients,
			fmtDuration(f.quantile(0.5)), fmtDuration(f.quantile(0.9)), fmtDuration(f.quantile(0.99)), fmtRate(f.rate()), f.failures())
	}
	fmt.Fprintf(b, "\nEach create figure as a multiple of the etcd put figure at the same concurrency (for ops/s, a fraction means the nucleus creates slower than etcd puts):\n\n")
	fmt.Fprintf(b, "| Kind | Clients | create p50 | create p90 | create p99 | create ops/s |\n|---|---:|---:|---:|---:|---:|\n")
	for _, k := range r.requests {
		for _, cl := range k.cells {
			floor, ok := floors[cl.clients]
			if cl.op != "create" || !ok {
				continue
			}
			q := func(p float64) string {
				v, f := cl.quantile(p), floor.quantile(p)
				return fmt.Sprintf("%s = %s", fmtDuration(v), fmtRatio(float64(v), float64(f)))
			}
			fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s = %s |\n", cl.kind, cl.clients, q(0.5), q(0.9), q(0.99),
				fmtRate(cl.rate()), fmtRatio(cl.rate(), floor.rate()))
		}
	}
	fmt.Fprintln(b)
}

func (r *results) memorySection(b *strings.Builder) {
	m := r.memory
	fmt.Fprintf(b, "## Memory\n\n")
	fmt.Fprintf(b, "Resident set size (`VmRSS`, peak `VmHWM`) of a fresh nucleus process, idle after startup and while %s %ss are stored with %d clients",
		fmtCount(r.config.memObjects), m.kind, memoryClients)
	if m.fallback {
		fmt.Fprintf(b, " (**ConfigMaps, because Pods were not served**)")
	}
	fmt.Fprintf(b, ". Settled readings are taken %s after the last write.\n\n", r.config.settle)
	fmt.Fprintf(b, "| %ss stored | RSS | peak RSS |\n|---:|---:|---:|\n", m.kind)
	for _, p := range m.points {
		note := ""
		if p.settled {
			note = fmt.Sprintf(" (settled %s)", r.config.settle)
		}
		fmt.Fprintf(b, "| %s%s | %s | %s |\n", fmtCount(p.objects), note, fmtBytes(p.rss), fmtBytes(p.peak))
	}
	fmt.Fprintf(b, "\nRSS grows by **%s per 1,000 %ss** (settled reading with %s stored minus the idle reading, per 1,000). "+
		"Storing them took %s: %s, create p50 %s, p99 %s.\n\n",
		fmtBytes(m.perThousand()), m.kind, fmtCount(m.full().objects),
		m.store.elapsed.Round(100*time.Millisecond), fmtRate(m.store.rate()), fmtDuration(m.store.quantile(0.5)), fmtDuration(m.store.quantile(0.99)))
}

// errorSection lists what failed, per cell, if anything did.
func (r *results) errorSection(b *strings.Builder) {
	var cells []cell
	cells = append(cells, r.floor...)
	for _, k := range r.requests {
		cells = append(cells, k.cells...)
	}
	var lines []string
	for _, cl := range cells {
		msgs := slices.SortedFunc(maps.Keys(cl.errors), func(a, b string) int {
			return cmp.Or(cl.errors[b]-cl.errors[a], strings.Compare(a, b))
		})
		const shown = 3
		for i, msg := range msgs {
			if i == shown {
				lines = append(lines, fmt.Sprintf("- %s %s ×%d: %d more distinct errors", cl.kind, cl.op, cl.clients, len(msgs)-shown))
				break
			}
			lines = append(lines, fmt.Sprintf("- %s %s ×%d: %d× `%s`", cl.kind, cl.op, cl.clients, cl.errors[msg], msg))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "## Errors\n\n%s\n", strings.Join(lines, "\n"))
}

// fmtCount prints n with thousands separators.
func fmtCount(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
