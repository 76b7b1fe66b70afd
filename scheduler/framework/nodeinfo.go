// Package framework holds the scheduler's pure parts: the per-node view of
// resources and ports the scheduling cycle works from, the filters that
// decide whether a pod fits a node, the scores that rank feasible nodes and
// the message explaining why a pod fits nowhere. Everything here is a
// function of a pod and NodeInfos, without clients or goroutines, so it is
// tested with tables.
package framework

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Default requests used by the scores for containers that request nothing,
// as upstream's scheduler does, so that best-effort pods still spread.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of the resources the scheduler accounts for.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// AllowedPodNumber is the pod count (node allocatable "pods").
	AllowedPodNumber int64
	// Scalar holds extended resources (example.com/gpu, hugepages-…).
	Scalar map[corev1.ResourceName]int64
}

// NewResource converts a ResourceList.
func NewResource(rl corev1.ResourceList) Resource {
	var r Resource
	r.Add(rl)
	return r
}

// Add adds a ResourceList to r.
func (r *Resource) Add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case corev1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		default:
			if r.Scalar == nil {
				r.Scalar = map[corev1.ResourceName]int64{}
			}
			r.Scalar[name] += q.Value()
		}
	}
}

func (r *Resource) addResource(o Resource, sign int64) {
	r.MilliCPU += sign * o.MilliCPU
	r.Memory += sign * o.Memory
	r.EphemeralStorage += sign * o.EphemeralStorage
	r.AllowedPodNumber += sign * o.AllowedPodNumber
	for name, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[name] += sign * v
	}
}

// HostPort is a host port a container asks for.
type HostPort struct {
	IP       string
	Protocol corev1.Protocol
	Port     int32
}

// PodInfo is a pod with what the scheduler computes from it once.
type PodInfo struct {
	Pod *corev1.Pod
	// Requests is max(sum of containers, max of init containers) plus the
	// overhead, as upstream's resource helper computes it.
	Requests Resource
	// NonZeroRequests is Requests with cpu and memory defaulted for
	// containers that request none, used by the scores.
	NonZeroRequests Resource
	// HostPorts are the host ports of its containers.
	HostPorts []HostPort
	// hasRequiredAntiAffinity: the pod has required anti-affinity terms.
	hasRequiredAntiAffinity bool
}

// NewPodInfo computes a PodInfo.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod}
	_, anti := requiredAffinity(pod)
	pi.hasRequiredAntiAffinity = len(anti) > 0
	pi.Requests = NewResource(resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}))
	nonZero := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{
		NonMissingContainerRequests: corev1.ResourceList{
			corev1.ResourceCPU:    *resourceQuantity(DefaultMilliCPURequest, true),
			corev1.ResourceMemory: *resourceQuantity(DefaultMemoryRequest, false),
		},
	})
	pi.NonZeroRequests = NewResource(nonZero)
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			for _, p := range c.Ports {
				if p.HostPort <= 0 {
					continue
				}
				proto := p.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				ip := p.HostIP
				if ip == "" {
					ip = "0.0.0.0"
				}
				pi.HostPorts = append(pi.HostPorts, HostPort{IP: ip, Protocol: proto, Port: p.HostPort})
			}
		}
	}
	return pi
}

// NodeInfo is a node with the pods bound or assumed to it.
type NodeInfo struct {
	Node *corev1.Node
	// Pods by UID.
	Pods map[types.UID]*PodInfo
	// Allocatable is the node's status.allocatable.
	Allocatable Resource
	// Requested sums the Requests of Pods.
	Requested Resource
	// NonZeroRequested sums the NonZeroRequests of Pods.
	NonZeroRequested Resource
	// UsedPorts counts the host ports Pods use.
	UsedPorts map[HostPort]int
	// PodsWithRequiredAntiAffinity counts the Pods with required
	// anti-affinity terms.
	PodsWithRequiredAntiAffinity int
}

// NewNodeInfo builds the NodeInfo of node (which may be nil while only its
// pods are known) holding pods.
func NewNodeInfo(node *corev1.Node, pods ...*corev1.Pod) *NodeInfo {
	ni := &NodeInfo{Pods: map[types.UID]*PodInfo{}, UsedPorts: map[HostPort]int{}}
	ni.SetNode(node)
	for _, p := range pods {
		ni.AddPod(NewPodInfo(p))
	}
	return ni
}

// SetNode replaces the node.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.Node = node
	if node != nil {
		n.Allocatable = NewResource(node.Status.Allocatable)
	}
}

// AddPod accounts for pi on the node; a pod already there is replaced.
func (n *NodeInfo) AddPod(pi *PodInfo) {
	n.RemovePod(pi.Pod.UID)
	n.Pods[pi.Pod.UID] = pi
	n.Requested.addResource(pi.Requests, 1)
	n.NonZeroRequested.addResource(pi.NonZeroRequests, 1)
	for _, hp := range pi.HostPorts {
		n.UsedPorts[hp]++
	}
	if pi.hasRequiredAntiAffinity {
		n.PodsWithRequiredAntiAffinity++
	}
}

// RemovePod forgets the pod with uid; it reports whether it was there.
func (n *NodeInfo) RemovePod(uid types.UID) bool {
	pi, ok := n.Pods[uid]
	if !ok {
		return false
	}
	delete(n.Pods, uid)
	n.Requested.addResource(pi.Requests, -1)
	n.NonZeroRequested.addResource(pi.NonZeroRequests, -1)
	for _, hp := range pi.HostPorts {
		if n.UsedPorts[hp]--; n.UsedPorts[hp] <= 0 {
			delete(n.UsedPorts, hp)
		}
	}
	if pi.hasRequiredAntiAffinity {
		n.PodsWithRequiredAntiAffinity--
	}
	return true
}

// Name is the node's name.
func (n *NodeInfo) Name() string {
	if n.Node == nil {
		return ""
	}
	return n.Node.Name
}

func resourceQuantity(v int64, milli bool) *resource.Quantity {
	if milli {
		return resource.NewMilliQuantity(v, resource.DecimalSI)
	}
	return resource.NewQuantity(v, resource.BinarySI)
}
