package pods

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	testingclock "k8s.io/utils/clock/testing"
)

// TestCrashLoopBackoff follows a container that crashes as soon as it
// starts, restarted as the kubelet does: when it is not in back-off since
// it finished, record the failure and start it. The waits between
// restarts double from 0 (the first restart is immediate) to 5 minutes.
func TestCrashLoopBackoff(t *testing.T) {
	clock := testingclock.NewFakeClock(t0)
	b := NewDefaultBackoff(clock)
	const key = "web_default_uid_app_hash"

	var waits []time.Duration
	finished := clock.Now() // the first run crashed at once
	for len(waits) < 9 {
		if b.IsInBackOffSince(key, finished) {
			if b.RemainingSince(key, finished) <= 0 {
				t.Fatal("in back-off with nothing remaining")
			}
			clock.Step(time.Second)
			continue
		}
		waits = append(waits, clock.Since(finished))
		b.Next(key, finished)
		finished = clock.Now() // restarted, and crashed at once
	}
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits before each restart (-want +got):\n%s", diff)
	}
}

// TestBackoffResetsAfterTenMinutesOfRunning: a container that ran for more
// than 10 minutes before failing again starts over at 10s.
func TestBackoffResetsAfterTenMinutesOfRunning(t *testing.T) {
	clock := testingclock.NewFakeClock(t0)
	b := NewDefaultBackoff(clock)
	const key = "app"
	for range 4 {
		b.Next(key, clock.Now())
		clock.Step(b.Get(key))
	}
	if got := b.Get(key); got != 80*time.Second {
		t.Fatalf("delay = %v, want 80s", got)
	}

	// Ran 8 minutes (9m20s since the last failure): the back-off keeps
	// growing.
	clock.Step(8 * time.Minute)
	b.Next(key, clock.Now())
	if got := b.Get(key); got != 160*time.Second {
		t.Errorf("after 8 minutes: delay = %v, want 160s", got)
	}

	// Ran 11 minutes: it starts over.
	clock.Step(11 * time.Minute)
	if b.IsInBackOffSince(key, clock.Now()) {
		t.Errorf("still in back-off after 11 minutes of running")
	}
	b.Next(key, clock.Now())
	if got := b.Get(key); got != 10*time.Second {
		t.Errorf("after 11 minutes: delay = %v, want 10s", got)
	}
}

func TestBackoffSinceUpdate(t *testing.T) {
	clock := testingclock.NewFakeClock(t0)
	b := NewDefaultBackoff(clock)
	if b.IsInBackOffSinceUpdate("img", clock.Now()) {
		t.Fatal("in back-off without a failure")
	}
	b.Next("img", clock.Now())
	clock.Step(9 * time.Second)
	if !b.IsInBackOffSinceUpdate("img", clock.Now()) {
		t.Error("not in back-off 9s after the first failure")
	}
	clock.Step(time.Second)
	if b.IsInBackOffSinceUpdate("img", clock.Now()) {
		t.Error("in back-off 10s after the first failure")
	}
}

func TestBackoffGC(t *testing.T) {
	clock := testingclock.NewFakeClock(t0)
	b := NewDefaultBackoff(clock)
	b.Next("old", clock.Now())
	clock.Step(5 * time.Minute)
	b.Next("recent", clock.Now())
	clock.Step(6 * time.Minute)
	b.GC()
	if b.Get("old") != 0 {
		t.Error("old entry survived the GC")
	}
	if b.Get("recent") == 0 {
		t.Error("recent entry was collected")
	}
}
