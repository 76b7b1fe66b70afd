package pods

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	crierrors "k8s.io/cri-api/pkg/errors"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/cri"
)

// Defaults of Config.
const (
	DefaultPodLogsDir    = "/var/log/pods"
	DefaultPodsDir       = "/var/lib/kubelet/pods"
	DefaultClusterDomain = "cluster.local"

	// minimumGracePeriod is the least time a container gets to stop, so
	// that it is not killed without a chance.
	minimumGracePeriod = 2
)

// VolumeMounter gives a container the mounts of its volumeMounts, once the
// pod's volumes are set up. An error leaves the container waiting with
// CreateContainerConfigError. A VolumeMounter may also be a VolumeSetUpper
// (volumes set up before the sandbox) and a VolumeCleaner (volumes torn
// down before the pod's directory is removed).
type VolumeMounter interface {
	Mounts(ctx context.Context, pod *corev1.Pod, container *corev1.Container) ([]*runtimeapi.Mount, error)
}

// DNSConfigurer gives a pod's sandbox its resolv.conf settings (dnsPolicy,
// dnsConfig, the cluster DNS).
type DNSConfigurer interface {
	DNSConfig(ctx context.Context, pod *corev1.Pod) (*runtimeapi.DNSConfig, error)
}

// Config is what the workers of a node's pods share.
type Config struct {
	// Runtime runs the sandboxes and containers.
	Runtime cri.Runtime
	// Clock tells the time (the real one when nil).
	Clock clock.Clock
	// Recorder records events about pods (none when nil).
	Recorder events.EventRecorder
	// Probes has the probe results (none when nil: running containers are
	// ready and alive).
	Probes ProbeResults
	// Env resolves containers' environments (literal values, fieldRefs and
	// resourceFieldRefs when nil).
	Env EnvSource
	// Volumes mounts the pods' volumes (volumeMounts are ignored when nil).
	Volumes VolumeMounter
	// DNS configures sandboxes' DNS (the runtime's default when nil).
	DNS DNSConfigurer
	// Credentials finds image pull credentials (anonymous pulls when nil).
	Credentials Credentials
	// Hooks runs postStart and preStop hooks (exec, httpGet and sleep
	// through the runtime when nil).
	Hooks HookRunner
	// RuntimeHandler selects the runtime's handler ("" for its default).
	RuntimeHandler string

	// NodeName, Hostname and HostIPs describe the node.
	NodeName string
	Hostname string
	HostIPs  []string
	// MemoryCapacity is the node's memory in bytes, for OOM scores.
	MemoryCapacity int64
	// DisableCPUQuota leaves CPU limits unenforced (no CFS quota).
	DisableCPUQuota bool
	// ClusterDomain qualifies pods' hostnames in /etc/hosts.
	ClusterDomain string

	// PodLogsDir holds the containers' logs (/var/log/pods).
	PodLogsDir string
	// PodsDir holds per-pod files: termination messages, /etc/hosts
	// (/var/lib/kubelet/pods).
	PodsDir string

	// CrashLoopBackoff and ImagePullBackoff delay restarts and pulls that
	// keep failing (upstream's 10s doubling to 5m when nil).
	CrashLoopBackoff *Backoff
	ImagePullBackoff *Backoff
	// GCPolicy says which dead containers of running pods are removed
	// (DefaultGCPolicy when nil).
	GCPolicy *GCPolicy
}

