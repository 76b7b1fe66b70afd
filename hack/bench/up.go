package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
)

// The up phase's cluster: its own data dir (under the work dir), node name,
// pod network and ports, apart from `make up`'s (10.88.0.0/16 on strata0),
// the e2e suite's (10.89, 10.91) and the kubelet phase's (10.90 on
// strata-bench).
const (
	upNodeName = "strata-bench-up"
	upSubnet   = "10.92.0.0/16"
	upBridge   = "strata-benchup"
	// upProxyHealthz is the port `strata proxy` serves /healthz on, which
	// strata up does not change: another cluster's proxy holding it (and
	// its iptables chains, which have the same names) would spoil the run.
	upProxyHealthz = 10256
)

// upImages are the archives strata up needs for the node and both layers.
var upImages = []string{"pause.tar", "busybox.tar", "strata.tar", "coredns.tar"}

// upStage is one ✓ line of strata up.
type upStage struct {
	name, detail string
	took         time.Duration
}

// upRun is one run of a strata command: its stages and wall time.
type upRun struct {
	stages []upStage
	total  time.Duration
}

func (r upRun) stage(name string) (upStage, bool) {
	i := slices.IndexFunc(r.stages, func(s upStage) bool { return s.name == name })
	if i < 0 {
		return upStage{}, false
	}
	return r.stages[i], true
}

// procMemory is the resident memory of a kind of process.
type procMemory struct {
	name  string
	count int
	rss   int64
}

// upResult is what the up phase measured.
type upResult struct {
	skipped string
	// nucleusReady and nucleusRSS are the baseline: a bare `strata nucleus`
	// on a fresh data dir, from start to /readyz 200, and its RSS settled.
	nucleusReady time.Duration
	nucleusRSS   int64
	// cold is strata up on a fresh data dir; down the strata down after it;
	// resume strata up on the data it left; again strata up on the running
	// cluster.
	cold, down, resume, again upRun
	// daemons are Strata's processes, pods the processes of the pods'
	// containers, settled after the cold start.
	daemons, pods []procMemory
}

// upUnavailable says why the up phase cannot run here, or "".
func upUnavailable(c *config) string {
	if err := containerdenv.CheckHost(containerdenv.Config{}); err != nil {
		return fmt.Sprintf("containerd cannot run here: %v", err)
	}
	for _, image := range upImages {
		if _, err := os.Stat(filepath.Join(c.imagesDir, image)); err != nil {
			return fmt.Sprintf("no image archive %s (run `make images`, or point -images at them)", filepath.Join(c.imagesDir, image))
		}
	}
	for _, chart := range []string{"apps", "dns"} {
		if _, err := os.Stat(filepath.Join(c.chartsDir, chart, "Chart.yaml")); err != nil {
			return fmt.Sprintf("no chart %s in %s (run from the repository root, or point -charts at them)", chart, c.chartsDir)
		}
	}
	return ""
}

