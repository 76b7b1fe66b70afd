package pods

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// TerminationPrerequisites says, for each running sidecar (restartable
// init container) of a pod being killed, which running containers must
// have stopped before it is stopped, as upstream's kubelet orders a pod's
// termination since sidecars exist: the main containers first, then the
// sidecars in the reverse order of their definition. A sidecar waits for
// every running main container and for the nearest running sidecar
// defined after it (which waits for the next, and so on). Main containers
// and plain init containers wait for nothing; a pod without sidecars has
// no prerequisites (nil).
func TerminationPrerequisites(pod *corev1.Pod, running []string) map[string][]string {
	isRunning := make(map[string]bool, len(running))
	for _, name := range running {
		isRunning[name] = true
	}
	var mains []string
	for _, c := range pod.Spec.Containers {
		if isRunning[c.Name] {
			mains = append(mains, c.Name)
		}
	}
	var prereqs map[string][]string
	later := "" // the nearest running sidecar defined after the current one
	for i := len(pod.Spec.InitContainers) - 1; i >= 0; i-- {
		c := &pod.Spec.InitContainers[i]
		if !isRestartableInitContainer(c) || !isRunning[c.Name] {
			continue
		}
		if prereqs == nil {
			prereqs = map[string][]string{}
		}
		wait := append([]string{}, mains...)
		if later != "" {
			wait = append(wait, later)
		}
		prereqs[c.Name] = wait
		later = c.Name
	}
	return prereqs
}

// terminationOrder makes the containers of a pod being killed wait for
// their turn (see TerminationPrerequisites). A nil order waits for
// nothing.
type terminationOrder struct {
	clock   clock.Clock
	prereqs map[string][]string

	mu sync.Mutex
	// stopped are closed once the container of that name stopped.
	stopped map[string]chan struct{}
}

// newTerminationOrder is the order of the running containers of pod, or
// nil when nothing has to wait.
func newTerminationOrder(pod *corev1.Pod, running []*RuntimeContainer, clk clock.Clock) *terminationOrder {
	names := make([]string, 0, len(running))
	for _, c := range running {
		names = append(names, c.Name)
	}
	prereqs := TerminationPrerequisites(pod, names)
	if prereqs == nil {
		return nil
	}
	o := &terminationOrder{clock: clk, prereqs: prereqs, stopped: map[string]chan struct{}{}}
	for _, name := range names {
		o.stopped[name] = make(chan struct{})
	}
	return o
}

// waitForTurn waits until the containers that must stop before the
// container name have stopped, at most gracePeriod seconds (or until ctx
// ends), and returns how long it waited.
func (o *terminationOrder) waitForTurn(ctx context.Context, name string, gracePeriod int64) time.Duration {
	if o == nil || gracePeriod <= 0 || len(o.prereqs[name]) == 0 {
		return 0
	}
	start := o.clock.Now()
	timer := o.clock.NewTimer(time.Duration(gracePeriod) * time.Second)
	defer timer.Stop()
	for _, before := range o.prereqs[name] {
		o.mu.Lock()
		ch := o.stopped[before]
		o.mu.Unlock()
		if ch == nil {
			continue
		}
		select {
		case <-ch:
		case <-timer.C():
			return o.clock.Since(start)
		case <-ctx.Done():
			return o.clock.Since(start)
		}
	}
	return o.clock.Since(start)
}

// containerStopped says the container name stopped: those waiting for it
// may go.
func (o *terminationOrder) containerStopped(name string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if ch, ok := o.stopped[name]; ok && ch != nil {
		close(ch)
		o.stopped[name] = nil
	}
}