// complete fills in the defaults.
func (c *Config) complete() {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Env == nil {
		c.Env = &Environment{NodeName: c.NodeName, HostIPs: c.HostIPs}
	}
	if c.Hooks == nil {
		c.Hooks = &Hooks{Runtime: c.Runtime}
	}
	if c.PodLogsDir == "" {
		c.PodLogsDir = DefaultPodLogsDir
	}
	if c.PodsDir == "" {
		c.PodsDir = DefaultPodsDir
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	if c.CrashLoopBackoff == nil {
		c.CrashLoopBackoff = NewDefaultBackoff(c.Clock)
	}
	if c.ImagePullBackoff == nil {
		c.ImagePullBackoff = NewDefaultBackoff(c.Clock)
	}
	if c.GCPolicy == nil {
		policy := DefaultGCPolicy
		c.GCPolicy = &policy
	}
}

// Result is the outcome of a sync.
type Result struct {
	// Status is the pod's status as the sync left it.
	Status corev1.PodStatus
	// RequeueAfter is when a back-off ends and the pod should be synced
	// again (0: no such deadline).
	RequeueAfter time.Duration
	// Stopped says that no container of the pod runs and no sandbox is
	// up: a pod being deleted can go.
	Stopped bool
}

// Worker syncs one pod: it brings what the runtime runs in line with the
// pod's spec and reports the pod's status. Sync, Terminate and Cleanup
// must not run concurrently; the pods controller gives each pod one
// goroutine.
type Worker struct {
	cfg    Config
	uid    types.UID
	events *eventSink
	images *imagePuller

	mu sync.Mutex
	// startFailures says why containers failed to start on the last sync.
	startFailures map[string]*StartFailure
	// last is the status computed last.
	last        *corev1.PodStatus
	runtimeName string
}

// NewWorker returns the worker of the pod with uid.
func NewWorker(cfg Config, uid types.UID) *Worker {
	cfg.complete()
	sink := &eventSink{recorder: cfg.Recorder}
	return &Worker{
		cfg:    cfg,
		uid:    uid,
		events: sink,
		images: &imagePuller{
			runtime:     cfg.Runtime,
			backoff:     cfg.ImagePullBackoff,
			credentials: cfg.Credentials,
			events:      sink,
			clock:       cfg.Clock,
			handler:     cfg.RuntimeHandler,
		},
		startFailures: map[string]*StartFailure{},
	}
}

// Sync runs the pod: it creates its sandbox, runs its init containers in
// order, then its containers, restarts them by its restart policy with a
// back-off, kills those that failed their liveness probe, and stops
// everything once the pod finished. A pod being deleted is terminated.
// Failures to start a container are not errors: they show in the status
// (ErrImagePull, CrashLoopBackOff …). An error means the runtime could not
// be read or the sandbox not created.
func (w *Worker) Sync(ctx context.Context, pod *corev1.Pod) (Result, error) {
	if pod.DeletionTimestamp != nil {
		return w.Terminate(ctx, pod, nil)
	}
	log := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod), "podUID", pod.UID)
	ctx = klog.NewContext(ctx, log)
	w.mu.Lock()
	defer w.mu.Unlock()

	rt, err := w.observe(ctx)
	if err != nil {
		return Result{}, err
	}
	if status := w.computeStatus(pod, rt, false); isTerminalPhase(status.Phase) {
		return w.finish(ctx, pod, rt)
	}

	actions := ComputeActions(pod, rt, w.cfg.Probes)
	// As upstream's kubelet, nothing is started before the pod's volumes
	// are set up.
	syncErr := w.setUpVolumes(ctx, pod)
	if syncErr == nil && !actions.Empty() {
		log.V(2).Info("Syncing pod", "actions", actions)
		syncErr = w.apply(ctx, pod, rt, actions)
		if rt, err = w.observe(ctx); err != nil {
			return Result{}, errors.Join(syncErr, err)
		}
	}
	// As upstream's container GC: dead containers beyond the policy go,
	// with their logs, so that a crash loop does not pile them up.
	rt = w.collectGarbage(ctx, rt)
	status := w.computeStatus(pod, rt, false)
	if isTerminalPhase(status.Phase) && syncErr == nil {
		return w.finish(ctx, pod, rt)
	}
	w.last = &status
	return Result{Status: status, RequeueAfter: w.requeueAfter(pod, rt), Stopped: stopped(rt)}, syncErr
}

