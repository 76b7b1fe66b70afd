// Package healthcheck serves the proxy's /healthz and /livez, as
// kube-proxy's proxier health server: the proxy is healthy unless a sync
// was asked for and has not happened within the health timeout (twice the
// sync period), for any IP family.
package healthcheck

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// ProxyHealth tracks the proxiers' syncs. It implements the proxier's
// HealthUpdater.
type ProxyHealth struct {
	timeout time.Duration
	clock   clock.PassiveClock

	mu            sync.Mutex
	lastUpdated   map[corev1.IPFamily]time.Time
	oldestPending map[corev1.IPFamily]time.Time
}

// New returns a tracker for which a sync pending longer than timeout is
// unhealthy. A nil clk is the real clock.
func New(timeout time.Duration, clk clock.PassiveClock) *ProxyHealth {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &ProxyHealth{timeout: timeout, clock: clk, lastUpdated: map[corev1.IPFamily]time.Time{}, oldestPending: map[corev1.IPFamily]time.Time{}}
}

// QueuedUpdate records that family's proxier was asked to sync.
func (h *ProxyHealth) QueuedUpdate(family corev1.IPFamily) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.oldestPending[family]; !ok {
		h.oldestPending[family] = h.clock.Now()
	}
}

// Updated records that family's proxier synced (or started).
func (h *ProxyHealth) Updated(family corev1.IPFamily) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.oldestPending, family)
	h.lastUpdated[family] = h.clock.Now()
}

// Healthy reports whether no proxier has a sync pending for longer than the
// timeout, and when the last sync was.
func (h *ProxyHealth) Healthy() (bool, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	var last time.Time
	healthy := true
	for family, t := range h.lastUpdated {
		if t.After(last) {
			last = t
		}
		if pending, ok := h.oldestPending[family]; ok && now.Sub(pending) >= h.timeout {
			healthy = false
		}
	}
	return healthy, last
}

type status struct {
	LastUpdated  time.Time `json:"lastUpdated"`
	CurrentTime  time.Time `json:"currentTime"`
	NodeEligible *bool     `json:"nodeEligible,omitempty"`
}

// Handler serves /healthz and /livez.
func (h *ProxyHealth) Handler() http.Handler {
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, _ *http.Request) {
		healthy, last := h.Healthy()
		eligible := true
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !healthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(status{LastUpdated: last, CurrentTime: h.clock.Now(), NodeEligible: &eligible})
	}
	mux.HandleFunc("/healthz", serve)
	mux.HandleFunc("/livez", serve)
	return mux
}
