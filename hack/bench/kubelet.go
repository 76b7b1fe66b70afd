package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/dns"
	"github.com/strata-dev/strata/kubelet/node"
	kubeletpods "github.com/strata-dev/strata/kubelet/pods"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
)

// The benchmark's node and its pod network, apart from `make up`'s
// (10.88.0.0/16 on strata0) and the e2e suite's (10.89.0.0/16 on
// strata-e2e), so that all three can run on one machine.
const (
	kubeletNodeName = "strata-bench"
	kubeletSubnet   = "10.90.0.0/16"
	kubeletBridge   = "strata-bench"
	kubeletImage    = "strata.local/busybox:1.35.0"
	// kubeletNamespace holds the kubelet's pods; criNamespace is the
	// namespace the sandboxes started directly through CRI claim.
	kubeletNamespace = "bench-kubelet"
	criNamespace     = "bench-cri"
)

// kubeletImages are the archives of `make images` the node needs.
var kubeletImages = []string{"pause.tar", "busybox.tar"}

// kubeletResult is what the kubelet phase measured.
type kubeletResult struct {
	// skipped says why the phase did not run, if it did not.
	skipped string
	// pods are started one at a time, then again in batches of batch.
	pods, batch int
	// idle is the kubelet's memory with its Node Ready and no pods; full
	// with the pods of the sequential run all Running.
	idle, full memoryPoint
	// Per pod, from create to Running seen by a watch (kubelet), or from
	// RunPodSandbox to StartContainer returning (cri).
	kubeletSequential, kubeletBatches sample
	criSequential, criBatches         sample
}

// kubeletUnavailable says why the kubelet phase cannot run here, or "".
func kubeletUnavailable(imagesDir string) string {
	if err := containerdenv.CheckHost(containerdenv.Config{}); err != nil {
		return fmt.Sprintf("containerd cannot run here: %v", err)
	}
	for _, image := range kubeletImages {
		if _, err := os.Stat(filepath.Join(imagesDir, image)); err != nil {
			return fmt.Sprintf("no image archive %s (run `make images`, or point -images at them)", filepath.Join(imagesDir, image))
		}
	}
	return ""
}

// kubeletBench is the state of the kubelet phase.
type kubeletBench struct {
	c        *config
	dir      string
	nucleus  *nucleus
	endpoint string
	runtime  *cri.Remote
	// clients create pods concurrently; clients[0] also does the rest.
	clients []kubernetes.Interface
	watch   *runningWatch

	// What the CRI configurations are made of.
	imageRef       string
	hostDNS        *runtimeapi.DNSConfig
	memoryCapacity int64
}

