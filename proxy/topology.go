package proxy

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Topology modes of CategorizeEndpoints.
const (
	topologyNone     = ""
	topologySameZone = corev1.ServiceTrafficDistributionPreferSameZone
	topologySameNode = corev1.ServiceTrafficDistributionPreferSameNode
)

// CategorizeEndpoints splits the endpoints of svc for this node, as
// upstream:
//
//   - clusterEndpoints: those Cluster traffic policy uses (nil if the port
//     never uses it), honouring topology hints;
//   - localEndpoints: those Local traffic policy uses (nil if the port never
//     uses it);
//   - allReachable: the union of both, whose endpoint chains must exist;
//   - hasAny: whether the port has usable endpoints anywhere in the cluster
//     (even if none is reachable from this node).
//
// A policy uses Ready endpoints; when it has none it falls back to Serving
// endpoints that are Terminating (independently for Cluster and Local), so
// that connections drain instead of failing during a rollout. Endpoints
// neither Ready nor Serving are never used.
func CategorizeEndpoints(endpoints []*Endpoint, svc *ServicePort, nodeName string, nodeLabels map[string]string) (clusterEndpoints, localEndpoints, allReachable []*Endpoint, hasAny bool) {
	topology := topologyNone
	if svc.UsesClusterEndpoints() {
		zone := nodeLabels[corev1.LabelTopologyZone]
		topology = topologyFromHints(endpoints, nodeName, zone)
		clusterEndpoints = filterEndpoints(endpoints, func(ep *Endpoint) bool {
			return ep.Ready && availableForTopology(ep, topology, nodeName, zone)
		})
		if len(clusterEndpoints) == 0 {
			clusterEndpoints = filterEndpoints(endpoints, func(ep *Endpoint) bool { return ep.Serving && ep.Terminating })
		}
		hasAny = len(clusterEndpoints) > 0
	}
	if !svc.UsesLocalEndpoints() {
		return clusterEndpoints, nil, clusterEndpoints, hasAny
	}

	var localReady, localServingTerminating bool
	for _, ep := range endpoints {
		switch {
		case ep.Ready:
			hasAny = true
			localReady = localReady || ep.Local
		case ep.Serving && ep.Terminating:
			hasAny = true
			localServingTerminating = localServingTerminating || ep.Local
		}
	}
	usesTerminating := false
	switch {
	case localReady:
		localEndpoints = filterEndpoints(endpoints, func(ep *Endpoint) bool { return ep.Local && ep.Ready })
	case localServingTerminating:
		usesTerminating = true
		localEndpoints = filterEndpoints(endpoints, func(ep *Endpoint) bool { return ep.Local && ep.Serving && ep.Terminating })
	}
	if !svc.UsesClusterEndpoints() {
		return nil, localEndpoints, localEndpoints, hasAny
	}
	if topology == topologyNone && !usesTerminating {
		// clusterEndpoints holds every Ready endpoint, local ones
		// included.
		return clusterEndpoints, localEndpoints, clusterEndpoints, hasAny
	}
	// Merge: clusterEndpoints may lack local endpoints that are
	// terminating or hinted elsewhere.
	seen := map[string]bool{}
	for _, ep := range append(append([]*Endpoint{}, clusterEndpoints...), localEndpoints...) {
		if !seen[ep.String()] {
			seen[ep.String()] = true
			allReachable = append(allReachable, ep)
		}
	}
	sort.Slice(allReachable, func(i, j int) bool { return allReachable[i].String() < allReachable[j].String() })
	return clusterEndpoints, localEndpoints, allReachable, hasAny
}

// topologyFromHints picks the topology mode the hints allow: PreferSameNode
// if every ready endpoint has node hints and one is for this node, else
// PreferSameZone if every ready endpoint has zone hints and one is for this
// node's zone, else none.
func topologyFromHints(endpoints []*Endpoint, nodeName, zone string) string {
	allNodeHints, forNode := true, false
	allZoneHints, forZone := true, false
	ready := 0
	for _, ep := range endpoints {
		if !ep.Ready {
			continue
		}
		ready++
		if ep.NodeHints.Len() == 0 {
			allNodeHints = false
		} else if ep.NodeHints.Has(nodeName) {
			forNode = true
		}
		if ep.ZoneHints.Len() == 0 {
			allZoneHints = false
		} else if zone != "" && ep.ZoneHints.Has(zone) {
			forZone = true
		}
	}
	switch {
	case ready == 0:
		return topologyNone
	case allNodeHints && forNode:
		return topologySameNode
	case allZoneHints && forZone:
		return topologySameZone
	}
	return topologyNone
}

func availableForTopology(ep *Endpoint, topology, nodeName, zone string) bool {
	switch topology {
	case topologyNone:
		return true
	case topologySameNode:
		return ep.NodeHints.Has(nodeName)
	case topologySameZone:
		return ep.ZoneHints.Has(zone)
	}
	return false
}

func filterEndpoints(endpoints []*Endpoint, keep func(*Endpoint) bool) []*Endpoint {
	out := make([]*Endpoint, 0, len(endpoints))
	for _, ep := range endpoints {
		if keep(ep) {
			out = append(out, ep)
		}
	}
	return out
}
