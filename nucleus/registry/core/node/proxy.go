package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strata-dev/strata/nucleus/kubeletclient"
)

// ProxyREST serves nodes/proxy: any request under
// /api/v1/nodes/{name}/proxy/{path} is proxied to {path} on the node's
// kubelet. The name may carry a scheme and port ("https:node:8443") to
// reach another port of the node.
type ProxyREST struct {
	nodes   kubeletclient.NodeGetter
	kubelet *kubeletclient.Client
	// transport reaches ports other than the kubelet's.
	transport http.RoundTripper
	// proxyable rejects hosts that must not be proxied to (loopback,
	// link-local …); isProxyableHostname unless a test replaces it.
	proxyable func(ctx context.Context, host string) error
}

var _ rest.Connecter = &ProxyREST{}

func newProxyREST(nodes kubeletclient.NodeGetter, kubelet *kubeletclient.Client) *ProxyREST {
	return &ProxyREST{
		nodes:   nodes,
		kubelet: kubelet,
		// Like upstream's proxy transport: other ports of a node serve
		// certificates the nucleus cannot know.
		transport: utilnet.SetTransportDefaults(&http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}), //nolint:gosec // as upstream
		proxyable: isProxyableHostname,
	}
}

// New returns empty options, the subresource's kind.
func (r *ProxyREST) New() runtime.Object { return &corev1.NodeProxyOptions{} }

// Destroy does nothing: the node store owns the storage.
func (r *ProxyREST) Destroy() {}

// ConnectMethods are every method a proxied request may use.
func (r *ProxyREST) ConnectMethods() []string {
	return []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
}

// NewConnectOptions returns the options; the path after proxy/ becomes
// their path.
func (r *ProxyREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.NodeProxyOptions{}, true, "path"
}

// Connect returns the proxy to the node.
func (r *ProxyREST) Connect(ctx context.Context, id string, options runtime.Object, responder rest.Responder) (http.Handler, error) {
	opts, ok := options.(*corev1.NodeProxyOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", options)
	}
	location, transport, err := r.location(ctx, id)
	if err != nil {
		return nil, err
	}
	location.Path = utilnet.JoinPreservingTrailingSlash(location.Path, opts.Path)
	return proxy.NewUpgradeAwareHandler(location, transport, true, false, kubeletclient.Responder(responder)), nil
}

// location is the URL and transport for a request to node id: the kubelet
// (verified, with the nucleus' client certificate) unless id names another
// port.
func (r *ProxyREST) location(ctx context.Context, id string) (*url.URL, http.RoundTripper, error) {
	scheme, name, port, valid := utilnet.SplitSchemeNamePort(id)
	if !valid {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("invalid node request %q", id))
	}
	conn, err := r.kubelet.ForNode(ctx, r.nodes, name)
	if err != nil {
		return nil, nil, err
	}
	if err := r.proxyable(ctx, conn.Host); err != nil {
		return nil, nil, apierrors.NewBadRequest(err.Error())
	}
	if port == "" || port == conn.Port {
		return conn.URL("", nil), conn.Transport, nil
	}
	if scheme == "" {
		scheme = "http"
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(conn.Host, port)}, r.transport, nil
}

// isProxyableHostname refuses hosts that resolve to addresses other than
// global unicast ones, so nodes/proxy cannot reach the nucleus' own
// loopback or link-local services.
func isProxyableHostname(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return errors.New("no addresses for hostname")
	}
	for _, a := range addrs {
		if !a.IP.IsGlobalUnicast() {
			return errors.New("address not allowed")
		}
	}
	return nil
}