// Terminate stops the pod's containers, each with the pod's grace period
// (gracePeriodOverride when set), then its sandbox, and reports the
// terminal status: Succeeded when every container exited 0, Failed
// otherwise.
func (w *Worker) Terminate(ctx context.Context, pod *corev1.Pod, gracePeriodOverride *int64) (Result, error) {
	log := klog.FromContext(ctx).WithValues("pod", klog.KObj(pod), "podUID", pod.UID)
	ctx = klog.NewContext(ctx, log)
	w.mu.Lock()
	defer w.mu.Unlock()

	rt, err := w.observe(ctx)
	if err != nil {
		return Result{}, err
	}
	var killErr error
	if !stopped(rt) {
		log.V(1).Info("Terminating pod")
		killErr = w.killPod(ctx, pod, rt, gracePeriodOverride)
		if rt, err = w.observe(ctx); err != nil {
			return Result{}, errors.Join(killErr, err)
		}
	}
	status := w.computeStatus(pod, rt, true)
	if stopped(rt) {
		status = TerminalStatus(pod, status)
	}
	w.last = &status
	return Result{Status: status, Stopped: stopped(rt)}, killErr
}

// Cleanup removes what is left of the pod once it is gone from the API:
// its containers, sandboxes, logs and files.
func (w *Worker) Cleanup(ctx context.Context, namespace, name string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	rt, err := w.observe(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range rt.Containers {
		if c.State == ContainerRunning || c.State == ContainerUnknown {
			if err := w.cfg.Runtime.StopContainer(ctx, c.ID, 0); err != nil && !cri.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("stopping container %s: %w", c.Name, err))
				continue
			}
		}
		if err := w.cfg.Runtime.RemoveContainer(ctx, c.ID); err != nil && !cri.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing container %s: %w", c.Name, err))
		}
	}
	for _, s := range rt.Sandboxes {
		if s.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			if err := w.cfg.Runtime.StopPodSandbox(ctx, s.Id); err != nil && !cri.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("stopping sandbox %s: %w", s.Id, err))
				continue
			}
		}
		if err := w.cfg.Runtime.RemovePodSandbox(ctx, s.Id); err != nil && !cri.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing sandbox %s: %w", s.Id, err))
		}
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(PodLogsDir(w.cfg.PodLogsDir, namespace, name, w.uid)); err != nil {
			errs = append(errs, err)
		}
		// The pod's directory goes only once nothing is mounted in it.
		if err := w.cleanupVolumes(ctx); err != nil {
			errs = append(errs, err)
		} else if err := os.RemoveAll(filepath.Join(w.cfg.PodsDir, string(w.uid))); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// finish stops what still runs of a pod that reached a terminal phase
// (sidecars, the sandbox) and reports its final status.
func (w *Worker) finish(ctx context.Context, pod *corev1.Pod, rt *RuntimePod) (Result, error) {
	var err error
	if !stopped(rt) {
		klog.FromContext(ctx).V(1).Info("Stopping finished pod")
		err = w.killPod(ctx, pod, rt, nil)
		var observeErr error
		if rt, observeErr = w.observe(ctx); observeErr != nil {
			return Result{}, errors.Join(err, observeErr)
		}
	}
	status := w.computeStatus(pod, rt, true)
	w.last = &status
	return Result{Status: status, Stopped: stopped(rt)}, err
}

// stopped tells whether nothing of the pod runs.
func stopped(rt *RuntimePod) bool {
	return len(rt.RunningContainers()) == 0 && len(rt.ReadySandboxes()) == 0
}

// observe reads what the runtime runs for the pod.
func (w *Worker) observe(ctx context.Context) (*RuntimePod, error) {
	if w.runtimeName == "" {
		v, err := w.cfg.Runtime.Version(ctx, "v1")
		if err != nil {
			return nil, fmt.Errorf("asking the container runtime's version: %w", err)
		}
		w.runtimeName = v.RuntimeName
	}
	return Observe(ctx, w.cfg.Runtime, w.uid, w.runtimeName)
}

func (w *Worker) computeStatus(pod *corev1.Pod, rt *RuntimePod, terminal bool) corev1.PodStatus {
	return ComputeStatus(StatusInput{
		Pod:           pod,
		Previous:      w.last,
		Runtime:       rt,
		StartFailures: w.startFailures,
		Probes:        w.cfg.Probes,
		Terminal:      terminal,
		HostIPs:       w.cfg.HostIPs,
		Now:           w.cfg.Clock.Now(),
	})
}

