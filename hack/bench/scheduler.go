package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/strata-dev/strata/kubelet/simulated"
)

// schedScenario is one scheduling measurement: pods created on nodes.
type schedScenario struct {
	pods, nodes int
}

func parseScenarios(s string) ([]schedScenario, error) {
	var out []schedScenario
	for _, part := range strings.Split(s, ",") {
		p, n, ok := strings.Cut(strings.TrimSpace(part), "/")
		pods, err1 := strconv.Atoi(p)
		nodes, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || pods < 1 || nodes < 1 {
			return nil, fmt.Errorf("-scheduling: %q is not pods/nodes", part)
		}
		out = append(out, schedScenario{pods: pods, nodes: nodes})
	}
	return out, nil
}

func parseAppsScenario(s string) (appsScenario, error) {
	sc, err := parseScenarios(s)
	if err != nil || len(sc) != 1 {
		return appsScenario{}, fmt.Errorf("-apps: %q is not replicas/nodes", s)
	}
	return appsScenario{replicas: sc[0].pods, nodes: sc[0].nodes}, nil
}

// schedResult is what one scenario measured.
type schedResult struct {
	schedScenario
	// register is the time to register the simulated nodes.
	register time.Duration
	// create is the time to create every pod.
	create time.Duration
	// bound is from the first create to the last binding; running to the
	// last pod Running and Ready.
	bound, running time.Duration
	// toBinding holds, per pod, the time from its create request to the
	// scheduler's binding being seen, sorted.
	toBinding sample
}

// benchScheduler runs each scenario against a fresh nucleus (its in-process
// scheduler) with simulated nodes run by this process.
func benchScheduler(ctx context.Context, c *config, root string) ([]schedResult, error) {
	var results []schedResult
	for i, sc := range c.scenarios {
		r, err := benchScenario(ctx, c, filepath.Join(root, fmt.Sprintf("scenario-%d", i)), sc)
		if err != nil {
			return nil, fmt.Errorf("%d pods on %d nodes: %w", sc.pods, sc.nodes, err)
		}
		progressf("%5d pods on %4d nodes: all bound in %s (%.0f pods/s), all running in %s; create→binding p50 %s p99 %s",
			sc.pods, sc.nodes, r.bound.Round(time.Millisecond), float64(sc.pods)/r.bound.Seconds(), r.running.Round(time.Millisecond),
			fmtDuration(r.toBinding.quantile(0.5)), fmtDuration(r.toBinding.quantile(0.99)))
		results = append(results, r)
	}
	return results, nil
}

func benchScenario(ctx context.Context, c *config, dataDir string, sc schedScenario) (schedResult, error) {
	res := schedResult{schedScenario: sc}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, err := startNucleus(ctx, c.bin, dataDir)
	if err != nil {
		return res, err
	}
	defer n.stop()
	if _, err := n.waitReady(ctx, time.Minute); err != nil {
		return res, err
	}
	const creators = 20
	clients, err := newClients(n.kubeconfig(), creators+2)
	if err != nil {
		return res, err
	}
	if err := warm(ctx, clients); err != nil {
		return res, err
	}
	watcher, kubeletClient := clients[creators], clients[creators+1]

	// The nodes.
	cfg := simulated.DefaultConfig()
	cfg.Count = sc.nodes
	sim, err := simulated.New(kubeletClient, cfg)
	if err != nil {
		return res, err
	}
	start := time.Now()
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Run(ctx) }()
	for {
		list, err := watcher.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return res, err
		}
		ready := 0
		for _, nd := range list.Items {
			if len(nd.Status.Allocatable) > 0 {
				ready++
			}
		}
		if ready >= sc.nodes {
			break
		}
		select {
		case err := <-simDone:
			return res, fmt.Errorf("simulated nodes stopped: %v", err)
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	res.register = time.Since(start)

	// Watch the pods' progress.
	ns := "bench-scheduler"
	if err := createNamespace(ctx, watcher, ns); err != nil {
		return res, err
	}
	var (
		mu               sync.Mutex
		created          = map[string]time.Time{}
		bound            = map[string]time.Time{}
		running          = map[string]time.Time{}
		allBound, allRun = make(chan struct{}), make(chan struct{})
	)
	observe := func(obj interface{}) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if _, seen := bound[pod.Name]; !seen && pod.Spec.NodeName != "" {
			bound[pod.Name] = now
			if len(bound) == sc.pods {
				close(allBound)
			}
		}
		if _, seen := running[pod.Name]; !seen && pod.Status.Phase == corev1.PodRunning {
			running[pod.Name] = now
			if len(running) == sc.pods {
				close(allRun)
			}
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(watcher, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj interface{}) { observe(obj) },
	}); err != nil {
		return res, err
	}
	factory.Start(ctx.Done())
	// Informers and simulated nodes stop with ctx, before the nucleus.
	defer func() {
		cancel()
		factory.Shutdown()
		<-simDone
	}()
	cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)

	// Create the pods.
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, creators)
	start = time.Now()
	for _, cl := range clients[:creators] {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= sc.pods {
					return
				}
				pod := benchPod(fmt.Sprintf("pod-%05d", i))
				mu.Lock()
				created[pod.Name] = time.Now()
				mu.Unlock()
				if _, err := cl.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	res.create = time.Since(start)
	select {
	case err := <-errs:
		return res, fmt.Errorf("creating pods: %w", err)
	default:
	}
	timeout := time.After(10 * time.Minute)
	for _, ch := range []chan struct{}{allBound, allRun} {
		select {
		case <-ch:
		case <-timeout:
			mu.Lock()
			defer mu.Unlock()
			return res, fmt.Errorf("after 10 minutes %d of %d pods bound, %d running", len(bound), sc.pods, len(running))
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var lastBound, lastRunning time.Time
	var lat []time.Duration
	for name, t := range bound {
		lat = append(lat, t.Sub(created[name]))
		if t.After(lastBound) {
			lastBound = t
		}
	}
	for _, t := range running {
		if t.After(lastRunning) {
			lastRunning = t
		}
	}
	res.bound, res.running = lastBound.Sub(start), lastRunning.Sub(start)
	res.toBinding = sample{latencies: slices.Sorted(slices.Values(lat)), elapsed: res.bound}
	return res, nil
}

func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
		}}},
	}
}

// schedulerSection reports the scheduling scenarios.
func (r *results) schedulerSection(b *strings.Builder) {
	if len(r.scheduler) == 0 {
		return
	}
	fmt.Fprintf(b, "## Scheduling\n\n")
	fmt.Fprintf(b, "A fresh `strata nucleus` with its in-process scheduler; the benchmark runs the simulated nodes (`kubelet/simulated`: 8 cpu, 32Gi, 110 pods each) in its own process, and 20 clients create the pods (100m cpu, 128Mi each) as fast as they can. *Bound* is from the first create request to the last pod seen bound by a watch; *create→binding* is, per pod, from its create request to its binding seen; *all Running* is until the simulated kubelet reported the last pod Running and Ready.\n\n")
	fmt.Fprintf(b, "| Pods | Nodes | Nodes registered | Pods created | All bound | Pods bound/s | create→binding p50 | p99 | All Running |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.scheduler {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %.0f/s | %s | %s | %s |\n",
			fmtCount(s.pods), fmtCount(s.nodes), fmtDuration(s.register), fmtDuration(s.create), fmtDuration(s.bound),
			float64(s.pods)/s.bound.Seconds(), fmtDuration(s.toBinding.quantile(0.5)), fmtDuration(s.toBinding.quantile(0.99)), fmtDuration(s.running))
	}
	fmt.Fprintln(b)
}