// benchKubelet measures the real kubelet: a fresh nucleus, `strata
// containerd` and `strata kubelet` as their own processes on a pod network
// of their own. Pods bound to the node are started one at a time and in
// batches, then the same containers directly through CRI; the kubelet's
// memory is read idle and with the pods running.
func benchKubelet(ctx context.Context, c *config, dir string) (r kubeletResult, err error) {
	r.pods, r.batch = c.kubeletPods, c.kubeletBatch
	if why := kubeletUnavailable(c.imagesDir); why != "" {
		r.skipped = why
		progressf("SKIPPING the kubelet phase: %s", why)
		return r, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &kubeletBench{c: c, dir: dir}

	if b.nucleus, err = startNucleus(ctx, c.bin, filepath.Join(dir, "nucleus")); err != nil {
		return r, err
	}
	defer b.nucleus.stop()
	if _, err := b.nucleus.waitReady(ctx, 2*time.Minute); err != nil {
		return r, err
	}
	if b.clients, err = newClients(b.nucleus.kubeconfig(), max(c.kubeletBatch, 1)+1); err != nil {
		return r, err
	}

	containerd, err := startDaemon(ctx, "containerd", c.bin, filepath.Join(dir, "containerd.log"), b.containerdArgs()...)
	if err != nil {
		return r, err
	}
	// Whatever happens, containerd is torn down: every sandbox and
	// container removed, its mounts and bridge gone.
	defer func() { err = errors.Join(err, b.teardownContainerd(containerd)) }()
	m, err := containerd.waitLog(ctx, regexp.MustCompile(`containerd is ready: --container-runtime-endpoint=(\S+)`), 3*time.Minute)
	if err != nil {
		return r, err
	}
	b.endpoint = m[1]
	progressf("containerd is ready at %s", b.endpoint)
	if b.runtime, err = cri.Connect(ctx, cri.RemoteConfig{Endpoint: b.endpoint}); err != nil {
		return r, err
	}
	defer b.runtime.Close(context.WithoutCancel(ctx))
	if err := b.prepareCRI(ctx); err != nil {
		return r, err
	}

	// The Node goes once the kubelet has stopped (defers run last first).
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := b.clients[0].CoreV1().Nodes().Delete(dctx, kubeletNodeName, metav1.DeleteOptions{}); derr != nil && err == nil && !apierrors.IsNotFound(derr) {
			err = fmt.Errorf("deleting Node %s: %w", kubeletNodeName, derr)
		}
	}()
	kubelet, err := b.startKubelet(ctx)
	if err != nil {
		return r, err
	}
	defer kubelet.stop()
	if err := b.waitNodeReady(ctx, kubelet, 2*time.Minute); err != nil {
		return r, err
	}
	progressf("Node %s is Ready", kubeletNodeName)

	read := func(p *memoryPoint, running int) error {
		if err := sleep(ctx, c.settle); err != nil {
			return err
		}
		if err := kubelet.alive(); err != nil {
			return err
		}
		rss, peak, err := kubelet.memory()
		if err != nil {
			return err
		}
		*p = memoryPoint{objects: running, settled: true, rss: rss, peak: peak}
		progressf("kubelet memory with %d pods running: RSS %s (peak %s)", running, fmtBytes(rss), fmtBytes(peak))
		return nil
	}
	if err := read(&r.idle, 0); err != nil {
		return r, err
	}

	if err := createNamespace(ctx, b.clients[0], kubeletNamespace); err != nil {
		return r, err
	}
	// The watch ends before the nucleus stops, which would otherwise wait
	// a minute for it.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if b.watch, err = watchRunning(watchCtx, b.clients[0], kubeletNamespace); err != nil {
		return r, err
	}

	if r.kubeletSequential, err = b.startPods(ctx, kubelet, batches("seq", c.kubeletPods, 1)); err != nil {
		return r, fmt.Errorf("starting pods one at a time: %w", err)
	}
	progressf("kubelet, %d pods one at a time: %s", c.kubeletPods, r.kubeletSequential.summary())
	if err := read(&r.full, c.kubeletPods); err != nil {
		return r, err
	}
	if err := b.deletePods(ctx); err != nil {
		return r, err
	}
	if r.kubeletBatches, err = b.startPods(ctx, kubelet, batches("batch", c.kubeletPods, c.kubeletBatch)); err != nil {
		return r, fmt.Errorf("starting pods in batches of %d: %w", c.kubeletBatch, err)
	}
	progressf("kubelet, %d pods in batches of %d: %s", c.kubeletPods, c.kubeletBatch, r.kubeletBatches.summary())
	if err := b.deletePods(ctx); err != nil {
		return r, err
	}

	// The floor, with the kubelet stopped: it would remove sandboxes of
	// pods it does not know, and it is not what the floor measures.
	if err := kubelet.stop(); err != nil {
		return r, err
	}
	if r.criSequential, err = b.startCRI(ctx, batches("cri-seq", c.kubeletPods, 1)); err != nil {
		return r, fmt.Errorf("starting containers through CRI one at a time: %w", err)
	}
	progressf("CRI, %d containers one at a time: %s", c.kubeletPods, r.criSequential.summary())
	if err := removeSandboxes(ctx, b.runtime, criNamespace); err != nil {
		return r, err
	}
	if r.criBatches, err = b.startCRI(ctx, batches("cri-batch", c.kubeletPods, c.kubeletBatch)); err != nil {
		return r, fmt.Errorf("starting containers through CRI in batches of %d: %w", c.kubeletBatch, err)
	}
	progressf("CRI, %d containers in batches of %d: %s", c.kubeletPods, c.kubeletBatch, r.criBatches.summary())
	if err := removeSandboxes(ctx, b.runtime, criNamespace); err != nil {
		return r, err
	}
	return r, nil
}