// apply carries the actions out: kill, create the sandbox, start
// containers. Start failures are recorded, not returned.
func (w *Worker) apply(ctx context.Context, pod *corev1.Pod, rt *RuntimePod, actions Actions) error {
	if actions.KillPod {
		if actions.CreateSandbox && actions.SandboxID != "" {
			w.events.pod(pod, corev1.EventTypeNormal, "SandboxChanged", "Sync", "Pod sandbox changed, it will be killed and re-created.")
		}
		if err := w.killPod(ctx, pod, rt, nil); err != nil {
			return err
		}
		if actions.CreateSandbox {
			w.removeInitContainers(ctx, pod, rt, 0)
		}
	} else {
		for _, k := range actions.ContainersToKill {
			if err := w.killContainer(ctx, pod, k.ID, k.Name, k.Message, k.Reason, rt.IPs, nil, nil); err != nil {
				return err
			}
		}
	}
	// Keep only the last run of each init container.
	w.removeInitContainers(ctx, pod, rt, 1)

	if !actions.CreateSandbox && len(actions.InitContainersToStart) == 0 && len(actions.ContainersToStart) == 0 && len(actions.EphemeralContainersToStart) == 0 {
		return nil
	}
	sandbox, err := w.sandboxConfig(ctx, pod, actions.Attempt)
	if err != nil {
		return err
	}
	sandboxID, podIPs := actions.SandboxID, rt.IPs
	if actions.CreateSandbox {
		if sandboxID, podIPs, err = w.createSandbox(ctx, pod, sandbox); err != nil {
			return err
		}
	}
	ephemeral := ephemeralContainers(&pod.Spec)
	for _, i := range actions.EphemeralContainersToStart {
		w.startContainer(ctx, pod, rt, &ephemeral[i], sandboxID, sandbox, podIPs)
	}
	for _, i := range actions.InitContainersToStart {
		c := &pod.Spec.InitContainers[i]
		if failure := w.startContainer(ctx, pod, rt, c, sandboxID, sandbox, podIPs); failure != nil && !isRestartableInitContainer(c) {
			// The next init container must wait for this one.
			return nil
		}
	}
	for _, i := range actions.ContainersToStart {
		w.startContainer(ctx, pod, rt, &pod.Spec.Containers[i], sandboxID, sandbox, podIPs)
	}
	return nil
}

// createSandbox starts the pod's sandbox and returns its ID and IPs.
func (w *Worker) createSandbox(ctx context.Context, pod *corev1.Pod, cfg *runtimeapi.PodSandboxConfig) (string, []string, error) {
	log := klog.FromContext(ctx)
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return "", nil, fmt.Errorf("creating the pod's log directory: %w", err)
	}
	log.V(1).Info("Creating pod sandbox", "attempt", cfg.Metadata.Attempt)
	id, err := w.cfg.Runtime.RunPodSandbox(ctx, cfg, w.cfg.RuntimeHandler)
	if err != nil {
		w.events.pod(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Sync", fmt.Sprintf("Failed to create pod sandbox: %v", cri.Message(err)))
		return "", nil, fmt.Errorf("creating the pod sandbox: %w", err)
	}
	resp, err := w.cfg.Runtime.PodSandboxStatus(ctx, id, false)
	if err != nil {
		w.events.pod(pod, corev1.EventTypeWarning, "FailedPodSandBoxStatus", "Sync", fmt.Sprintf("Unable to get pod sandbox status: %v", cri.Message(err)))
		return "", nil, fmt.Errorf("reading the status of the new sandbox: %w", err)
	}
	var ips []string
	if !pod.Spec.HostNetwork {
		ips = sandboxIPs(resp.GetStatus())
	}
	return id, ips, nil
}

