package pod

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	"k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	streamproxy "k8s.io/apiserver/pkg/util/proxy"

	"github.com/strata-dev/strata/nucleus/kubeletclient"
)

// upgradeMethods are the methods of the streaming subresources: POST for
// SPDY, GET for WebSockets (browsers cannot POST an upgrade).
var upgradeMethods = []string{"GET", "POST"}

// ExecREST serves pods/exec: runs a command in a container through the
// kubelet's /exec, proxying the upgraded (SPDY or WebSocket) connection.
type ExecREST struct {
	kubelets
	authorizer authorizer.Authorizer
}

// AttachREST serves pods/attach: attaches to a running container's
// streams through the kubelet's /attach.
type AttachREST struct {
	kubelets
	authorizer authorizer.Authorizer
}

// PortForwardREST serves pods/portforward: forwards ports of the pod
// through the kubelet's /portForward.
type PortForwardREST struct {
	kubelets
	authorizer authorizer.Authorizer
}

var (
	_ rest.Connecter = &ExecREST{}
	_ rest.Connecter = &AttachREST{}
	_ rest.Connecter = &PortForwardREST{}
)

// New returns empty options, the subresource's kind.
func (r *ExecREST) New() runtime.Object { return &corev1.PodExecOptions{} }

// Destroy does nothing: the pod store owns the storage.
func (r *ExecREST) Destroy() {}

// ConnectMethods are GET and POST.
func (r *ExecREST) ConnectMethods() []string { return upgradeMethods }

// NewConnectOptions returns the options the query decodes into.
func (r *ExecREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodExecOptions{}, false, ""
}

// Connect returns the proxy to the kubelet's exec endpoint.
func (r *ExecREST) Connect(ctx context.Context, name string, options runtime.Object, responder rest.Responder) (http.Handler, error) {
	if err := authorizeCreate(ctx, r.authorizer); err != nil {
		return nil, err
	}
	opts, ok := options.(*corev1.PodExecOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", options)
	}
	location, transport, err := r.streamLocation(ctx, name, opts.Container, kubeletExecPath,
		streamQuery(opts.Stdin, opts.Stdout, opts.Stderr, opts.TTY, opts.Command))
	if err != nil {
		return nil, err
	}
	return streamHandler(location, transport, responder, streamproxy.Options{
		Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, Tty: opts.TTY,
	}), nil
}

// New returns empty options, the subresource's kind.
func (r *AttachREST) New() runtime.Object { return &corev1.PodAttachOptions{} }

// Destroy does nothing: the pod store owns the storage.
func (r *AttachREST) Destroy() {}

// ConnectMethods are GET and POST.
func (r *AttachREST) ConnectMethods() []string { return upgradeMethods }

// NewConnectOptions returns the options the query decodes into.
func (r *AttachREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodAttachOptions{}, false, ""
}

// Connect returns the proxy to the kubelet's attach endpoint.
func (r *AttachREST) Connect(ctx context.Context, name string, options runtime.Object, responder rest.Responder) (http.Handler, error) {
	if err := authorizeCreate(ctx, r.authorizer); err != nil {
		return nil, err
	}
	opts, ok := options.(*corev1.PodAttachOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", options)
	}
	location, transport, err := r.streamLocation(ctx, name, opts.Container, kubeletAttachPath,
		streamQuery(opts.Stdin, opts.Stdout, opts.Stderr, opts.TTY, nil))
	if err != nil {
		return nil, err
	}
	return streamHandler(location, transport, responder, streamproxy.Options{
		Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, Tty: opts.TTY,
	}), nil
}

// New returns empty options, the subresource's kind.
func (r *PortForwardREST) New() runtime.Object { return &corev1.PodPortForwardOptions{} }

// Destroy does nothing: the pod store owns the storage.
func (r *PortForwardREST) Destroy() {}

// ConnectMethods are GET and POST.
func (r *PortForwardREST) ConnectMethods() []string { return upgradeMethods }

