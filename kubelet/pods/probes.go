package pods

// ProbeType names a kind of probe.
type ProbeType string

// The kinds of probes.
const (
	Liveness  ProbeType = "Liveness"
	Readiness ProbeType = "Readiness"
	Startup   ProbeType = "Startup"
)

// ProbeResult is the last result of a probe.
type ProbeResult int

// Probe results.
const (
	ProbeSuccess ProbeResult = iota + 1
	ProbeFailure
)

// ProbeResults reports the latest probe results by container. The probes
// controller implements it; the status uses readiness and startup, the
// sync decisions liveness and startup.
type ProbeResults interface {
	// Get returns the latest result of a probe of the container with the
	// runtime ID containerID, and false when the probe has not run yet.
	Get(probe ProbeType, containerID string) (ProbeResult, bool)
}

// ProbeResultMap is a ProbeResults kept in a map, for tests and for
// callers that collect results themselves.
type ProbeResultMap map[ProbeType]map[string]ProbeResult

// Get implements ProbeResults.
func (m ProbeResultMap) Get(probe ProbeType, containerID string) (ProbeResult, bool) {
	r, ok := m[probe][containerID]
	return r, ok
}

// Set records a result.
func (m ProbeResultMap) Set(probe ProbeType, containerID string, result ProbeResult) {
	if m[probe] == nil {
		m[probe] = map[string]ProbeResult{}
	}
	m[probe][containerID] = result
}

// probeResult looks a result up; a nil ProbeResults knows none.
func probeResult(results ProbeResults, probe ProbeType, containerID string) (ProbeResult, bool) {
	if results == nil {
		return 0, false
	}
	return results.Get(probe, containerID)
}
