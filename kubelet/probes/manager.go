// Package probes runs the kubelet's container probes: liveness, readiness
// and startup, with exec (through the CRI), httpGet, tcpSocket and grpc
// handlers, as upstream's prober manager does.
//
// The manager keeps one worker per probe of each running container
// instance. The pods controller tells it what runs after each sync
// (UpdatePod): a container seen running for the first time gets its
// workers, a replaced or stopped one loses them together with its
// results, so a restarted container starts fresh. The workers probe
// every periodSeconds after initialDelaySeconds, count consecutive results
// against successThreshold and failureThreshold, and record a result once
// a threshold is reached; a changed result calls OnChange so that the pod
// is synced again (the pods package reads the results through
// pods.ProbeResults: readiness and startup for the status, liveness and
// startup to kill containers).
//
// The startup probe gates the others: readiness and liveness workers start
// once it succeeded. Results start as upstream's: readiness fails until
// the first success, liveness succeeds until a failure, startup is unknown
// until it passes or fails. A liveness or startup failure ends the worker:
// the container is about to be killed, and its successor gets new workers.
package probes

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/pods"
)

// Config configures the probe manager.
type Config struct {
	// Runtime runs exec probes (ExecSync).
	Runtime cri.RuntimeService
	// HTTP makes httpGet probes. When nil, a client as upstream's: it skips
	// TLS verification, keeps no connections alive, uses no proxy and does
	// not follow redirects to other hosts.
	HTTP *http.Client
	// Recorder records Unhealthy and ProbeWarning events (none when nil).
	Recorder events.EventRecorder
	// OnChange is called, outside any lock, when a probe result of a pod
	// changed, so that the pod is synced again.
	OnChange func(podUID types.UID)
	// Clock times the probes (the real clock when nil).
	Clock clock.Clock
	// Logger logs what the workers do (klog's default when unset).
	Logger klog.Logger
}

// Manager runs the probes of a node's containers. It implements
// pods.ProbeResults.
type Manager struct {
	cfg    Config
	clock  clock.Clock
	log    klog.Logger
	prober *prober
	// jitter spreads the first probe of adopted containers over one
	// period.
	jitter func(period time.Duration) time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// results are the recorded results by probe and runtime container ID;
	// an unknown result is absent.
	results map[pods.ProbeType]map[string]pods.ProbeResult
	// instances are the probed containers by pod and container name: the
	// running instance each is bound to and its workers.
	instances map[containerKey]*instance
	stopped   bool
}

var _ pods.ProbeResults = &Manager{}

// containerKey names a container of a pod.
type containerKey struct {
	podUID types.UID
	name   string
}

// instance is one running container instance being probed.
type instance struct {
	key containerKey
	// id is the runtime's container ID, without the runtime prefix.
	id        string
	container *corev1.Container
	startedAt time.Time
	// adopted says the container ran before the manager saw it (a
	// restarted kubelet): its results were seeded from the reported
	// status and its first probes are spread over a period.
	adopted bool

	// pod and podIP are the latest seen; guarded by the manager's mutex.
	pod     *corev1.Pod
	podIP   string
	workers map[pods.ProbeType]*worker
}

// New returns a manager; it starts probing once UpdatePod tells it about
// running containers, until Stop.
func New(cfg Config) *Manager {
	clk := cfg.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	log := cfg.Logger
	if log.GetSink() == nil {
		log = klog.Background()
	}
	log = log.WithName("probes")
	httpClient := cfg.HTTP
	if httpClient == nil {
		httpClient = NewHTTPClient()
	}
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), log))
	return &Manager{
		cfg:   cfg,
		clock: clk,
		log:   log,
		prober: &prober{
			runtime:  cfg.Runtime,
			http:     httpClient,
			recorder: cfg.Recorder,
		},
		jitter: func(period time.Duration) time.Duration {
			return time.Duration(rand.Float64() * float64(period))
		},
		ctx:       ctx,
		cancel:    cancel,
		results:   map[pods.ProbeType]map[string]pods.ProbeResult{},
		instances: map[containerKey]*instance{},
	}
}

// Get implements pods.ProbeResults: the recorded result of a probe of the
// container with the runtime ID containerID, and false while there is
// none (no worker, or a startup probe that has not passed or failed).
func (m *Manager) Get(probe pods.ProbeType, containerID string) (pods.ProbeResult, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.results[probe][containerID]
	return r, ok
}

