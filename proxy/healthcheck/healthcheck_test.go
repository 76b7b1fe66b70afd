package healthcheck

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	testingclock "k8s.io/utils/clock/testing"
)

func TestHealth(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Now())
	h := New(time.Minute, clk)
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	code := func() int {
		rec := httptest.NewRecorder()
		h.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code
	}
	h.Updated(v4)
	h.Updated(v6)
	if c := code(); c != http.StatusOK {
		t.Fatalf("Fresh proxiers: %d, want 200", c)
	}
	h.QueuedUpdate(v6)
	clk.Step(30 * time.Second)
	h.QueuedUpdate(v6) // does not move the oldest pending update
	if c := code(); c != http.StatusOK {
		t.Fatalf("Update pending for 30s: %d, want 200", c)
	}
	clk.Step(30 * time.Second)
	if c := code(); c != http.StatusServiceUnavailable {
		t.Fatalf("Update pending for 60s: %d, want 503", c)
	}
	h.Updated(v6)
	if c := code(); c != http.StatusOK {
		t.Fatalf("After the sync: %d, want 200", c)
	}
	// Idle for long without pending updates is healthy.
	clk.Step(time.Hour)
	if c := code(); c != http.StatusOK {
		t.Fatalf("Idle: %d, want 200", c)
	}
}
