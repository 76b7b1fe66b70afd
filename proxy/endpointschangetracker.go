package proxy

import (
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
)

// EndpointsChangeTracker records the EndpointSlice changes seen since the
// last sync. It is safe for concurrent use.
type EndpointsChangeTracker struct {
	addressType discoveryv1.AddressType
	logger      logr.Logger

	mu    sync.Mutex
	cache *endpointSliceCache
}

// NewEndpointsChangeTracker returns a tracker of the EndpointSlices of
// family; endpoints on nodeName are local.
func NewEndpointsChangeTracker(logger logr.Logger, family corev1.IPFamily, nodeName string) *EndpointsChangeTracker {
	addressType := discoveryv1.AddressTypeIPv4
	if family == corev1.IPv6Protocol {
		addressType = discoveryv1.AddressTypeIPv6
	}
	return &EndpointsChangeTracker{addressType: addressType, logger: logger, cache: newEndpointSliceCache(logger, nodeName)}
}

// EndpointSliceUpdate records slice, or its removal, and reports whether
// that is a change to sync. Slices of another address type are ignored.
func (t *EndpointsChangeTracker) EndpointSliceUpdate(slice *discoveryv1.EndpointSlice, remove bool) bool {
	if slice.AddressType != t.addressType {
		t.logger.V(4).Info("Ignoring EndpointSlice of another address type", "endpointSlice", klog.KObj(slice), "type", slice.AddressType, "expected", t.addressType)
		return false
	}
	service, name, err := sliceKeys(slice)
	if err != nil {
		t.logger.Info("Ignoring EndpointSlice", "endpointSlice", klog.KObj(slice), "err", err)
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cache.updatePending(service, name, slice, remove)
}

// PendingChanges returns the Services whose endpoints changed since the last
// sync.
func (t *EndpointsChangeTracker) PendingChanges() sets.Set[types.NamespacedName] {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := sets.New[types.NamespacedName]()
	for service, tracker := range t.cache.services {
		if len(tracker.pending) > 0 {
			s.Insert(service)
		}
	}
	return s
}

// ServiceEndpoint is one endpoint of one Service port.
type ServiceEndpoint struct {
	Endpoint        string
	ServicePortName ServicePortName
}

// UpdateEndpointsMapResult tells what applying the endpoint changes did.
type UpdateEndpointsMapResult struct {
	// UpdatedServices are the Services whose endpoints changed.
	UpdatedServices sets.Set[types.NamespacedName]
	// DeletedUDPEndpoints are serving UDP endpoints that went away or
	// stopped serving: flows to them are stale.
	DeletedUDPEndpoints []ServiceEndpoint
	// NewlyActiveUDPServices are UDP Service ports that went from no
	// serving endpoint to some: flows that were black-holed while they
	// had none are stale.
	NewlyActiveUDPServices []ServicePortName
}

// Update applies and clears the changes t recorded.
func (m EndpointsMap) Update(t *EndpointsChangeTracker) UpdateEndpointsMapResult {
	result := UpdateEndpointsMapResult{UpdatedServices: sets.New[types.NamespacedName]()}
	t.mu.Lock()
	changes := t.cache.checkoutChanges()
	t.mu.Unlock()
	for service, change := range changes {
		result.UpdatedServices.Insert(service)
		for name := range change.previous {
			delete(m, name)
		}
		for name, eps := range change.current {
			m[name] = eps
		}
		staleUDP(change.previous, change.current, &result)
	}
	return result
}

// staleUDP finds the UDP flows a change of endpoints made stale, as
// upstream's detectStaleConntrackEntries.
func staleUDP(previous, current EndpointsMap, result *UpdateEndpointsMapResult) {
	for name, eps := range previous {
		if name.Protocol != corev1.ProtocolUDP {
			continue
		}
		for _, ep := range eps {
			// No traffic went to an endpoint that was not serving.
			if !ep.Serving {
				continue
			}
			kept := false
			for _, now := range current[name] {
				if now.String() == ep.String() && now.Serving {
					kept = true
					break
				}
			}
			if !kept {
				result.DeletedUDPEndpoints = append(result.DeletedUDPEndpoints, ServiceEndpoint{Endpoint: ep.String(), ServicePortName: name})
			}
		}
	}
	for name, eps := range current {
		if name.Protocol != corev1.ProtocolUDP {
			continue
		}
		if countServing(eps) > 0 && countServing(previous[name]) == 0 {
			result.NewlyActiveUDPServices = append(result.NewlyActiveUDPServices, name)
		}
	}
}

func countServing(eps []*Endpoint) int {
	n := 0
	for _, ep := range eps {
		if ep.Serving {
			n++
		}
	}
	return n
}