// UpdatePod brings the pod's probe workers in line with its status: the
// running containers with probes (app containers and restartable init
// containers) get workers bound to their container IDs; the workers of
// containers that stopped or were replaced stop and their results are
// forgotten. A pod being deleted stops its liveness and startup probes
// (their results turn to success so that nothing is killed while it shuts
// down); a finished pod stops all of them.
//
// A container the manager has not seen but that pod.Status already
// reports with the same container ID ran before the manager started (a
// restarted kubelet): its started and ready states are believed until its
// probes say otherwise.
func (m *Manager) UpdatePod(pod *corev1.Pod, status corev1.PodStatus) {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	changed := false
	if status.Phase == corev1.PodSucceeded || status.Phase == corev1.PodFailed {
		m.removePodLocked(pod.UID)
		m.mu.Unlock()
		return
	}
	for _, c := range probedContainers(pod) {
		key := containerKey{podUID: pod.UID, name: c.Name}
		current := m.instances[key]
		s := findStatus(&status, c.Name)
		if s == nil || s.State.Running == nil || s.ContainerID == "" {
			if current != nil {
				m.log.V(4).Info("Stopping probes of a container that is no longer running", "pod", klog.KObj(pod), "container", c.Name, "containerID", current.id)
				m.forgetLocked(current)
			}
			continue
		}
		id := runtimeID(s.ContainerID)
		if current != nil && current.id != id {
			m.log.V(4).Info("Stopping probes of a replaced container", "pod", klog.KObj(pod), "container", c.Name, "containerID", current.id, "newContainerID", id)
			m.forgetLocked(current)
			current = nil
		}
		if current == nil {
			current = &instance{
				key:       key,
				id:        id,
				container: c,
				startedAt: s.State.Running.StartedAt.Time,
				workers:   map[pods.ProbeType]*worker{},
			}
			if reported := findStatus(&pod.Status, c.Name); reported != nil && reported.ContainerID == s.ContainerID {
				current.adopted = true
				changed = m.seedLocked(current, reported) || changed
			}
			m.instances[key] = current
		}
		current.pod = pod
		if status.PodIP != "" {
			current.podIP = status.PodIP
		}
		if pod.DeletionTimestamp != nil {
			changed = m.quietLocked(current) || changed
		}
		m.ensureWorkersLocked(current)
	}
	m.mu.Unlock()
	if changed {
		m.notify(pod.UID)
	}
}

// RemovePod stops the probes of a pod that is gone and forgets their
// results.
func (m *Manager) RemovePod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removePodLocked(uid)
}

// Stop stops every worker and waits for them to end.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	for _, inst := range m.instances {
		for _, w := range inst.workers {
			w.stop()
		}
	}
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

func (m *Manager) removePodLocked(uid types.UID) {
	for key, inst := range m.instances {
		if key.podUID == uid {
			m.forgetLocked(inst)
		}
	}
}

// forgetLocked stops an instance's workers and forgets it and its results.
func (m *Manager) forgetLocked(inst *instance) {
	for _, w := range inst.workers {
		w.stop()
	}
	inst.workers = map[pods.ProbeType]*worker{}
	for _, results := range m.results {
		delete(results, inst.id)
	}
	if m.instances[inst.key] == inst {
		delete(m.instances, inst.key)
	}
}

// seedLocked believes what the API was last told about an adopted
// container: started once started, ready once ready. It says whether a
// result was seeded.
func (m *Manager) seedLocked(inst *instance, reported *corev1.ContainerStatus) bool {
	seeded := false
	if inst.container.StartupProbe != nil && reported.Started != nil && *reported.Started {
		seeded = m.setLocked(pods.Startup, inst.id, pods.ProbeSuccess) || seeded
	}
	if inst.container.ReadinessProbe != nil && reported.Ready {
		seeded = m.setLocked(pods.Readiness, inst.id, pods.ProbeSuccess) || seeded
	}
	return seeded
}

// quietLocked stops the liveness and startup probes of a container whose
// pod is being deleted and records them as succeeded, as upstream does for
// a quiet shutdown. It says whether a result changed.
func (m *Manager) quietLocked(inst *instance) bool {
	changed := false
	for _, probe := range []pods.ProbeType{pods.Liveness, pods.Startup} {
		if probeSpec(inst.container, probe) == nil {
			continue
		}
		if w := inst.workers[probe]; w != nil {
			w.stop()
			delete(inst.workers, probe)
		}
		changed = m.setLocked(probe, inst.id, pods.ProbeSuccess) || changed
	}
	return changed
}

// ensureWorkersLocked starts the workers an instance should have now: the
// startup probe's until it succeeded, then readiness and liveness (not
// liveness while the pod is being deleted).
func (m *Manager) ensureWorkersLocked(inst *instance) {
	if inst.container.StartupProbe != nil {
		if r, ok := m.results[pods.Startup][inst.id]; !ok || r != pods.ProbeSuccess {
			m.startWorkerLocked(inst, pods.Startup)
			return
		}
	}
	m.startWorkerLocked(inst, pods.Readiness)
	if inst.pod.DeletionTimestamp == nil {
		m.startWorkerLocked(inst, pods.Liveness)
	}
}

