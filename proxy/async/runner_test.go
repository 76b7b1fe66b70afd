package async

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

// harness runs a runner on a fake clock and counts runs.
type harness struct {
	t     *testing.T
	clock *testingclock.FakeClock
	r     *BoundedFrequencyRunner
	runs  atomic.Int32
}

func newHarness(t *testing.T, minInterval, maxInterval time.Duration, burst int) *harness {
	h := &harness{t: t, clock: testingclock.NewFakeClock(time.Unix(1000, 0))}
	h.r = NewBoundedFrequencyRunner(func() { h.runs.Add(1) }, minInterval, maxInterval, burst, h.clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.r.Loop(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// expect waits until runs reaches want, and checks it stays there for a
// moment.
func (h *harness) expect(want int32) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.runs.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if got := h.runs.Load(); got != want {
		h.t.Fatalf("Got %d runs, want %d", got, want)
	}
}

// waitIdle waits until the loop sleeps on a timer.
func (h *harness) waitIdle() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !h.clock.HasWaiters() {
		if time.Now().After(deadline) {
			h.t.Fatal("The loop never waited")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRateLimitedWithBurst(t *testing.T) {
	h := newHarness(t, time.Second, time.Hour, 2)
	h.waitIdle()
	h.r.Run()
	h.expect(1)
	h.r.Run()
	h.expect(2)
	// The burst is spent: the next run waits for a token.
	h.r.Run()
	h.expect(2)
	h.waitIdle()
	h.clock.Step(500 * time.Millisecond)
	h.expect(2)
	h.waitIdle()
	h.clock.Step(500 * time.Millisecond)
	h.expect(3)
	// Many requests while waiting make one run.
	h.r.Run()
	h.r.Run()
	h.r.Run()
	h.waitIdle()
	h.clock.Step(time.Second)
	h.expect(4)
}

func TestMaxInterval(t *testing.T) {
	h := newHarness(t, time.Second, time.Minute, 1)
	h.waitIdle()
	h.clock.Step(time.Minute)
	h.expect(1)
	h.waitIdle()
	h.clock.Step(time.Minute)
	h.expect(2)
}

func TestRetryAfter(t *testing.T) {
	h := newHarness(t, time.Second, time.Hour, 1)
	h.waitIdle()
	h.r.RetryAfter(30 * time.Second)
	h.waitIdle()
	h.clock.Step(29 * time.Second)
	h.expect(0)
	h.waitIdle()
	h.clock.Step(time.Second)
	h.expect(1)
	// A run in between makes the retry moot.
	h.r.RetryAfter(30 * time.Second)
	h.waitIdle()
	h.clock.Step(time.Second)
	h.r.Run()
	h.expect(2)
	h.waitIdle()
	h.clock.Step(time.Minute)
	h.expect(2)
}

func TestNoMinInterval(t *testing.T) {
	h := newHarness(t, 0, time.Hour, 1)
	h.waitIdle()
	for i := int32(1); i <= 5; i++ {
		h.r.Run()
		h.expect(i)
	}
}
