package probes

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/pods"
)

// worker runs one probe of one container instance every period until it is
// stopped or reaches a verdict that ends it (startup passed or failed,
// liveness failed).
type worker struct {
	m     *Manager
	inst  *instance
	probe pods.ProbeType
	// spec is the probe with its defaults.
	spec *corev1.Probe

	// ctx ends when the worker is stopped, aborting a probe in flight.
	ctx    context.Context
	cancel context.CancelFunc

	// streak is owned by the worker's goroutine.
	streak resultRun
}

func newWorker(m *Manager, inst *instance, probe pods.ProbeType, spec *corev1.Probe) *worker {
	ctx, cancel := context.WithCancel(m.ctx)
	log := m.log.WithValues("probeType", probe, "pod", klog.KObj(inst.pod), "podUID", inst.key.podUID, "container", inst.key.name)
	return &worker{
		m:      m,
		inst:   inst,
		probe:  probe,
		spec:   spec,
		ctx:    klog.NewContext(ctx, log),
		cancel: cancel,
	}
}

// stop ends the worker; it is safe to call more than once.
func (w *worker) stop() { w.cancel() }

// run probes until the worker ends.
func (w *worker) run() {
	defer w.m.wg.Done()
	defer w.m.exited(w)
	defer w.cancel()

	if !w.sleep(w.firstDelay()) {
		return
	}
	period := time.Duration(w.spec.PeriodSeconds) * time.Second
	for w.doProbe() {
		if !w.sleep(period) {
			return
		}
	}
}

// firstDelay is how long the first probe waits: what is left of
// initialDelaySeconds since the container started and, for a container
// that ran before the manager saw it (a restarted kubelet), a random part
// of a period so that a node's probes do not all fire at once.
func (w *worker) firstDelay() time.Duration {
	delay := w.inst.startedAt.Add(time.Duration(w.spec.InitialDelaySeconds) * time.Second).Sub(w.m.clock.Now())
	if delay < 0 {
		delay = 0
	}
	if w.inst.adopted {
		delay += w.m.jitter(time.Duration(w.spec.PeriodSeconds) * time.Second)
	}
	return delay
}

// sleep waits for d and says whether the worker goes on.
func (w *worker) sleep(d time.Duration) bool {
	if d <= 0 {
		return w.ctx.Err() == nil
	}
	t := w.m.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

// doProbe probes once, records the result once a threshold is reached and
// says whether the worker goes on.
func (w *worker) doProbe() (keepGoing bool) {
	defer utilruntime.HandleCrashWithContext(w.ctx, func(context.Context, any) { keepGoing = true })
	pod, podIP, ok := w.m.target(w)
	if !ok {
		return false
	}
	out := w.m.prober.probe(w.ctx, w.probe, w.spec, pod, w.inst.container, w.inst.id, podIP)
	if w.ctx.Err() != nil {
		// Stopped during the probe: the container is gone or replaced.
		return false
	}
	result, ok := w.m.prober.interpret(w.ctx, w.probe, pod, w.inst.container, out)
	if !ok {
		// The probe could not run: throw the result away.
		return true
	}
	if !w.streak.observe(result, w.spec) {
		return true
	}
	changed, keepGoing := w.m.record(w, result)
	if changed {
		klog.FromContext(w.ctx).V(2).Info("Probe result changed", "result", resultString(result))
		w.m.notify(w.inst.key.podUID)
	}
	return keepGoing
}

// resultRun counts how many times in a row a probe returned the same
// result.
type resultRun struct {
	last pods.ProbeResult
	run  int
}

// observe counts a result and says whether it reached its threshold
// (successThreshold successes or failureThreshold failures in a row) and
// is to be recorded.
func (r *resultRun) observe(result pods.ProbeResult, spec *corev1.Probe) bool {
	if r.last == result {
		r.run++
	} else {
		r.last, r.run = result, 1
	}
	switch result {
	case pods.ProbeFailure:
		return r.run >= int(spec.FailureThreshold)
	case pods.ProbeSuccess:
		return r.run >= int(spec.SuccessThreshold)
	}
	return false
}

func resultString(r pods.ProbeResult) string {
	switch r {
	case pods.ProbeSuccess:
		return "Success"
	case pods.ProbeFailure:
		return "Failure"
	}
	return "Unknown"
}