// startWorkerLocked starts the worker of one probe of an instance, unless
// the container has no such probe, it runs already, or the probe reached a
// verdict the container cannot come back from (a liveness or startup
// failure: it is about to be killed).
func (m *Manager) startWorkerLocked(inst *instance, probe pods.ProbeType) {
	spec := probeSpec(inst.container, probe)
	if spec == nil || inst.workers[probe] != nil || m.stopped {
		return
	}
	r, known := m.results[probe][inst.id]
	if known && r == pods.ProbeFailure && (probe == pods.Liveness || probe == pods.Startup) {
		return
	}
	if !known {
		if initial, ok := initialResult(probe); ok {
			m.setLocked(probe, inst.id, initial)
		}
	}
	w := newWorker(m, inst, probe, withDefaults(spec))
	inst.workers[probe] = w
	m.log.V(4).Info("Starting probe worker", "probeType", probe, "pod", klog.KObj(inst.pod), "podUID", inst.key.podUID, "container", inst.key.name, "containerID", inst.id)
	m.wg.Add(1)
	go w.run()
}

// setLocked records a result and says whether it changed.
func (m *Manager) setLocked(probe pods.ProbeType, id string, result pods.ProbeResult) bool {
	results := m.results[probe]
	if results == nil {
		results = map[string]pods.ProbeResult{}
		m.results[probe] = results
	}
	if prev, ok := results[id]; ok && prev == result {
		return false
	}
	results[id] = result
	return true
}

// record records a result a worker reached and says whether it changed
// and whether the worker goes on. A worker that was stopped meanwhile
// records nothing.
func (m *Manager) record(w *worker, result pods.ProbeResult) (changed, keepGoing bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inst := w.inst
	if m.instances[inst.key] != inst || inst.workers[w.probe] != w {
		return false, false
	}
	changed = m.setLocked(w.probe, inst.id, result)
	switch {
	case w.probe == pods.Startup:
		// The container started or is doomed: either way the startup
		// probe answered. Once started, readiness and liveness begin.
		delete(inst.workers, pods.Startup)
		if result == pods.ProbeSuccess {
			m.ensureWorkersLocked(inst)
		}
		return changed, false
	case w.probe == pods.Liveness && result == pods.ProbeFailure:
		// The container is about to be killed; its successor gets new
		// workers.
		delete(inst.workers, pods.Liveness)
		return changed, false
	}
	return changed, true
}

// target is what a worker probes, read under the lock.
func (m *Manager) target(w *worker) (*corev1.Pod, string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.inst.workers[w.probe] != w {
		return nil, "", false
	}
	return w.inst.pod, w.inst.podIP, true
}

// exited forgets a worker that ended.
func (m *Manager) exited(w *worker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.inst.workers[w.probe] == w {
		delete(w.inst.workers, w.probe)
	}
}

func (m *Manager) notify(uid types.UID) {
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(uid)
	}
}

// initialResult is a probe's result before it first reaches a threshold,
// as upstream's: readiness fails, liveness succeeds, startup is unknown.
func initialResult(probe pods.ProbeType) (pods.ProbeResult, bool) {
	switch probe {
	case pods.Readiness:
		return pods.ProbeFailure, true
	case pods.Liveness:
		return pods.ProbeSuccess, true
	}
	return 0, false
}

// probedContainers are the containers whose probes the kubelet runs: app
// containers and restartable init containers (sidecars) with a probe.
func probedContainers(pod *corev1.Pod) []*corev1.Container {
	var list []*corev1.Container
	hasProbe := func(c *corev1.Container) bool {
		return c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways && hasProbe(c) {
			list = append(list, c)
		}
	}
	for i := range pod.Spec.Containers {
		if c := &pod.Spec.Containers[i]; hasProbe(c) {
			list = append(list, c)
		}
	}
	return list
}

// findStatus finds a container's status by name among the app and init
// containers' statuses.
func findStatus(status *corev1.PodStatus, name string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{status.ContainerStatuses, status.InitContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// runtimeID strips the "<runtime>://" prefix of a status's container ID.
func runtimeID(containerID string) string {
	for i := 0; i+3 <= len(containerID); i++ {
		if containerID[i:i+3] == "://" {
			return containerID[i+3:]
		}
	}
	return containerID
}

// probeSpec is a container's probe of a kind, nil when it has none.
func probeSpec(c *corev1.Container, probe pods.ProbeType) *corev1.Probe {
	switch probe {
	case pods.Liveness:
		return c.LivenessProbe
	case pods.Readiness:
		return c.ReadinessProbe
	case pods.Startup:
		return c.StartupProbe
	}
	return nil
}

// withDefaults fills in the API's defaults a probe may lack when it did not
// go through the API server's defaulting (static pods, tests): a 1s
// timeout, a 10s period, one success and three failures.
func withDefaults(p *corev1.Probe) *corev1.Probe {
	p = p.DeepCopy()
	if p.TimeoutSeconds <= 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds <= 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold <= 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold <= 0 {
		p.FailureThreshold = 3
	}
	if p.InitialDelaySeconds < 0 {
		p.InitialDelaySeconds = 0
	}
	return p
}
