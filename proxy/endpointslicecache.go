package proxy

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/go-logr/logr"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	netutils "k8s.io/utils/net"
)

// EndpointsMap maps each Service port to its endpoints, sorted by String.
type EndpointsMap map[ServicePortName][]*Endpoint

// sliceData is one EndpointSlice as applied or pending, or its removal.
type sliceData struct {
	slice  *discoveryv1.EndpointSlice
	remove bool
}

// sliceTracker holds the slices of one Service: those the proxier applied
// and those changed since.
type sliceTracker struct {
	applied map[string]*sliceData
	pending map[string]*sliceData
}

// endpointSliceCache keeps the EndpointSlices of every Service, grouped by
// Service and slice name: an endpoint moving between two slices of a
// Service must not disappear in between. Not safe for concurrent use; the
// EndpointsChangeTracker locks around it.
type endpointSliceCache struct {
	nodeName string
	logger   logr.Logger
	services map[types.NamespacedName]*sliceTracker
}

func newEndpointSliceCache(logger logr.Logger, nodeName string) *endpointSliceCache {
	return &endpointSliceCache{nodeName: nodeName, logger: logger, services: map[types.NamespacedName]*sliceTracker{}}
}

// sliceKeys returns the Service an EndpointSlice belongs to (its
// kubernetes.io/service-name label) and the slice's name.
func sliceKeys(slice *discoveryv1.EndpointSlice) (types.NamespacedName, string, error) {
	service := slice.Labels[discoveryv1.LabelServiceName]
	if service == "" {
		return types.NamespacedName{}, "", fmt.Errorf("no %s label set on endpoint slice %s", discoveryv1.LabelServiceName, slice.Name)
	}
	if slice.Namespace == "" || slice.Name == "" {
		return types.NamespacedName{}, "", fmt.Errorf("endpoint slice %q has no name or namespace", slice.Name)
	}
	return types.NamespacedName{Namespace: slice.Namespace, Name: service}, slice.Name, nil
}

// updatePending records slice (or its removal) as pending, and reports
// whether that changes anything.
func (c *endpointSliceCache) updatePending(service types.NamespacedName, name string, slice *discoveryv1.EndpointSlice, remove bool) bool {
	data := &sliceData{slice: slice, remove: remove}
	tracker, ok := c.services[service]
	if !ok {
		if remove {
			return false
		}
		tracker = &sliceTracker{applied: map[string]*sliceData{}, pending: map[string]*sliceData{}}
		c.services[service] = tracker
	}
	if pending, ok := tracker.pending[name]; ok {
		if reflect.DeepEqual(pending, data) {
			return false
		}
	} else if applied, ok := tracker.applied[name]; ok {
		if reflect.DeepEqual(applied, data) {
			return false
		}
	} else if remove {
		return false
	}
	tracker.pending[name] = data
	return true
}

// endpointsChange is the endpoints of one Service before and after the
// changes since the last sync.
type endpointsChange struct {
	previous EndpointsMap
	current  EndpointsMap
}

// checkoutChanges applies the pending slices and returns what changed, by
// Service.
func (c *endpointSliceCache) checkoutChanges() map[types.NamespacedName]*endpointsChange {
	changes := map[types.NamespacedName]*endpointsChange{}
	for service, tracker := range c.services {
		if len(tracker.pending) == 0 {
			continue
		}
		change := &endpointsChange{previous: c.endpointsMap(service, tracker.applied)}
		for name, data := range tracker.pending {
			if data.remove {
				delete(tracker.applied, name)
			} else {
				tracker.applied[name] = data
			}
			delete(tracker.pending, name)
		}
		if len(tracker.applied) == 0 {
			delete(c.services, service)
		}
		change.current = c.endpointsMap(service, tracker.applied)
		changes[service] = change
	}
	return changes
}

// endpointsMap merges the endpoints of a Service's slices by port.
func (c *endpointSliceCache) endpointsMap(service types.NamespacedName, slices map[string]*sliceData) EndpointsMap {
	byPort := map[ServicePortName]map[string]*Endpoint{}
	for _, data := range slices {
		for _, port := range data.slice.Ports {
			if port.Name == nil {
				c.logger.Error(nil, "Ignoring port with nil name", "endpointSlice", data.slice.Name)
				continue
			}
			if port.Port == nil || *port.Port == 0 {
				c.logger.Error(nil, "Ignoring invalid endpoint port", "endpointSlice", data.slice.Name, "portName", *port.Name)
				continue
			}
			name := ServicePortName{NamespacedName: service, Port: *port.Name, Protocol: "TCP"}
			if port.Protocol != nil {
				name.Protocol = *port.Protocol
			}
			if byPort[name] == nil {
				byPort[name] = map[string]*Endpoint{}
			}
			c.addEndpoints(byPort[name], int(*port.Port), data.slice.Endpoints)
		}
	}
	m := EndpointsMap{}
	for name, set := range byPort {
		if len(set) == 0 {
			continue
		}
		eps := make([]*Endpoint, 0, len(set))
		for _, ep := range set {
			eps = append(eps, ep)
		}
		sort.Slice(eps, func(i, j int) bool { return eps[i].String() < eps[j].String() })
		m[name] = eps
	}
	return m
}

// addEndpoints adds the endpoints of a slice on port to set, by "ip:port".
func (c *endpointSliceCache) addEndpoints(set map[string]*Endpoint, port int, endpoints []discoveryv1.Endpoint) {
	for _, e := range endpoints {
		if len(e.Addresses) == 0 {
			continue
		}
		ip := netutils.ParseIPSloppy(e.Addresses[0])
		if ip == nil {
			continue
		}
		local := c.nodeName != "" && e.NodeName != nil && *e.NodeName == c.nodeName
		ready := e.Conditions.Ready == nil || *e.Conditions.Ready
		serving := e.Conditions.Serving == nil || *e.Conditions.Serving
		terminating := e.Conditions.Terminating != nil && *e.Conditions.Terminating
		ep := NewEndpoint(ip.String(), port, local, ready, serving, terminating)
		if e.Hints != nil {
			for _, z := range e.Hints.ForZones {
				if ep.ZoneHints == nil {
					ep.ZoneHints = sets.New[string]()
				}
				ep.ZoneHints.Insert(z.Name)
			}
			for _, n := range e.Hints.ForNodes {
				if ep.NodeHints == nil {
					ep.NodeHints = sets.New[string]()
				}
				ep.NodeHints.Insert(n.Name)
			}
		}
		// An endpoint may show up twice while it moves between slices,
		// or a new pod may reuse a terminating pod's IP: prefer the one
		// that is not terminating, as upstream.
		if _, exists := set[ep.String()]; !exists || !terminating {
			set[ep.String()] = ep
		}
	}
}
