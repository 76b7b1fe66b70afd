package proxy

import (
	"reflect"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
)

// ServicePortMap maps each proxied Service port to what the proxy knows of
// it.
type ServicePortMap map[ServicePortName]*ServicePort

// serviceChange accumulates the changes of one Service since the last sync:
// previous is what was applied, current what the Service is now.
type serviceChange struct {
	previous ServicePortMap
	current  ServicePortMap
}

// ServiceChangeTracker records the Service changes seen since the last sync,
// keyed by Service. It is safe for concurrent use.
type ServiceChangeTracker struct {
	family corev1.IPFamily
	logger logr.Logger

	mu    sync.Mutex
	items map[types.NamespacedName]*serviceChange
}

// NewServiceChangeTracker returns a tracker of the Service ports of family.
func NewServiceChangeTracker(logger logr.Logger, family corev1.IPFamily) *ServiceChangeTracker {
	return &ServiceChangeTracker{family: family, logger: logger, items: map[types.NamespacedName]*serviceChange{}}
}

// Update records a change from previous to current; either may be nil (an
// add or a delete), not both. It reports whether the tracker holds changes
// to sync, whether or not this call caused them.
func (t *ServiceChangeTracker) Update(previous, current *corev1.Service) bool {
	svc := current
	if svc == nil {
		svc = previous
	}
	if svc == nil {
		return false
	}
	nn := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}

	t.mu.Lock()
	defer t.mu.Unlock()
	change, ok := t.items[nn]
	if !ok {
		change = &serviceChange{previous: t.servicePorts(previous)}
		t.items[nn] = change
	}
	change.current = t.servicePorts(current)
	if reflect.DeepEqual(change.previous, change.current) {
		delete(t.items, nn)
	} else {
		t.logger.V(4).Info("Service ports changed", "service", klog.KObj(svc), "ports", len(change.current))
	}
	return len(t.items) > 0
}

// PendingChanges returns the Services with changes not yet applied.
func (t *ServiceChangeTracker) PendingChanges() sets.Set[types.NamespacedName] {
	t.mu.Lock()
	defer t.mu.Unlock()
	return sets.KeySet(t.items)
}

// servicePorts is the ServicePortMap of svc: empty for a nil, skipped, or
// other-family Service.
func (t *ServiceChangeTracker) servicePorts(svc *corev1.Service) ServicePortMap {
	if svc == nil || ShouldSkipService(svc) || ClusterIPOfFamily(t.family, svc) == "" {
		return nil
	}
	m := ServicePortMap{}
	nn := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	for i := range svc.Spec.Ports {
		port := &svc.Spec.Ports[i]
		sp := NewServicePort(svc, t.family, port)
		m[ServicePortName{NamespacedName: nn, Port: port.Name, Protocol: sp.Protocol}] = sp
	}
	return m
}

// UpdateServiceMapResult tells what applying the Service changes did.
type UpdateServiceMapResult struct {
	// UpdatedServices are the Services added, changed or deleted.
	UpdatedServices sets.Set[types.NamespacedName]
	// DeletedUDPClusterIPs are the cluster IPs of UDP ports that went
	// away; their conntrack entries are stale.
	DeletedUDPClusterIPs sets.Set[string]
}

// Update applies and clears the changes t recorded.
func (m ServicePortMap) Update(t *ServiceChangeTracker) UpdateServiceMapResult {
	result := UpdateServiceMapResult{
		UpdatedServices:      sets.New[types.NamespacedName](),
		DeletedUDPClusterIPs: sets.New[string](),
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for nn, change := range t.items {
		result.UpdatedServices.Insert(nn)
		for name, port := range change.previous {
			if _, kept := change.current[name]; kept {
				continue
			}
			if port.Protocol == corev1.ProtocolUDP {
				result.DeletedUDPClusterIPs.Insert(port.ClusterIP.String())
			}
			delete(m, name)
		}
		for name, port := range change.current {
			m[name] = port
		}
	}
	t.items = map[types.NamespacedName]*serviceChange{}
	return result
}