func (b *kubeletBench) containerdArgs(extra ...string) []string {
	args := []string{"containerd", "--data-dir", filepath.Join(b.dir, "containerd"),
		"--subnet", kubeletSubnet, "--bridge", kubeletBridge}
	for _, image := range kubeletImages {
		args = append(args, "--image", filepath.Join(b.c.imagesDir, image))
	}
	return append(args, extra...)
}

// teardownContainerd stops `strata containerd`, then runs it again with
// --teardown, which removes what the instance still runs, its mounts and
// its bridge.
func (b *kubeletBench) teardownContainerd(d *daemon) error {
	err := d.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, terr := exec.CommandContext(ctx, b.c.bin, b.containerdArgs("--teardown")...).CombinedOutput()
	if terr != nil {
		err = errors.Join(err, fmt.Errorf("strata containerd --teardown: %w\n%s", terr, out))
	}
	if err == nil {
		progressf("containerd torn down")
	}
	return err
}

func (b *kubeletBench) startKubelet(ctx context.Context) (*daemon, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return startDaemon(ctx, "kubelet", b.c.bin, filepath.Join(b.dir, "kubelet.log"), "kubelet",
		"--nucleus-data-dir", b.nucleus.dataDir,
		"--hostname-override", kubeletNodeName,
		"--container-runtime-endpoint", b.endpoint,
		"--root-dir", filepath.Join(b.dir, "kubelet"),
		"--pod-logs-dir", filepath.Join(b.dir, "logs"),
		"--pod-cidr", kubeletSubnet,
		"--address", "127.0.0.1",
		"--port", strconv.Itoa(port))
}

// waitNodeReady waits for the kubelet's Node to report Ready.
func (b *kubeletBench) waitNodeReady(ctx context.Context, kubelet *daemon, timeout time.Duration) error {
	last := "not registered"
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := kubelet.alive(); err != nil {
			return false, err
		}
		n, err := b.clients[0].CoreV1().Nodes().Get(ctx, kubeletNodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				last = fmt.Sprintf("Ready=%s (%s: %s)", cond.Status, cond.Reason, cond.Message)
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for Node %s to be Ready (last: %s): %w; kubelet log:\n%s", kubeletNodeName, last, err, kubelet.logTail())
	}
	return nil
}

// kubeletPod is the benchmark's pod: one busybox container sleeping, bound
// to the benchmark's node so that the scheduler plays no part.
func kubeletPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{
			NodeName: kubeletNodeName,
			// The host's resolver, without the MissingClusterDNS warning
			// events ClusterFirst would cost on a node without cluster DNS.
			DNSPolicy: corev1.DNSDefault,
			// sleep ignores SIGTERM as PID 1: do not wait 30s for it.
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{
				Name:            "app",
				Image:           kubeletImage,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         []string{"sleep", "3600"},
			}},
		},
	}
}

// batches names total pods prefix-<batch>-<n>, in batches of size.
func batches(prefix string, total, size int) [][]string {
	var out [][]string
	for first := 0; first < total; first += size {
		var batch []string
		for i := first; i < min(first+size, total); i++ {
			batch = append(batch, fmt.Sprintf("%s-%03d", prefix, i))
		}
		out = append(out, batch)
	}
	return out
}

// startPods creates the pods of each batch concurrently and waits until
// they are all Running before the next batch. It returns, per pod, the time
// from its create request to the watch seeing it Running.
func (b *kubeletBench) startPods(ctx context.Context, kubelet *daemon, batches [][]string) (sample, error) {
	s := sample{}
	start := time.Now()
	for _, batch := range batches {
		created := make([]time.Time, len(batch))
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, name := range batch {
			wg.Go(func() {
				created[i] = time.Now()
				_, errs[i] = b.clients[i%len(b.clients)].CoreV1().Pods(kubeletNamespace).Create(ctx, kubeletPod(name), metav1.CreateOptions{})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return s, fmt.Errorf("creating pods: %w", err)
		}
		running, err := b.watch.wait(ctx, batch, 2*time.Minute)
		if err != nil {
			if aerr := kubelet.alive(); aerr != nil {
				err = errors.Join(err, aerr)
			}
			return s, err
		}
		for i, name := range batch {
			s.latencies = append(s.latencies, running[name].Sub(created[i]))
		}
	}
	s.elapsed = time.Since(start)
	slices.Sort(s.latencies)
	return s, nil
}

// deletePods deletes the kubelet's pods and waits until they are gone from
// the API and their sandboxes from the runtime.
func (b *kubeletBench) deletePods(ctx context.Context) error {
	client := b.clients[0].CoreV1().Pods(kubeletNamespace)
	list, err := client.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, p := range list.Items {
		if err := client.Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting pod %s: %w", p.Name, err)
		}
	}
	start := time.Now()
	last := ""
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := client.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		sandboxes, err := b.runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{kubeletpods.PodNamespaceLabel: kubeletNamespace}})
		if err != nil {
			return false, err
		}
		last = fmt.Sprintf("%d pods in the API, %d sandboxes in the runtime", len(list.Items), len(sandboxes))
		return len(list.Items) == 0 && len(sandboxes) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the pods to be gone (last: %s): %w", last, err)
	}
	progressf("deleted %d pods: gone from the API and the runtime in %s", len(list.Items), fmtDuration(time.Since(start)))
	return nil
}

