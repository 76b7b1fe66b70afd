// Package async runs a function on demand, but not too often: the proxy's
// sync runner, in the shape of kube-proxy's BoundedFrequencyRunner. Run asks
// for a run; runs are spaced at least minInterval apart on average (a token
// bucket allows a burst), happen at least every maxInterval, and a failed run
// may ask to be retried after a delay.
package async

import (
	"context"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// BoundedFrequencyRunner runs fn from its Loop. Create it with
// NewBoundedFrequencyRunner.
type BoundedFrequencyRunner struct {
	fn          func()
	minInterval time.Duration
	maxInterval time.Duration
	burst       float64
	clock       clock.Clock

	// wake tells the loop to look again at what is asked of it.
	wake chan struct{}

	mu      sync.Mutex
	pending bool      // a run was asked for
	retryAt time.Time // a retry is due then (zero: none)
	tokens  float64
	filled  time.Time // when tokens was last refilled
}

// NewBoundedFrequencyRunner returns a runner of fn that allows burst runs in
// a row, then one per minInterval, and runs fn at least every maxInterval.
// A nil clk is the real clock.
func NewBoundedFrequencyRunner(fn func(), minInterval, maxInterval time.Duration, burst int, clk clock.Clock) *BoundedFrequencyRunner {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if burst < 1 {
		burst = 1
	}
	return &BoundedFrequencyRunner{
		fn:          fn,
		minInterval: minInterval,
		maxInterval: maxInterval,
		burst:       float64(burst),
		clock:       clk,
		wake:        make(chan struct{}, 1),
		tokens:      float64(burst),
		filled:      clk.Now(),
	}
}

// Run asks for a run as soon as the rate allows. It does not block.
func (r *BoundedFrequencyRunner) Run() {
	r.mu.Lock()
	r.pending = true
	r.mu.Unlock()
	r.poke()
}

// RetryAfter asks for a run after d, unless one happens earlier. It may be
// called from fn.
func (r *BoundedFrequencyRunner) RetryAfter(d time.Duration) {
	r.mu.Lock()
	at := r.clock.Now().Add(d)
	if r.retryAt.IsZero() || at.Before(r.retryAt) {
		r.retryAt = at
	}
	r.mu.Unlock()
	r.poke()
}

func (r *BoundedFrequencyRunner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// epsilon absorbs the rounding of token arithmetic.
const epsilon = 1e-9

// Loop runs fn as asked until ctx is done.
func (r *BoundedFrequencyRunner) Loop(ctx context.Context) {
	nextMax := r.clock.Now().Add(r.maxInterval)
	for {
		now := r.clock.Now()
		if r.due(now, nextMax) {
			r.fn()
			nextMax = r.clock.Now().Add(r.maxInterval)
			continue
		}
		timer := r.clock.NewTimer(r.nextWake(now, nextMax).Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-r.wake:
		case <-timer.C():
		}
		timer.Stop()
	}
}

// due reports whether fn should run now, and takes its token if so.
func (r *BoundedFrequencyRunner) due(now, nextMax time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.retryAt.IsZero() && !now.Before(r.retryAt) {
		r.pending = true
	}
	if !now.Before(nextMax) {
		r.pending = true
	}
	if !r.pending {
		return false
	}
	r.refill(now)
	if r.minInterval > 0 && r.tokens < 1-epsilon {
		return false
	}
	r.tokens = max(r.tokens-1, 0)
	r.pending = false
	r.retryAt = time.Time{}
	return true
}

// nextWake is when the loop must look again without being poked.
func (r *BoundedFrequencyRunner) nextWake(now, nextMax time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	wake := nextMax
	if !r.retryAt.IsZero() && r.retryAt.Before(wake) {
		wake = r.retryAt
	}
	if r.pending && r.minInterval > 0 {
		need := time.Duration((1 - r.tokens) * float64(r.minInterval))
		if at := now.Add(need); at.Before(wake) {
			wake = at
		}
	}
	if wake.Before(now) {
		wake = now
	}
	return wake
}

func (r *BoundedFrequencyRunner) refill(now time.Time) {
	if r.minInterval <= 0 {
		r.tokens = r.burst
		return
	}
	elapsed := now.Sub(r.filled)
	if elapsed > 0 {
		r.tokens += float64(elapsed) / float64(r.minInterval)
		if r.tokens > r.burst {
			r.tokens = r.burst
		}
	}
	r.filled = now
}