func (w *Worker) sandboxConfig(ctx context.Context, pod *corev1.Pod, attempt uint32) (*runtimeapi.PodSandboxConfig, error) {
	params := sandboxParams{attempt: attempt, logsRoot: w.cfg.PodLogsDir, hostname: w.cfg.Hostname}
	if w.cfg.DNS != nil {
		dns, err := w.cfg.DNS.DNSConfig(ctx, pod)
		if err != nil {
			return nil, fmt.Errorf("making the pod's DNS configuration: %w", err)
		}
		params.dns = dns
	}
	return sandboxConfig(pod, params), nil
}

// startContainer starts one container and records why it could not.
func (w *Worker) startContainer(ctx context.Context, pod *corev1.Pod, rt *RuntimePod, c *corev1.Container, sandboxID string, sandbox *runtimeapi.PodSandboxConfig, podIPs []string) *StartFailure {
	failure := w.tryStartContainer(ctx, pod, rt, c, sandboxID, sandbox, podIPs)
	if failure != nil {
		klog.FromContext(ctx).V(1).Info("Container could not start", "container", c.Name, "reason", failure.Reason, "message", failure.Message)
		w.startFailures[c.Name] = failure
		return failure
	}
	delete(w.startFailures, c.Name)
	return nil
}

func (w *Worker) tryStartContainer(ctx context.Context, pod *corev1.Pod, rt *RuntimePod, c *corev1.Container, sandboxID string, sandbox *runtimeapi.PodSandboxConfig, podIPs []string) *StartFailure {
	log := klog.FromContext(ctx).WithValues("container", c.Name)

	// A container that exited waits out its back-off before it restarts.
	if exited := lastExited(rt, c.Name); exited != nil {
		key := backoffKey(pod, c)
		if w.cfg.CrashLoopBackoff.IsInBackOffSince(key, exited.FinishedAt) {
			w.events.container(pod, c, corev1.EventTypeWarning, "BackOff", "Start",
				fmt.Sprintf("Back-off restarting failed container %s in pod %s", c.Name, podFullName(pod)))
			return startFailure(ErrCrashLoopBackOff, "back-off %s restarting failed container=%s pod=%s",
				w.cfg.CrashLoopBackoff.Get(key), c.Name, podFullName(pod))
		}
		w.cfg.CrashLoopBackoff.Next(key, exited.FinishedAt)
	}

	imageRef, failure := w.images.ensureImage(ctx, pod, c, sandbox)
	if failure != nil {
		w.events.container(pod, c, corev1.EventTypeWarning, "Failed", "Start", "Error: "+failure.Reason.Error())
		return failure
	}

	restartCount := 0
	if previous := rt.FindContainer(c.Name); previous != nil {
		restartCount = previous.RestartCount + 1
	} else {
		// The runtime forgot the container (node reboot): continue the
		// count from its log files.
		restartCount = restartCountFromLogs(filepath.Join(sandbox.LogDirectory, c.Name))
	}

	env, err := w.cfg.Env.Env(ctx, pod, c, podIPs)
	if err != nil {
		return w.configFailure(pod, c, err)
	}
	mounts, err := w.mounts(ctx, pod, c, podIPs)
	if err != nil {
		return w.configFailure(pod, c, err)
	}
	if err := os.MkdirAll(filepath.Join(sandbox.LogDirectory, c.Name), 0o755); err != nil {
		return w.configFailure(pod, c, fmt.Errorf("create container log directory for container %s failed: %w", c.Name, err))
	}
	config := containerConfig(pod, c, containerParams{
		restartCount:   restartCount,
		imageRef:       imageRef,
		env:            env,
		mounts:         mounts,
		memoryCapacity: w.cfg.MemoryCapacity,
		cpuCFSQuota:    !w.cfg.DisableCPUQuota,
		pidTarget:      pidTarget(pod, c, rt),
	})

	log.V(2).Info("Creating container", "restartCount", restartCount)
	id, err := w.cfg.Runtime.CreateContainer(ctx, sandboxID, config, sandbox)
	if err != nil {
		msg := cri.Message(err)
		w.events.container(pod, c, corev1.EventTypeWarning, "Failed", "Create", "Error: "+msg)
		return &StartFailure{Reason: ErrCreateContainer, Message: msg}
	}
	w.events.container(pod, c, corev1.EventTypeNormal, "Created", "Create", "Created container: "+c.Name)
	if err := w.cfg.Runtime.StartContainer(ctx, id); err != nil {
		msg := cri.Message(err)
		w.events.container(pod, c, corev1.EventTypeWarning, "Failed", "Start", "Error: "+msg)
		return &StartFailure{Reason: ErrRunContainer, Message: msg}
	}
	w.events.container(pod, c, corev1.EventTypeNormal, "Started", "Start", "Started container "+c.Name)

	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		msg, err := w.cfg.Hooks.Run(ctx, pod, c, id, podIPs, c.Lifecycle.PostStart)
		if err != nil {
			log.V(1).Info("PostStart hook failed", "err", err)
			// The message is not in the event: it could leak secrets.
			w.events.container(pod, c, corev1.EventTypeWarning, "FailedPostStartHook", "Start", "PostStartHook failed")
			if err := w.killContainer(ctx, pod, id, c.Name, "FailedPostStartHook", "", podIPs, nil, nil); err != nil {
				log.Error(err, "Killing the container after its postStart hook failed")
			}
			return &StartFailure{Reason: ErrPostStartHook, Message: msg}
		}
	}
	return nil
}