// runningWatch records when an informer first sees each pod of a
// namespace Running, and why a pod cannot start.
type runningWatch struct {
	mu      sync.Mutex
	running map[string]time.Time
	failed  map[string]string
	// changed is closed, and replaced, on every change.
	changed chan struct{}
}

func watchRunning(ctx context.Context, client kubernetes.Interface, ns string) (*runningWatch, error) {
	w := &runningWatch{running: map[string]time.Time{}, failed: map[string]string{}, changed: make(chan struct{})}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
	informer := factory.Core().V1().Pods().Informer()
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.observe,
		UpdateFunc: func(_, obj any) { w.observe(obj) },
	}); err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("the %v informer did not sync", typ)
		}
	}
	return w, nil
}

func (w *runningWatch) observe(obj any) {
	now := time.Now()
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, seen := w.running[pod.Name]; seen {
		return
	}
	switch msg := podFailure(pod); {
	case pod.Status.Phase == corev1.PodRunning:
		w.running[pod.Name] = now
	case msg != "":
		w.failed[pod.Name] = msg
	default:
		return
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// podFailure says why pod will not start, or "".
func podFailure(pod *corev1.Pod) string {
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return fmt.Sprintf("phase %s: %s %s", pod.Status.Phase, pod.Status.Reason, pod.Status.Message)
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return fmt.Sprintf("container %s waiting: %s: %s", cs.Name, w.Reason, w.Message)
		}
	}
	return ""
}