// NewConnectOptions returns the options the query decodes into.
func (r *PortForwardREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodPortForwardOptions{}, false, ""
}

// Connect returns the proxy to the kubelet's portForward endpoint. A
// WebSocket client speaking the tunneling protocol is tunnelled to the
// kubelet's SPDY.
func (r *PortForwardREST) Connect(ctx context.Context, name string, options runtime.Object, responder rest.Responder) (http.Handler, error) {
	if err := authorizeCreate(ctx, r.authorizer); err != nil {
		return nil, err
	}
	opts, ok := options.(*corev1.PodPortForwardOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", options)
	}
	pod, err := r.pod(ctx, name)
	if err != nil {
		return nil, err
	}
	conn, err := r.connection(ctx, pod)
	if err != nil {
		return nil, err
	}
	location := conn.URL(fmt.Sprintf(kubeletPortForwardPath, pod.Namespace, pod.Name), portForwardQuery(opts))
	handler := upgradeProxy(location, conn.Transport, responder)
	return streamproxy.NewTranslatingHandler(handler, streamproxy.NewTunnelingHandler(handler), wsstream.IsWebSocketRequestWithTunnelingProtocol), nil
}

// streamLocation is the kubelet URL of an exec or attach request for
// the pod's container.
func (k *kubelets) streamLocation(ctx context.Context, name, container, pathFormat string, query url.Values) (*url.URL, http.RoundTripper, error) {
	pod, err := k.pod(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	container, err = containerFor(pod, container)
	if err != nil {
		return nil, nil, err
	}
	conn, err := k.connection(ctx, pod)
	if err != nil {
		return nil, nil, err
	}
	return conn.URL(fmt.Sprintf(pathFormat, pod.Namespace, pod.Name, container), query), conn.Transport, nil
}

// upgradeProxy proxies an upgrade request (and only those) to location.
func upgradeProxy(location *url.URL, transport http.RoundTripper, responder rest.Responder) *proxy.UpgradeAwareHandler {
	return proxy.NewUpgradeAwareHandler(location, transport, false, true, kubeletclient.Responder(responder))
}

// streamHandler proxies SPDY (and WebSocket protocols up to v4) to the
// kubelet as they are, and translates a WebSocket v5 client's streams
// to SPDY, as upstream's API server does: kubelets and CRI streaming
// servers speak SPDY.
func streamHandler(location *url.URL, transport http.RoundTripper, responder rest.Responder, opts streamproxy.Options) http.Handler {
	translator := streamproxy.NewStreamTranslatorHandler(location, transport, 0, opts)
	return streamproxy.NewTranslatingHandler(upgradeProxy(location, transport, responder), translator, wsstream.IsWebSocketRequestWithStreamCloseProtocol)
}

// authorizeCreate requires the create verb on the subresource also when
// the client connected with GET (WebSockets), which the authorization
// filter checked as get: upstream's policies grant exec, attach and
// port-forward with create.
func authorizeCreate(ctx context.Context, a authorizer.Authorizer) error {
	info, ok := genericapirequest.RequestInfoFrom(ctx)
	if !ok {
		return apierrors.NewInternalError(errors.New("no request info in context"))
	}
	if info.Verb == "create" {
		return nil
	}
	if a == nil {
		return apierrors.NewInternalError(errors.New("no authorizer available"))
	}
	attrs, err := filters.GetAuthorizerAttributes(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("building authorizer attributes: %w", err))
	}
	decision, reason, err := a.Authorize(ctx, createAttributes{attrs})
	if err != nil {
		return err
	}
	if decision != authorizer.DecisionAllow {
		return apierrors.NewForbidden(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Name, errors.New(reason))
	}
	return nil
}

// createAttributes are a request's attributes with the verb create.
type createAttributes struct {
	authorizer.Attributes
}

func (createAttributes) GetVerb() string { return "create" }
