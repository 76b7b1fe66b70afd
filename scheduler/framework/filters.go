package framework

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// Code says how a filter judged a node.
type Code int

const (
	// Success: the pod fits the node as far as this filter is concerned.
	Success Code = iota
	// Unschedulable: the pod does not fit, but preempting pods on the node
	// could make it fit.
	Unschedulable
	// UnschedulableAndUnresolvable: the pod does not fit and preemption
	// would not help.
	UnschedulableAndUnresolvable
)

// Status is a filter's verdict with the reasons shown to users.
type Status struct {
	Code    Code
	Reasons []string
}

// IsSuccess reports whether the node passed.
func (s *Status) IsSuccess() bool { return s == nil || s.Code == Success }

func unschedulable(code Code, reasons ...string) *Status {
	return &Status{Code: code, Reasons: reasons}
}

// Upstream's filter reasons.
const (
	ErrReasonUnschedulable     = "node(s) were unschedulable"
	ErrReasonNodeName          = "node(s) didn't match the requested node name"
	ErrReasonUntoleratedTaint  = "node(s) had untolerated taint(s)"
	ErrReasonNodeAffinity      = "node(s) didn't match Pod's node affinity/selector"
	ErrReasonNodePorts         = "node(s) didn't have free ports for the requested pod ports"
	ErrReasonTooManyPods       = "Too many pods"
	ErrReasonNodeNotFound      = "node(s) not found"
	taintNodeUnschedulable     = "node.kubernetes.io/unschedulable"
	insufficientResourcePrefix = "Insufficient "
)

// Filter judges whether a pod fits a node.
type Filter struct {
	Name string
	Fn   func(pi *PodInfo, ni *NodeInfo) *Status
}

// Filters are the filters that need only the pod and the node, in
// upstream's default order; a node is rejected by the first that fails.
var Filters = []Filter{
	{"NodeUnschedulable", NodeUnschedulable},
	{"NodeName", NodeName},
	{"TaintToleration", TaintToleration},
	{"NodeAffinity", NodeAffinity},
	{"NodePorts", NodePorts},
	{"NodeResourcesFit", NodeResourcesFit},
}

// RunFilters runs Filters, then PodTopologySpread and InterPodAffinity
// with the cycle state pf (nil when no pod has such rules), and returns the
// first failure, or nil.
func RunFilters(pf *PreFilter, pi *PodInfo, ni *NodeInfo) *Status {
	if ni.Node == nil {
		return unschedulable(UnschedulableAndUnresolvable, ErrReasonNodeNotFound)
	}
	for _, f := range Filters {
		if s := f.Fn(pi, ni); !s.IsSuccess() {
			return s
		}
	}
	if s := pf.PodTopologySpread(pi, ni); !s.IsSuccess() {
		return s
	}
	return pf.InterPodAffinity(pi, ni)
}

// NodeUnschedulable rejects cordoned nodes (spec.unschedulable) unless the
// pod tolerates the node.kubernetes.io/unschedulable:NoSchedule taint.
func NodeUnschedulable(pi *PodInfo, ni *NodeInfo) *Status {
	if !ni.Node.Spec.Unschedulable {
		return nil
	}
	taint := corev1.Taint{Key: taintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if corev1helpers.TolerationsTolerateTaint(klog.Background(), pi.Pod.Spec.Tolerations, &taint, false) {
		return nil
	}
	return unschedulable(UnschedulableAndUnresolvable, ErrReasonUnschedulable)
}

// NodeName rejects every node but the one spec.nodeName names, if any.
func NodeName(pi *PodInfo, ni *NodeInfo) *Status {
	if pi.Pod.Spec.NodeName == "" || pi.Pod.Spec.NodeName == ni.Node.Name {
		return nil
	}
	return unschedulable(UnschedulableAndUnresolvable, ErrReasonNodeName)
}

// TaintToleration rejects nodes with a NoSchedule or NoExecute taint the
// pod does not tolerate.
func TaintToleration(pi *PodInfo, ni *NodeInfo) *Status {
	_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), ni.Node.Spec.Taints, pi.Pod.Spec.Tolerations,
		func(t *corev1.Taint) bool {
			return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
		}, false)
	if !untolerated {
		return nil
	}
	return unschedulable(UnschedulableAndUnresolvable, ErrReasonUntoleratedTaint)
}

// NodeAffinity rejects nodes that do not match the pod's nodeSelector or
// its required node affinity.
func NodeAffinity(pi *PodInfo, ni *NodeInfo) *Status {
	ok, _ := nodeaffinity.GetRequiredNodeAffinity(pi.Pod).Match(ni.Node)
	if ok {
		return nil
	}
	return unschedulable(UnschedulableAndUnresolvable, ErrReasonNodeAffinity)
}

// NodePorts rejects nodes where a host port the pod wants is taken: same
// protocol and port, and the same host IP or either one 0.0.0.0.
func NodePorts(pi *PodInfo, ni *NodeInfo) *Status {
	for _, want := range pi.HostPorts {
		for used := range ni.UsedPorts {
			if used.Port != want.Port || used.Protocol != want.Protocol {
				continue
			}
			if used.IP == want.IP || used.IP == "0.0.0.0" || want.IP == "0.0.0.0" {
				return unschedulable(Unschedulable, ErrReasonNodePorts)
			}
		}
	}
	return nil
}

// NodeResourcesFit rejects nodes whose allocatable, minus the requests of
// the pods already there, cannot hold the pod's requests. A request larger
// than the node's whole allocatable cannot be fixed by preemption.
func NodeResourcesFit(pi *PodInfo, ni *NodeInfo) *Status {
	var reasons []string
	code := Unschedulable
	if int64(len(ni.Pods))+1 > ni.Allocatable.AllowedPodNumber {
		reasons = append(reasons, ErrReasonTooManyPods)
	}
	req := pi.Requests
	if req.MilliCPU == 0 && req.Memory == 0 && req.EphemeralStorage == 0 && len(req.Scalar) == 0 {
		if len(reasons) == 0 {
			return nil
		}
		return unschedulable(code, reasons...)
	}
	check := func(name corev1.ResourceName, want, allocatable, requested int64) {
		if want > 0 && want > allocatable-requested {
			reasons = append(reasons, insufficientResourcePrefix+string(name))
			if want > allocatable {
				code = UnschedulableAndUnresolvable
			}
		}
	}
	check(corev1.ResourceCPU, req.MilliCPU, ni.Allocatable.MilliCPU, ni.Requested.MilliCPU)
	check(corev1.ResourceMemory, req.Memory, ni.Allocatable.Memory, ni.Requested.Memory)
	check(corev1.ResourceEphemeralStorage, req.EphemeralStorage, ni.Allocatable.EphemeralStorage, ni.Requested.EphemeralStorage)
	for _, name := range sortedNames(req.Scalar) {
		check(name, req.Scalar[name], ni.Allocatable.Scalar[name], ni.Requested.Scalar[name])
	}
	if len(reasons) == 0 {
		return nil
	}
	return unschedulable(code, reasons...)
}

// String renders a Status for logs.
func (s *Status) String() string {
	if s.IsSuccess() {
		return "Success"
	}
	return fmt.Sprintf("%d %v", s.Code, s.Reasons)
}