func (w *Worker) configFailure(pod *corev1.Pod, c *corev1.Container, err error) *StartFailure {
	w.events.container(pod, c, corev1.EventTypeWarning, "Failed", "Create", "Error: "+err.Error())
	return &StartFailure{Reason: ErrCreateContainerConfig, Message: err.Error()}
}

// mounts are the container's volume mounts, its /etc/hosts and the file
// its termination message goes to.
func (w *Worker) mounts(ctx context.Context, pod *corev1.Pod, c *corev1.Container, podIPs []string) ([]*runtimeapi.Mount, error) {
	var mounts []*runtimeapi.Mount
	if w.cfg.Volumes != nil {
		m, err := w.cfg.Volumes.Mounts(ctx, pod, c)
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, m...)
	} else if len(c.VolumeMounts) > 0 {
		klog.FromContext(ctx).V(2).Info("No volume support: volume mounts ignored", "container", c.Name)
	}
	podDir := filepath.Join(w.cfg.PodsDir, string(pod.UID))

	if !pod.Spec.HostNetwork && len(podIPs) > 0 && !mountsPath(c, "/etc/hosts") {
		path := filepath.Join(podDir, "etc-hosts")
		if err := os.MkdirAll(podDir, 0o750); err != nil {
			return nil, fmt.Errorf("creating the pod directory: %w", err)
		}
		if err := os.WriteFile(path, hostsFile(pod, podIPs, podHostname(pod, w.cfg.Hostname), w.cfg.ClusterDomain), 0o644); err != nil {
			return nil, fmt.Errorf("writing the pod's hosts file: %w", err)
		}
		mounts = append(mounts, &runtimeapi.Mount{HostPath: path, ContainerPath: "/etc/hosts"})
	}

	if c.TerminationMessagePath != "" {
		dir := filepath.Join(podDir, "containers", c.Name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("creating the container directory: %w", err)
		}
		path := filepath.Join(dir, randomID())
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o666)
		if err != nil {
			return nil, fmt.Errorf("creating the termination message file: %w", err)
		}
		_ = f.Close()
		mounts = append(mounts, &runtimeapi.Mount{HostPath: path, ContainerPath: c.TerminationMessagePath})
	}
	return mounts, nil
}

