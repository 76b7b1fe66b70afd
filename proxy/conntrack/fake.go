package conntrack

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Fake records what it was asked to clear, one line each, e.g.
// "ip 10.0.0.1 UDP", "port 30053 UDP", "nat 10.0.0.1 -> 10.1.0.2 UDP",
// "portnat 30053 -> 10.1.0.2 UDP".
type Fake struct {
	mu      sync.Mutex
	Cleared []string
}

var _ Interface = &Fake{}

func (f *Fake) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Cleared = append(f.Cleared, fmt.Sprintf(format, args...))
	return nil
}

// Take returns and forgets what was cleared so far.
func (f *Fake) Take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.Cleared
	f.Cleared = nil
	return out
}

// ClearEntriesForIP implements Interface.
func (f *Fake) ClearEntriesForIP(ip string, p corev1.Protocol) error {
	return f.record("ip %s %s", ip, p)
}

// ClearEntriesForPort implements Interface.
func (f *Fake) ClearEntriesForPort(port int, _ bool, p corev1.Protocol) error {
	return f.record("port %d %s", port, p)
}

// ClearEntriesForNAT implements Interface.
func (f *Fake) ClearEntriesForNAT(origin, dest string, p corev1.Protocol) error {
	return f.record("nat %s -> %s %s", origin, dest, p)
}

// ClearEntriesForPortNAT implements Interface.
func (f *Fake) ClearEntriesForPortNAT(dest string, port int, p corev1.Protocol) error {
	return f.record("portnat %d -> %s %s", port, dest, p)
}
