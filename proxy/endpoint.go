package proxy

import (
	"net"
	"strconv"

	"k8s.io/apimachinery/pkg/util/sets"
)

// Endpoint is one backend of a Service port, as an EndpointSlice lists it.
type Endpoint struct {
	ip   string
	port int
	// endpoint is "ip:port" ("[ip]:port" for IPv6).
	endpoint string

	// Local: the endpoint runs on this node.
	Local bool
	// Ready: the endpoint is ready and not terminating (or the Service
	// publishes not-ready addresses).
	Ready bool
	// Serving: the endpoint is ready, terminating or not.
	Serving bool
	// Terminating: the endpoint's pod is being deleted.
	Terminating bool
	// ZoneHints and NodeHints are the slice's topology hints.
	ZoneHints sets.Set[string]
	NodeHints sets.Set[string]
}

// NewEndpoint returns the endpoint ip:port with the given conditions.
func NewEndpoint(ip string, port int, local, ready, serving, terminating bool) *Endpoint {
	return &Endpoint{
		ip:          ip,
		port:        port,
		endpoint:    net.JoinHostPort(ip, strconv.Itoa(port)),
		Local:       local,
		Ready:       ready,
		Serving:     serving,
		Terminating: terminating,
	}
}

// String is "ip:port"; it names the endpoint in chain hashes and comments.
func (e *Endpoint) String() string { return e.endpoint }

// IP is the endpoint's address.
func (e *Endpoint) IP() string { return e.ip }

// Port is the endpoint's port.
func (e *Endpoint) Port() int { return e.port }