func mountsPath(c *corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// killPod stops every running container of the pod, each with its grace
// period, then its sandboxes. As upstream's kubelet, the containers stop
// all at once (their preStop hooks too), but sidecars: each waits for the
// main containers and the sidecars defined after it to stop, within what
// is left of its grace period, so that sidecars stop last, in the reverse
// order of their definition.
func (w *Worker) killPod(ctx context.Context, pod *corev1.Pod, rt *RuntimePod, gracePeriodOverride *int64) error {
	running := rt.RunningContainers()
	order := newTerminationOrder(pod, running, w.cfg.Clock)
	errs := make([]error, len(running))
	var wg sync.WaitGroup
	for i, c := range running {
		wg.Go(func() {
			errs[i] = w.killContainer(ctx, pod, c.ID, c.Name, "", "", rt.IPs, gracePeriodOverride, order)
			if errs[i] == nil {
				// On failure, those waiting for it wait out their grace
				// period, as upstream.
				order.containerStopped(c.Name)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, s := range rt.ReadySandboxes() {
		if err := w.cfg.Runtime.StopPodSandbox(ctx, s.Id); err != nil && !cri.IsNotFound(err) {
			return fmt.Errorf("stopping sandbox %s: %w", s.Id, err)
		}
	}
	return nil
}

// killContainer stops a container: its preStop hook, its turn in the
// pod's termination order (nil: none), SIGTERM, then SIGKILL once its
// grace period is over. Each step takes its time from the grace period;
// the container gets at least 2s after its hook (unless
// gracePeriodOverride says less).
func (w *Worker) killContainer(ctx context.Context, pod *corev1.Pod, id, name, message string, reason KillReason, podIPs []string, gracePeriodOverride *int64, order *terminationOrder) error {
	log := klog.FromContext(ctx)
	spec := findContainerSpec(pod, name)
	grace := terminationGracePeriod(pod, spec, reason)
	minimum := int64(minimumGracePeriod)
	if gracePeriodOverride != nil {
		grace = *gracePeriodOverride
		minimum = min(minimum, max(grace, 0))
	}
	if message == "" {
		message = "Stopping container " + name
	}
	if spec != nil {
		w.events.container(pod, spec, corev1.EventTypeNormal, "Killing", "Kill", message)
		if spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil && grace > 0 {
			grace -= w.runPreStop(ctx, pod, spec, id, podIPs, grace)
		}
	}
	if grace > 0 {
		if waited := order.waitForTurn(ctx, name, grace); waited > 0 {
			log.V(2).Info("Waited for the containers to stop before this one", "container", name, "waited", waited)
			grace -= int64(waited.Seconds())
		}
	}
	if grace < minimum {
		grace = minimum
	}
	log.V(1).Info("Killing container", "container", name, "containerID", id, "gracePeriod", grace)
	if err := w.cfg.Runtime.StopContainer(ctx, id, grace); err != nil && !cri.IsNotFound(err) {
		return fmt.Errorf("stopping container %s: %w", name, err)
	}
	return nil
}

// runPreStop runs the container's preStop hook for at most grace seconds
// and returns how many seconds it took.
func (w *Worker) runPreStop(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, podIPs []string, grace int64) int64 {
	start := w.cfg.Clock.Now()
	hookCtx, cancel := context.WithTimeout(ctx, time.Duration(grace)*time.Second)
	defer cancel()
	klog.FromContext(ctx).V(1).Info("Running preStop hook", "container", c.Name, "gracePeriod", grace)
	if msg, err := w.cfg.Hooks.Run(hookCtx, pod, c, id, podIPs, c.Lifecycle.PreStop); err != nil {
		w.events.container(pod, c, corev1.EventTypeWarning, "FailedPreStopHook", "Kill", msg)
	}
	return int64(w.cfg.Clock.Since(start).Seconds())
}

// terminationGracePeriod is how long a container has to stop: the
// deletion's grace period, else the probe's that failed, else the pod's.
func terminationGracePeriod(pod *corev1.Pod, c *corev1.Container, reason KillReason) int64 {
	if pod.DeletionGracePeriodSeconds != nil {
		return *pod.DeletionGracePeriodSeconds
	}
	if pod.Spec.TerminationGracePeriodSeconds == nil {
		return minimumGracePeriod
	}
	if c != nil {
		switch {
		case reason == KillReasonLivenessProbe && c.LivenessProbe != nil && c.LivenessProbe.TerminationGracePeriodSeconds != nil:
			return *c.LivenessProbe.TerminationGracePeriodSeconds
		case reason == KillReasonStartupProbe && c.StartupProbe != nil && c.StartupProbe.TerminationGracePeriodSeconds != nil:
			return *c.StartupProbe.TerminationGracePeriodSeconds
		}
	}
	return *pod.Spec.TerminationGracePeriodSeconds
}

// removeInitContainers removes the exited init containers of the pod but
// the newest keep of each name, with their logs.
func (w *Worker) removeInitContainers(ctx context.Context, pod *corev1.Pod, rt *RuntimePod, keep int) {
	for _, init := range pod.Spec.InitContainers {
		n := 0
		for _, c := range rt.Containers {
			if c.Name != init.Name || (c.State != ContainerExited && c.State != ContainerUnknown) {
				continue
			}
			n++
			if n <= keep {
				continue
			}
			if err := w.removeContainer(ctx, c); err != nil {
				klog.FromContext(ctx).Error(err, "Removing init container failed", "container", c.Name, "containerID", c.ID)
			}
		}
	}
}

// requeueAfter is when the first back-off of the pod's containers ends.
func (w *Worker) requeueAfter(pod *corev1.Pod, rt *RuntimePod) time.Duration {
	var next time.Duration
	consider := func(d time.Duration) {
		if d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	now := w.cfg.Clock.Now()
	for name, failure := range w.startFailures {
		c := findContainerSpec(pod, name)
		if c == nil {
			continue
		}
		switch {
		case errors.Is(failure.Reason, ErrCrashLoopBackOff):
			if exited := lastExited(rt, name); exited != nil {
				consider(w.cfg.CrashLoopBackoff.RemainingSince(backoffKey(pod, c), exited.FinishedAt))
			}
		case errors.Is(failure.Reason, ErrImagePull), errors.Is(failure.Reason, ErrImagePullBackOff),
			errors.Is(failure.Reason, crierrors.ErrRegistryUnavailable), errors.Is(failure.Reason, crierrors.ErrSignatureValidationFailed):
			if image, err := applyDefaultTag(c.Image); err == nil {
				consider(w.cfg.ImagePullBackoff.RemainingSinceUpdate(fmt.Sprintf("%s_%s", pod.UID, image), now))
			}
		}
	}
	return next
}

// lastExited is the newest exited container named name.
func lastExited(rt *RuntimePod, name string) *RuntimeContainer {
	for _, c := range rt.Containers {
		if c.Name == name && c.State == ContainerExited {
			return c
		}
	}
	return nil
}

// backoffKey identifies a container of a pod in the crash-loop back-off,
// as upstream: a changed image starts a new back-off.
func backoffKey(pod *corev1.Pod, c *corev1.Container) string {
	return fmt.Sprintf("%s_%s_%s_%s_%s", pod.Name, pod.Namespace, pod.UID, c.Name, HashContainer(c))
}

// pidTarget is the runtime ID of the running container whose process
// namespace an ephemeral container with a targetContainerName joins
// (kubectl debug --target), unless the pod's containers share one anyway.
func pidTarget(pod *corev1.Pod, c *corev1.Container, rt *RuntimePod) string {
	if pod.Spec.HostPID || (pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace) {
		return ""
	}
	for _, ec := range pod.Spec.EphemeralContainers {
		if ec.Name != c.Name || ec.TargetContainerName == "" {
			continue
		}
		for _, rc := range rt.Containers {
			if rc.Name == ec.TargetContainerName && rc.State == ContainerRunning {
				return rc.ID
			}
		}
	}
	return ""
}

func findContainerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers, ephemeralContainers(&pod.Spec)} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

var logFileName = regexp.MustCompile(`^(\d+)\.log(\..*)?$`)

// restartCountFromLogs is one more than the highest <n>.log in dir.
func restartCountFromLogs(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	count := 0
	for _, e := range entries {
		m := logFileName.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		if n, err := strconv.Atoi(m[1]); err == nil && n+1 > count {
			count = n + 1
		}
	}
	return count
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
