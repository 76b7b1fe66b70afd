// Package kubeletclient is how the nucleus reaches a node's kubelet: the
// address and port a Node publishes in its status, and HTTPS transports
// that authenticate with the nucleus' kubelet client certificate and verify
// the kubelet's serving certificate against the cluster CA.
//
// It plays the part of upstream's pkg/kubelet/client for the pod
// subresources (log, exec, attach, portforward) and nodes/proxy.
package kubeletclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/proxy"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
)

// DefaultPort is the kubelet's HTTPS port when a Node does not publish one.
const DefaultPort = 10250

// ClientUser is the user name (certificate CN) the nucleus presents to
// kubelets.
const ClientUser = "strata:kubelet-client"

// DefaultPreferredAddressTypes is the order in which a Node's addresses are
// tried. Upstream's kube-apiserver puts Hostname first; a single-machine
// cluster has no DNS for its node names, so InternalIP comes first here.
var DefaultPreferredAddressTypes = []corev1.NodeAddressType{
	corev1.NodeInternalIP,
	corev1.NodeHostName,
	corev1.NodeInternalDNS,
	corev1.NodeExternalIP,
	corev1.NodeExternalDNS,
}

// Config says how to reach kubelets.
type Config struct {
	// Port is used when a Node publishes no kubelet port (DefaultPort if 0).
	Port int
	// PreferredAddressTypes orders the Node's addresses
	// (DefaultPreferredAddressTypes if empty).
	PreferredAddressTypes []corev1.NodeAddressType
	// CAFile verifies the kubelets' serving certificates.
	CAFile string
	// CertFile and KeyFile are the nucleus' client certificate.
	CertFile, KeyFile string
}

// Client holds the transports to kubelets. It is safe for concurrent use.
type Client struct {
	port      int
	preferred []corev1.NodeAddressType
	transport *http.Transport
	insecure  *http.Transport
}

// New loads the certificates of cfg and builds the transports.
func New(cfg Config) (*Client, error) {
	c := &Client{port: cfg.Port, preferred: cfg.PreferredAddressTypes}
	if c.port == 0 {
		c.port = DefaultPort
	}
	if len(c.preferred) == 0 {
		c.preferred = DefaultPreferredAddressTypes
	}
	var certs []tls.Certificate
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the kubelet client certificate: %w", err)
		}
		certs = []tls.Certificate{cert}
	}
	var roots *x509.CertPool
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the kubelet CA: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificates in %s", cfg.CAFile)
		}
	}
	c.transport = newTransport(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs, RootCAs: roots})
	// For pods/log?insecureSkipTLSVerifyBackend=true: still presents the
	// client certificate, but does not check the kubelet's.
	c.insecure = newTransport(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: certs, InsecureSkipVerify: true}) //nolint:gosec // asked for by the client, as upstream
	return c, nil
}

func newTransport(tlsConfig *tls.Config) *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return utilnet.SetTransportDefaults(&http.Transport{
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 25,
	})
}

// Connection is how to reach one node's kubelet.
type Connection struct {
	// Host and Port form the kubelet's address.
	Host, Port string
	// Transport verifies the kubelet's certificate; InsecureTransport does
	// not.
	Transport, InsecureTransport http.RoundTripper
}

// URL returns the https URL of path on the kubelet, with query.
func (c *Connection) URL(path string, query url.Values) *url.URL {
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(c.Host, c.Port), Path: path, RawQuery: query.Encode()}
}

// Connection returns how to reach node's kubelet: its preferred address and
// the port from status.daemonEndpoints.
func (c *Client) Connection(_ context.Context, node *corev1.Node) (*Connection, error) {
	host, err := PreferredAddress(node, c.preferred)
	if err != nil {
		return nil, err
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port <= 0 {
		port = c.port
	}
	return &Connection{Host: host, Port: strconv.Itoa(port), Transport: c.transport, InsecureTransport: c.insecure}, nil
}

// NodeGetter reads Nodes; the nodes storage is one.
type NodeGetter interface {
	Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error)
}

// ForNode reads the Node called name and returns how to reach its kubelet.
// A nil Client answers 503: the nucleus was started without kubelet
// credentials.
func (c *Client) ForNode(ctx context.Context, nodes NodeGetter, name string) (*Connection, error) {
	if c == nil {
		return nil, apierrors.NewServiceUnavailable("the nucleus has no kubelet client credentials")
	}
	// The request is for a pod's subresource: name the node in errors.
	ctx = genericapirequest.WithNamespace(ctx, "")
	ctx = genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: "get", APIVersion: "v1", Resource: "nodes", Name: name,
	})
	obj, err := nodes.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	node, ok := obj.(*corev1.Node)
	if !ok {
		return nil, fmt.Errorf("unexpected object for node %s: %T", name, obj)
	}
	return c.Connection(ctx, node)
}

// NoAddressError is returned for a Node without an address of a preferred
// type.
type NoAddressError struct {
	Addresses []corev1.NodeAddress
}

func (e *NoAddressError) Error() string {
	return fmt.Sprintf("no preferred addresses found; known addresses: %v", e.Addresses)
}

// PreferredAddress returns the node's first address of the first preferred
// type that it has. For the Hostname type, the kubernetes.io/hostname label
// stands in for a missing Hostname address, as upstream.
func PreferredAddress(node *corev1.Node, preferred []corev1.NodeAddressType) (string, error) {
	for _, t := range preferred {
		for _, a := range node.Status.Addresses {
			if a.Type == t {
				return a.Address, nil
			}
		}
		if t == corev1.NodeHostName {
			if hostname, ok := node.Labels[corev1.LabelHostname]; ok {
				return hostname, nil
			}
		}
	}
	return "", &NoAddressError{Addresses: node.Status.Addresses}
}

// Unavailable turns a failure to reach a kubelet (refused, timed out,
// untrusted certificate) into a 503 carrying the cause: the kubelet, not
// the nucleus, is what failed. API errors pass unchanged.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(apierrors.APIStatus); ok {
		return err
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	return apierrors.NewServiceUnavailable(err.Error())
}

// Responder reports a proxy's failures to reach a kubelet through r, as
// 503s (see Unavailable).
func Responder(r rest.Responder) proxy.ErrorResponder {
	return responder{r}
}

type responder struct{ r rest.Responder }

func (r responder) Error(_ http.ResponseWriter, _ *http.Request, err error) {
	r.r.Error(Unavailable(err))
}