// wait waits until every pod of names has been seen Running and returns
// when each was.
func (w *runningWatch) wait(ctx context.Context, names []string, timeout time.Duration) (map[string]time.Time, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		w.mu.Lock()
		var pending []string
		for _, name := range names {
			if msg, ok := w.failed[name]; ok {
				w.mu.Unlock()
				return nil, fmt.Errorf("pod %s/%s cannot start: %s", kubeletNamespace, name, msg)
			}
			if _, ok := w.running[name]; !ok {
				pending = append(pending, name)
			}
		}
		if len(pending) == 0 {
			out := make(map[string]time.Time, len(names))
			for _, name := range names {
				out[name] = w.running[name]
			}
			w.mu.Unlock()
			return out, nil
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return nil, fmt.Errorf("pods %s not Running after %s", strings.Join(pending, ", "), timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// prepareCRI reads what the CRI configurations are made of, as the kubelet
// does: the image's reference (the kubelet resolves it before creating a
// container), the host's resolver configuration, the machine's memory.
func (b *kubeletBench) prepareCRI(ctx context.Context) error {
	resp, err := b.runtime.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: kubeletImage}, false)
	if err != nil {
		return fmt.Errorf("image status of %s: %w", kubeletImage, err)
	}
	if resp.GetImage() == nil {
		return fmt.Errorf("image %s is not in containerd (was %s imported?)", kubeletImage, filepath.Join(b.c.imagesDir, "busybox.tar"))
	}
	b.imageRef = resp.GetImage().GetId()
	if b.hostDNS, err = dns.ReadResolvConf(dns.HostResolvConf()); err != nil {
		return err
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m, err := node.ParseMeminfo(string(data)); err == nil {
			b.memoryCapacity = m["MemTotal"]
		}
	}
	return nil
}

// startCRI starts each batch's containers concurrently, each its own
// sandbox, through CRI as the kubelet would for kubeletPod, and returns per
// container the time from RunPodSandbox to StartContainer returning.
func (b *kubeletBench) startCRI(ctx context.Context, batches [][]string) (sample, error) {
	s := sample{}
	start := time.Now()
	for _, batch := range batches {
		latencies := make([]time.Duration, len(batch))
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, name := range batch {
			wg.Go(func() {
				sandbox, container := b.criConfigs(name)
				began := time.Now()
				if errs[i] = b.runCRI(ctx, sandbox, container); errs[i] == nil {
					latencies[i] = time.Since(began)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return s, err
		}
		s.latencies = append(s.latencies, latencies...)
	}
	s.elapsed = time.Since(start)
	slices.Sort(s.latencies)
	return s, nil
}

// runCRI makes the calls the kubelet makes to start a pod of one container
// that has its image: the log directories, RunPodSandbox, CreateContainer,
// StartContainer.
func (b *kubeletBench) runCRI(ctx context.Context, sandbox *runtimeapi.PodSandboxConfig, container *runtimeapi.ContainerConfig) error {
	if err := os.MkdirAll(filepath.Join(sandbox.LogDirectory, container.Metadata.Name), 0o755); err != nil {
		return err
	}
	id, err := b.runtime.RunPodSandbox(ctx, sandbox, "")
	if err != nil {
		return fmt.Errorf("RunPodSandbox %s: %w", sandbox.Metadata.Name, err)
	}
	cid, err := b.runtime.CreateContainer(ctx, id, container, sandbox)
	if err != nil {
		return fmt.Errorf("CreateContainer in %s: %w", sandbox.Metadata.Name, err)
	}
	if err := b.runtime.StartContainer(ctx, cid); err != nil {
		return fmt.Errorf("StartContainer in %s: %w", sandbox.Metadata.Name, err)
	}
	return nil
}

// criConfigs are the CRI configurations of kubeletPod(name) as the
// kubelet makes them (kubelet/pods/config.go) for a pod of no volumes: its
// identity and labels, hostname, log directory and file, DNS, namespaces,
// seccomp (unconfined, upstream's default), masked and read-only /proc
// paths, resources and OOM score. Missing are what the kubelet's files and
// environment add: /etc/hosts, the termination-message file, the service
// account token, the Service environment variables, and the annotations
// the kubelet reads back.
func (b *kubeletBench) criConfigs(name string) (*runtimeapi.PodSandboxConfig, *runtimeapi.ContainerConfig) {
	pod := kubeletPod(name)
	pod.Namespace = criNamespace
	pod.UID = types.UID(uuid.NewUUID())
	c := &pod.Spec.Containers[0]
	labels := map[string]string{kubeletpods.PodNameLabel: pod.Name, kubeletpods.PodNamespaceLabel: pod.Namespace, kubeletpods.PodUIDLabel: string(pod.UID)}
	namespaces := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	unconfined := &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
	dnsConfig, _ := dns.Compose(b.hostDNS, pod, nil, kubeletpods.DefaultClusterDomain)
	sandbox := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID)},
		Hostname:     pod.Name,
		LogDirectory: kubeletpods.PodLogsDir(filepath.Join(b.dir, "cri-logs"), pod.Namespace, pod.Name, pod.UID),
		DnsConfig:    dnsConfig,
		Labels:       labels,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaces, Seccomp: unconfined},
		},
	}
	containerLabels := map[string]string{kubeletpods.ContainerNameLabel: c.Name}
	for k, v := range labels {
		containerLabels[k] = v
	}
	container := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: c.Name},
		Image:    &runtimeapi.ImageSpec{Image: b.imageRef, UserSpecifiedImage: c.Image},
		Command:  c.Command,
		Labels:   containerLabels,
		LogPath:  filepath.Join(c.Name, "0.log"),
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources: kubeletpods.LinuxResources(pod, c, b.memoryCapacity, true),
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: namespaces,
				Seccomp:          unconfined,
				MaskedPaths: []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
					"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
					"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"},
				ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
			},
		},
	}
	return sandbox, container
}

