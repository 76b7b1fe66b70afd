// Package serviceresolver turns a Service reference into the URL of one of
// its ready endpoints. Admission webhooks and webhook authorizers that name a
// Service are called through it: the nucleus may run where cluster IPs are not
// routed (no proxy on its machine), so, like kube-apiserver with
// --enable-aggregator-routing, it dials an endpoint directly. The TLS server
// name stays <service>.<namespace>.svc, so webhook certificates are issued
// for the Service, not for a pod.
package serviceresolver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
)

// Resolver implements k8s.io/apiserver/pkg/util/webhook.ServiceResolver from
// informer caches.
type Resolver struct {
	Services  corelisters.ServiceLister
	Slices    discoverylisters.EndpointSliceLister
	Endpoints corelisters.EndpointsLister
}

// ResolveEndpoint returns https://<address>:<port> of a ready endpoint of
// the Service's port, or an error saying why there is none.
func (r *Resolver) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	svc, err := r.Services.Services(namespace).Get(name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("service %s/%s not found", namespace, name)
		}
		return nil, err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return hostURL(svc.Spec.ExternalName, port), nil
	}
	svcPort, ok := findPort(svc, port)
	if !ok {
		return nil, fmt.Errorf("service %s/%s has no port %d", namespace, name, port)
	}
	candidates, err := r.fromSlices(svc, svcPort)
	if err != nil {
		return nil, err
	}
	if len(candidates) == 0 && r.Endpoints != nil {
		if candidates, err = r.fromEndpoints(svc, svcPort); err != nil {
			return nil, err
		}
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("service %s/%s has no ready endpoints for port %d", namespace, name, port)
	}
	return candidates[rand.IntN(len(candidates))], nil
}

func findPort(svc *corev1.Service, port int32) (corev1.ServicePort, bool) {
	for _, p := range svc.Spec.Ports {
		if p.Port == port {
			return p, true
		}
	}
	return corev1.ServicePort{}, false
}

// fromSlices lists the ready addresses of the Service's EndpointSlices with
// the slice port matching the Service port by name.
func (r *Resolver) fromSlices(svc *corev1.Service, svcPort corev1.ServicePort) ([]*url.URL, error) {
	if r.Slices == nil {
		return nil, nil
	}
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	slices, err := r.Slices.EndpointSlices(svc.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	var urls []*url.URL
	for _, s := range slices {
		port, ok := slicePort(s.Ports, svcPort)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				urls = append(urls, hostURL(a, port))
			}
		}
	}
	return urls, nil
}

func slicePort(ports []discoveryv1.EndpointPort, svcPort corev1.ServicePort) (int32, bool) {
	for _, p := range ports {
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		if name == svcPort.Name && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}

// fromEndpoints reads the (possibly hand-made) Endpoints object.
func (r *Resolver) fromEndpoints(svc *corev1.Service, svcPort corev1.ServicePort) ([]*url.URL, error) {
	ep, err := r.Endpoints.Endpoints(svc.Namespace).Get(svc.Name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var urls []*url.URL
	for _, subset := range ep.Subsets {
		port, ok := endpointsPort(subset.Ports, svcPort)
		if !ok {
			continue
		}
		for _, a := range subset.Addresses {
			urls = append(urls, hostURL(a.IP, port))
		}
	}
	return urls, nil
}

func endpointsPort(ports []corev1.EndpointPort, svcPort corev1.ServicePort) (int32, bool) {
	for _, p := range ports {
		if p.Name == svcPort.Name {
			return p.Port, true
		}
	}
	// A single unnamed target port given as a number.
	if len(ports) == 0 && svcPort.TargetPort.Type == intstr.Int {
		return svcPort.TargetPort.IntVal, true
	}
	return 0, false
}

func hostURL(host string, port int32) *url.URL {
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(int(port)))}
}