// benchUp times `strata up` of a whole cluster with its layers (apps, dns):
// cold on a fresh data dir, resumed after `strata down`, and again while it
// runs; and reads the memory of every process of the settled cluster. The
// baseline is a bare `strata nucleus` measured just before.
func benchUp(ctx context.Context, c *config, dir string) (r upResult, err error) {
	if why := upUnavailable(c); why != "" {
		r.skipped = why
		progressf("SKIPPING the up phase: %s", why)
		return r, nil
	}
	if l, err := net.Listen("tcp", fmt.Sprintf(":%d", upProxyHealthz)); err != nil {
		return r, fmt.Errorf("port %d (the service proxy's /healthz) is busy: another Strata cluster runs here; stop it (`make down`) first: %w", upProxyHealthz, err)
	} else {
		l.Close()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}

	// The baseline: a bare nucleus, its startup and its settled memory.
	n, err := startNucleus(ctx, c.bin, filepath.Join(dir, "nucleus"))
	if err != nil {
		return r, err
	}
	if r.nucleusReady, err = n.waitReady(ctx, 2*time.Minute); err != nil {
		n.stop()
		return r, err
	}
	if err := sleep(ctx, c.settle); err != nil {
		n.stop()
		return r, err
	}
	r.nucleusRSS, _, err = n.memory()
	if _, serr := n.stop(); err == nil {
		err = serr
	}
	if err != nil {
		return r, err
	}
	progressf("baseline: a bare nucleus is ready in %s, RSS %s settled", fmtDuration(r.nucleusReady), fmtBytes(r.nucleusRSS))

	port, err := freePort()
	if err != nil {
		return r, err
	}
	kubeletPort, err := freePort()
	if err != nil {
		return r, err
	}
	dataDir := filepath.Join(dir, "up")
	cluster := []string{"--data-dir", dataDir, "--pod-subnet", upSubnet, "--bridge", upBridge}
	up := append([]string{"up", "--secure-port", strconv.Itoa(port), "--kubelet-port", strconv.Itoa(kubeletPort),
		"--node-name", upNodeName, "--images-dir", c.imagesDir, "--charts-dir", c.chartsDir}, cluster...)
	// Whatever happens, the cluster goes: processes, containers, network,
	// the service proxy's rules and the data.
	defer func() {
		if _, rerr := runStrata(context.WithoutCancel(ctx), c.bin, append([]string{"reset"}, cluster...)...); rerr != nil {
			err = errors.Join(err, fmt.Errorf("strata reset: %w", rerr))
		}
	}()

	if r.cold, err = runStrata(ctx, c.bin, up...); err != nil {
		return r, fmt.Errorf("strata up on a fresh data dir: %w (logs in %s)", err, filepath.Join(dataDir, "logs"))
	}
	progressf("cold strata up: %s", r.cold.summary())
	if err := sleep(ctx, c.settle); err != nil {
		return r, err
	}
	if r.daemons, r.pods, err = clusterMemory(dataDir); err != nil {
		return r, err
	}
	for _, m := range append(slices.Clone(r.daemons), r.pods...) {
		progressf("memory: %-40s ×%d RSS %s", m.name, m.count, fmtBytes(m.rss))
	}
	if r.down, err = runStrata(ctx, c.bin, append([]string{"down"}, cluster...)...); err != nil {
		return r, fmt.Errorf("strata down: %w", err)
	}
	progressf("strata down: %s", r.down.summary())
	if r.resume, err = runStrata(ctx, c.bin, up...); err != nil {
		return r, fmt.Errorf("strata up on existing data: %w (logs in %s)", err, filepath.Join(dataDir, "logs"))
	}
	progressf("resumed strata up: %s", r.resume.summary())
	if r.again, err = runStrata(ctx, c.bin, up...); err != nil {
		return r, fmt.Errorf("strata up on the running cluster: %w", err)
	}
	progressf("strata up again while it runs: %s", r.again.summary())
	return r, nil
}