// removeSandboxes stops and removes the sandboxes (and so the containers)
// of namespace ns, ten at a time.
func removeSandboxes(ctx context.Context, rt cri.Runtime, ns string) error {
	start := time.Now()
	sandboxes, err := rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{kubeletpods.PodNamespaceLabel: ns}})
	if err != nil {
		return err
	}
	ids := make(chan string)
	errs := make(chan error, len(sandboxes))
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for id := range ids {
				if err := rt.StopPodSandbox(ctx, id); err != nil && !cri.IsNotFound(err) {
					errs <- fmt.Errorf("StopPodSandbox %s: %w", id, err)
					continue
				}
				if err := rt.RemovePodSandbox(ctx, id); err != nil && !cri.IsNotFound(err) {
					errs <- fmt.Errorf("RemovePodSandbox %s: %w", id, err)
				}
			}
		})
	}
	for _, s := range sandboxes {
		ids <- s.GetId()
	}
	close(ids)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	progressf("removed %d sandboxes through CRI in %s", len(sandboxes), fmtDuration(time.Since(start)))
	return nil
}

// kubeletSection reports the kubelet phase.
func (r *results) kubeletSection(b *strings.Builder) {
	k := r.kubelet
	if k == nil {
		return
	}
	fmt.Fprintf(b, "## Kubelet: pod start latency and memory\n\n")
	if k.skipped != "" {
		fmt.Fprintf(b, "**Skipped**: %s.\n\n", k.skipped)
		return
	}
	c := r.config
	nBatches := (k.pods + k.batch - 1) / k.batch
	fmt.Fprintf(b, "A fresh `strata nucleus`, `strata containerd` (a containerd of its own, pod network %s on bridge %s, the image archives of `make images` imported) and `strata kubelet` as their own processes on this machine. "+
		"The pods have one container, `%s` running `sleep 3600` (its image already imported: nothing is pulled), and are created with `spec.nodeName` set: **the scheduler plays no part and is not measured**. "+
		"Per pod, the latency is from its create request to a watch (an informer of the benchmark) seeing it Running: first %d pods one at a time (each created once the previous one is Running), then, once they are deleted and gone from the runtime, %d pods in %d batch(es) of %d created concurrently (the next batch once the previous one is all Running).\n\n",
		kubeletSubnet, kubeletBridge, kubeletImage, k.pods, k.pods, nBatches, k.batch)
	fmt.Fprintf(b, "The **CRI floor** starts the same containers on the same containerd directly through CRI (`k8s.io/cri-client`), with the kubelet stopped: `RunPodSandbox`, `CreateContainer` and `StartContainer` with the configurations the kubelet sends for such a pod, timed until `StartContainer` returns (the container is then running), one at a time and in batches of %d alike. "+
		"The ratio is the kubelet's overhead: noticing the pod, its volumes and files (service account token, `/etc/hosts`, termination-message file), environment, image check, the sandbox's status, the status write and the watch event back.\n\n", k.batch)
	fmt.Fprintf(b, "| Pods started | Pods | kubelet p50 | kubelet p99 | CRI p50 | CRI p99 | Ratio p50 | Ratio p99 | All Running (kubelet / CRI) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(name string, kl, floor sample) {
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s / %s |\n", name, len(kl.latencies),
			fmtDuration(kl.quantile(0.5)), fmtDuration(kl.quantile(0.99)), fmtDuration(floor.quantile(0.5)), fmtDuration(floor.quantile(0.99)),
			fmtRatio(float64(kl.quantile(0.5)), float64(floor.quantile(0.5))), fmtRatio(float64(kl.quantile(0.99)), float64(floor.quantile(0.99))),
			fmtDuration(kl.elapsed), fmtDuration(floor.elapsed))
	}
	row("One at a time", k.kubeletSequential, k.criSequential)
	row(fmt.Sprintf("%d batch(es) of %d concurrent", nBatches, k.batch), k.kubeletBatches, k.criBatches)
	fmt.Fprintf(b, "\nThe kubelet's resident set size (`VmRSS` of the `strata kubelet` process, peak `VmHWM`), read %s after its Node became Ready and %s after the last of the %d pods started one at a time was Running:\n\n", c.settle, c.settle, k.pods)
	fmt.Fprintf(b, "| Pods running | kubelet RSS | peak RSS |\n|---:|---:|---:|\n")
	for _, p := range []memoryPoint{k.idle, k.full} {
		fmt.Fprintf(b, "| %d | %s | %s |\n", p.objects, fmtBytes(p.rss), fmtBytes(p.peak))
	}
	fmt.Fprintln(b)
}
