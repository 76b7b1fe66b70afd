package pods

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Upstream kubelet's back-off: 10s, doubling to 5 minutes, forgotten after
// 10 minutes without a failure.
const (
	DefaultBackoffInitial    = 10 * time.Second
	DefaultBackoffMax        = 5 * time.Minute
	DefaultBackoffResetAfter = 10 * time.Minute
)

// Backoff delays retries of something that keeps failing (restarting a
// crashing container, pulling an image), per key, with the semantics of
// client-go's flowcontrol.Backoff: the first failure waits Initial, each
// next one twice as long up to Max, and a key that has not failed for
// ResetAfter starts over. It is safe for concurrent use.
type Backoff struct {
	mu         sync.Mutex
	clock      clock.PassiveClock
	initial    time.Duration
	max        time.Duration
	resetAfter time.Duration
	entries    map[string]*backoffEntry
}

type backoffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

// NewBackoff returns a back-off reading time from clk.
func NewBackoff(clk clock.PassiveClock, initial, max, resetAfter time.Duration) *Backoff {
	return &Backoff{
		clock:      clk,
		initial:    initial,
		max:        max,
		resetAfter: resetAfter,
		entries:    map[string]*backoffEntry{},
	}
}

// NewDefaultBackoff is upstream's: 10s doubling to 5m, reset after 10m.
func NewDefaultBackoff(clk clock.PassiveClock) *Backoff {
	return NewBackoff(clk, DefaultBackoffInitial, DefaultBackoffMax, DefaultBackoffResetAfter)
}

// Get is the key's current delay (0 when it has none).
func (b *Backoff) Get(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return 0
}

// Next records a failure at eventTime: the delay doubles (or starts at
// Initial when the key is new or was reset).
func (b *Backoff) Next(key string, eventTime time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(eventTime, e) {
		e = &backoffEntry{delay: b.initial}
		b.entries[key] = e
	} else {
		e.delay = min(2*e.delay, b.max)
	}
	e.lastUpdate = b.clock.Now()
}

// IsInBackOffSince tells whether less than the key's delay has passed
// since eventTime (for a container, when it last finished).
func (b *Backoff) IsInBackOffSince(key string, eventTime time.Time) bool {
	return b.RemainingSince(key, eventTime) > 0
}

// RemainingSince is how long the back-off since eventTime still lasts.
func (b *Backoff) RemainingSince(key string, eventTime time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(eventTime, e) {
		return 0
	}
	return max(e.delay-b.clock.Since(eventTime), 0)
}

// IsInBackOffSinceUpdate tells whether less than the key's delay has
// passed between its last failure and eventTime.
func (b *Backoff) IsInBackOffSinceUpdate(key string, eventTime time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(eventTime, e) {
		return false
	}
	return eventTime.Sub(e.lastUpdate) < e.delay
}

// RemainingSinceUpdate is how long the back-off since the key's last
// failure still lasts at now.
func (b *Backoff) RemainingSinceUpdate(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(now, e) {
		return 0
	}
	return max(e.delay-now.Sub(e.lastUpdate), 0)
}

// Reset forgets the key.
func (b *Backoff) Reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, key)
}

// GC forgets the keys that have not failed for ResetAfter.
func (b *Backoff) GC() {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	for key, e := range b.entries {
		if b.expired(now, e) {
			delete(b.entries, key)
		}
	}
}

func (b *Backoff) expired(eventTime time.Time, e *backoffEntry) bool {
	return eventTime.Sub(e.lastUpdate) > b.resetAfter
}