// runStrata runs a strata command to its end and reads its stages.
func runStrata(ctx context.Context, bin string, args ...string) (upRun, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := upRun{total: time.Since(start), stages: parseStages(out.String())}
	if err != nil {
		return r, fmt.Errorf("strata %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return r, nil
}

// stageLine is a finished stage as strata up, down and reset print it off a
// terminal: " ✓ Name: detail (1.2s)".
var stageLine = regexp.MustCompile(`^ ✓ ([^:(]+?)(?:: (.*))? \(([0-9.hms]+)\)$`)

// parseStages reads the finished stages of strata's output.
func parseStages(out string) []upStage {
	var stages []upStage
	for _, line := range strings.Split(out, "\n") {
		m := stageLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		took, err := time.ParseDuration(m[3])
		if err != nil {
			continue
		}
		stages = append(stages, upStage{name: m[1], detail: m[2], took: took})
	}
	return stages
}

func (r upRun) summary() string {
	var parts []string
	for _, s := range r.stages {
		parts = append(parts, fmt.Sprintf("%s %s", s.name, fmtDuration(s.took)))
	}
	return fmt.Sprintf("%s in all (%s)", fmtDuration(r.total), strings.Join(parts, ", "))
}

// process is a process of /proc.
type process struct {
	pid, ppid int
	cmdline   []string
}

func (p process) name() string {
	if len(p.cmdline) == 0 {
		return ""
	}
	return filepath.Base(p.cmdline[0])
}

// processes lists the processes of /proc.
func processes() (map[int]process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	procs := map[int]process{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(cmdline) == 0 {
			continue // gone, or a kernel thread
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		ppid, err := statPPID(string(stat))
		if err != nil {
			return nil, err
		}
		procs[pid] = process{pid: pid, ppid: ppid, cmdline: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")}
	}
	return procs, nil
}

// statPPID reads the parent's pid from /proc/<pid>/stat: "pid (comm) state
// ppid …", where comm may hold spaces and parentheses.
func statPPID(stat string) (int, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/<pid>/stat %q", stat)
	}
	fields := strings.Fields(stat[i+1:])
	if len(fields) < 2 {
		return 0, fmt.Errorf("malformed /proc/<pid>/stat %q", stat)
	}
	return strconv.Atoi(fields[1])
}

// podProcessKind names a process that a containerd shim of the cluster
// started: a container's main process, or the pod's pause.
func podProcessKind(p process) string {
	args := strings.Join(p.cmdline, " ")
	switch {
	case p.name() == "pause":
		return "pause (one per pod)"
	case strings.HasPrefix(args, "strata manager"):
		return "apps manager (`strata manager`, in its pod)"
	case p.name() == "coredns":
		return "CoreDNS (charts/dns)"
	}
	return p.name() + " (in a pod)"
}

// clusterMemory reads the RSS of the cluster's processes: Strata's daemons
// by their pid files, the containerd they run, the shims of that containerd
// (found by its socket on their command line) and the processes the shims
// started.
func clusterMemory(dataDir string) (daemons, pods []procMemory, err error) {
	procs, err := processes()
	if err != nil {
		return nil, nil, err
	}
	rssOf := func(pid int) (int64, error) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, err
		}
		return procStatusBytes(status, "VmRSS")
	}
	add := func(list []procMemory, name string, pid int) ([]procMemory, error) {
		rss, err := rssOf(pid)
		if err != nil {
			return list, fmt.Errorf("%s (pid %d): %w", name, pid, err)
		}
		i := slices.IndexFunc(list, func(m procMemory) bool { return m.name == name })
		if i < 0 {
			return append(list, procMemory{name: name, count: 1, rss: rss}), nil
		}
		list[i].count++
		list[i].rss += rss
		return list, nil
	}
	var containerdWrapper int
	for _, name := range []string{"nucleus", "kubelet", "proxy", "containerd"} {
		data, err := os.ReadFile(filepath.Join(dataDir, "run", name+".pid"))
		if err != nil {
			return nil, nil, fmt.Errorf("the pid of strata %s: %w", name, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, nil, fmt.Errorf("the pid file of strata %s: %w", name, err)
		}
		if daemons, err = add(daemons, "strata "+name, pid); err != nil {
			return nil, nil, err
		}
		if name == "containerd" {
			containerdWrapper = pid
		}
	}
	socket := filepath.Join(dataDir, "containerd")
	for _, p := range procs {
		switch {
		case p.ppid == containerdWrapper && p.name() == "containerd":
			daemons, err = add(daemons, "containerd (Debian's, run by strata containerd)", p.pid)
		case strings.HasPrefix(p.name(), "containerd-shim") && slices.ContainsFunc(p.cmdline, func(a string) bool { return strings.HasPrefix(a, socket) }):
			daemons, err = add(daemons, "containerd-shim-runc-v2 (one per pod)", p.pid)
			for _, child := range procs {
				if child.ppid == p.pid && err == nil {
					pods, err = add(pods, podProcessKind(child), child.pid)
				}
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	// Daemons in the order strata up starts them, the containerd processes
	// after the wrapper; the pods' processes by name.
	rank := func(m procMemory) int {
		for i, prefix := range []string{"strata containerd", "containerd (", "containerd-shim", "strata nucleus", "strata kubelet", "strata proxy"} {
			if strings.HasPrefix(m.name, prefix) {
				return i
			}
		}
		return 99
	}
	slices.SortStableFunc(daemons, func(a, b procMemory) int { return rank(a) - rank(b) })
	slices.SortStableFunc(pods, func(a, b procMemory) int { return strings.Compare(a.name, b.name) })
	return daemons, pods, nil
}

func sumRSS(ms []procMemory) int64 {
	var sum int64
	for _, m := range ms {
		sum += m.rss
	}
	return sum
}

func (r *results) upSection(b *strings.Builder) {
	u := r.up
	if u == nil {
		return
	}
	fmt.Fprintf(b, "## `strata up`: a one-machine cluster with its layers\n\n")
	if u.skipped != "" {
		fmt.Fprintf(b, "**Skipped**: %s.\n\n", u.skipped)
		return
	}
	fmt.Fprintf(b, "`strata up` of a whole cluster on this machine, as `make up` runs it but on a data dir, node name (%s), pod network (%s on bridge %s) and ports of its own: "+
		"containerd, the nucleus, the kubelet and the service proxy as background processes, then the layers apps and dns installed as Helm releases and waited for until Ready. "+
		"**Cold** is on a fresh data dir (PKI, etcd member, image imports, the layers installed); **resume** is `strata up` again after `strata down` (the containers kept running; the releases are upgraded, unchanged); "+
		"**again** is `strata up` on the running cluster. Stage times are those strata up prints; the total is the command's wall time. "+
		"The **baseline** is a bare `strata nucleus` on a fresh data dir, started in the same run, to `/readyz` 200.\n\n", upNodeName, upSubnet, upBridge)
	fmt.Fprintf(b, "| Stage | Cold | Resume | Again |\n|---|---:|---:|---:|\n")
	var names []string
	for _, run := range []upRun{u.cold, u.resume, u.again} {
		for _, s := range run.stages {
			if !slices.Contains(names, s.name) {
				names = append(names, s.name)
			}
		}
	}
	cell := func(run upRun, name string) string {
		s, ok := run.stage(name)
		if !ok {
			return "–"
		}
		out := fmtDuration(s.took)
		if s.took == 0 {
			// strata rounds stages to 100ms.
			out = "< 0.1 s"
		}
		if s.detail == "already running" {
			out += " (running)"
		}
		if strings.HasSuffix(s.detail, ", unchanged") {
			out += " (unchanged)"
		}
		return out
	}
	for _, name := range names {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, cell(u.cold, name), cell(u.resume, name), cell(u.again, name))
	}
	fmt.Fprintf(b, "| **Total** (wall time) | **%s** | **%s** | **%s** |\n", fmtDuration(u.cold.total), fmtDuration(u.resume.total), fmtDuration(u.again.total))
	fmt.Fprintf(b, "| Baseline: bare nucleus to `/readyz` | %s | | |\n", fmtDuration(u.nucleusReady))
	fmt.Fprintf(b, "| Ratio to the baseline | %s | %s | %s |\n\n",
		fmtRatio(float64(u.cold.total), float64(u.nucleusReady)), fmtRatio(float64(u.resume.total), float64(u.nucleusReady)), fmtRatio(float64(u.again.total), float64(u.nucleusReady)))
	fmt.Fprintf(b, "`strata down` (stop proxy, kubelet, nucleus, containerd; the containers keep running) took %s.\n\n", fmtDuration(u.down.total))
	fmt.Fprintf(b, "Resident set size (`VmRSS`) of every process of the cluster %s after the cold `strata up` returned, beside the baseline nucleus' (settled as long after `/readyz`):\n\n", r.config.settle)
	fmt.Fprintf(b, "| Process | Count | RSS |\n|---|---:|---:|\n")
	for _, m := range u.daemons {
		fmt.Fprintf(b, "| %s | %d | %s |\n", m.name, m.count, fmtBytes(m.rss))
	}
	for _, m := range u.pods {
		fmt.Fprintf(b, "| %s | %d | %s |\n", m.name, m.count, fmtBytes(m.rss))
	}
	daemons, pods := sumRSS(u.daemons), sumRSS(u.pods)
	fmt.Fprintf(b, "| **Strata's processes and containerd** | | **%s** |\n", fmtBytes(daemons))
	fmt.Fprintf(b, "| **The pods' processes** | | **%s** |\n", fmtBytes(pods))
	fmt.Fprintf(b, "| **The whole cluster** | | **%s** = %s the baseline |\n", fmtBytes(daemons+pods), fmtRatio(float64(daemons+pods), float64(u.nucleusRSS)))
	fmt.Fprintf(b, "| Baseline: a bare nucleus, idle | 1 | %s |\n\n", fmtBytes(u.nucleusRSS))
}
