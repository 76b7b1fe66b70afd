package endpoints

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

const (
	// maxEndpointsPerSlice is upstream's default --max-endpoints-per-slice.
	maxEndpointsPerSlice = 100
	// ManagedBy is the managed-by label value of slices this controller owns.
	ManagedBy = "endpointslice-controller.k8s.io"
	// headlessLabel marks slices and Endpoints of headless services.
	headlessLabel = "service.kubernetes.io/headless"
)

// podEndpoint is one pod's entry: its address, conditions and the ports
// the Service's target ports resolve to on it.
type podEndpoint struct {
	pod   *corev1.Pod
	ports []discoveryv1.EndpointPort
	// ready: the pod is ready (or the Service publishes not-ready
	// addresses) and not terminating; serving: the pod is ready, whether or
	// not terminating.
	ready, serving, terminating bool
}

// includePod reports whether pod belongs in the Service's endpoints:
// it has an IP and is not finished. Terminating pods are kept only when
// includeTerminating (slices keep them, Endpoints do not).
func includePod(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.PodIP == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// resolvePorts maps each Service port to the port its target resolves to on
// pod. A named target port the pod does not declare leaves that port out,
// as upstream does.
func resolvePorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	var out []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		port, ok := findPort(pod, sp)
		if !ok {
			continue
		}
		out = append(out, discoveryv1.EndpointPort{
			Name:        ptr.To(sp.Name),
			Protocol:    ptr.To(sp.Protocol),
			Port:        ptr.To(port),
			AppProtocol: sp.AppProtocol,
		})
	}
	return out
}

// findPort resolves a Service port's target port on pod.
func findPort(pod *corev1.Pod, sp corev1.ServicePort) (int32, bool) {
	switch sp.TargetPort.Type {
	case intstr.String:
		name := sp.TargetPort.StrVal
		for _, c := range pod.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == name && p.Protocol == sp.Protocol {
					return p.ContainerPort, true
				}
			}
		}
		return 0, false
	default:
		if sp.TargetPort.IntVal == 0 {
			return sp.Port, true
		}
		return sp.TargetPort.IntVal, true
	}
}

// podEndpoints computes the entries of the pods selected by svc.
func podEndpoints(svc *corev1.Service, pods []*corev1.Pod, includeTerminating bool) []podEndpoint {
	var out []podEndpoint
	for _, pod := range pods {
		if !includePod(pod, includeTerminating) {
			continue
		}
		ready := podReady(pod)
		terminating := pod.DeletionTimestamp != nil
		e := podEndpoint{pod: pod, ports: resolvePorts(svc, pod), serving: ready, terminating: terminating}
		e.ready = ready && !terminating
		if svc.Spec.PublishNotReadyAddresses {
			e.ready, e.serving = true, true
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pod.Name < out[j].pod.Name })
	return out
}

// portsKey identifies a list of resolved ports.
func portsKey(ports []discoveryv1.EndpointPort) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		parts = append(parts, fmt.Sprintf("%s/%s/%d", ptr.Deref(p.Name, ""), ptr.Deref(p.Protocol, ""), ptr.Deref(p.Port, 0)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// sliceContent is what one EndpointSlice should hold.
type sliceContent struct {
	ports     []discoveryv1.EndpointPort
	endpoints []discoveryv1.Endpoint
}

// desiredSlices groups the endpoints by their resolved ports and cuts each
// group into slices of at most maxEndpointsPerSlice, in a stable order.
func desiredSlices(svc *corev1.Service, pods []*corev1.Pod) []sliceContent {
	groups := map[string]*sliceContent{}
	var keys []string
	for _, e := range podEndpoints(svc, pods, true) {
		k := portsKey(e.ports)
		g, ok := groups[k]
		if !ok {
			g = &sliceContent{ports: e.ports}
			groups[k] = g
			keys = append(keys, k)
		}
		g.endpoints = append(g.endpoints, sliceEndpoint(svc, e))
	}
	sort.Strings(keys)
	var out []sliceContent
	for _, k := range keys {
		g := groups[k]
		for start := 0; start < len(g.endpoints); start += maxEndpointsPerSlice {
			end := min(start+maxEndpointsPerSlice, len(g.endpoints))
			out = append(out, sliceContent{ports: g.ports, endpoints: g.endpoints[start:end]})
		}
	}
	return out
}

func sliceEndpoint(svc *corev1.Service, e podEndpoint) discoveryv1.Endpoint {
	pod := e.pod
	ep := discoveryv1.Endpoint{
		Addresses: []string{pod.Status.PodIP},
		Conditions: discoveryv1.EndpointConditions{
			Ready:       ptr.To(e.ready),
			Serving:     ptr.To(e.serving),
			Terminating: ptr.To(e.terminating),
		},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		ep.NodeName = ptr.To(pod.Spec.NodeName)
	}
	if h := hostname(svc, pod); h != "" {
		ep.Hostname = ptr.To(h)
	}
	return ep
}

// hostname is the pod's DNS hostname within svc: set when the pod names the
// Service as its subdomain.
func hostname(svc *corev1.Service, pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		return pod.Spec.Hostname
	}
	return ""
}

// desiredSubsets computes the legacy Endpoints subsets: one subset per set
// of resolved ports, ready pods under addresses and the others under
// notReadyAddresses; terminating pods are left out.
func desiredSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	type group struct {
		ports           []corev1.EndpointPort
		ready, notReady []corev1.EndpointAddress
	}
	groups := map[string]*group{}
	var keys []string
	for _, e := range podEndpoints(svc, pods, false) {
		if len(e.ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue
		}
		k := portsKey(e.ports)
		g, ok := groups[k]
		if !ok {
			g = &group{}
			for _, p := range e.ports {
				g.ports = append(g.ports, corev1.EndpointPort{Name: *p.Name, Port: *p.Port, Protocol: *p.Protocol, AppProtocol: p.AppProtocol})
			}
			groups[k] = g
			keys = append(keys, k)
		}
		addr := corev1.EndpointAddress{
			IP:        e.pod.Status.PodIP,
			Hostname:  hostname(svc, e.pod),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: e.pod.Namespace, Name: e.pod.Name, UID: e.pod.UID},
		}
		if e.pod.Spec.NodeName != "" {
			addr.NodeName = ptr.To(e.pod.Spec.NodeName)
		}
		if e.ready {
			g.ready = append(g.ready, addr)
		} else {
			g.notReady = append(g.notReady, addr)
		}
	}
	sort.Strings(keys)
	var out []corev1.EndpointSubset
	for _, k := range keys {
		g := groups[k]
		out = append(out, corev1.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	return out
}

// serviceLabels are the labels of the Service copied onto its slices and
// Endpoints, plus the headless marker.
func serviceLabels(svc *corev1.Service) map[string]string {
	out := map[string]string{}
	for k, v := range svc.Labels {
		out[k] = v
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		out[headlessLabel] = ""
	}
	return out
}

// addressType is the slices' address family, from the Service's.
func addressType(svc *corev1.Service) discoveryv1.AddressType {
	if len(svc.Spec.IPFamilies) > 0 && svc.Spec.IPFamilies[0] == corev1.IPv6Protocol {
		return discoveryv1.AddressTypeIPv6
	}
	return discoveryv1.AddressTypeIPv4
}
