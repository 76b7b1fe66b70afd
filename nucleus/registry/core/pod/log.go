package pod

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericrest "k8s.io/apiserver/pkg/registry/generic/rest"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strata-dev/strata/nucleus/kubeletclient"
	"github.com/strata-dev/strata/nucleus/validation"
)

// kubelets finds a pod and the kubelet of its node.
type kubelets struct {
	pods   rest.Getter
	nodes  kubeletclient.NodeGetter
	client *kubeletclient.Client
}

func (k *kubelets) pod(ctx context.Context, name string) (*corev1.Pod, error) {
	obj, err := k.pods.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("unexpected object for pod %s: %T", name, obj)
	}
	return pod, nil
}

// connection reaches the kubelet of the pod's node; a pod not yet
// scheduled is a 400, as upstream.
func (k *kubelets) connection(ctx context.Context, pod *corev1.Pod) (*kubeletclient.Connection, error) {
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	return k.client.ForNode(ctx, k.nodes, pod.Spec.NodeName)
}

// LogREST serves pods/log: the container's log, streamed from the kubelet's
// /containerLogs.
type LogREST struct {
	kubelets
}

var (
	_ rest.GetterWithOptions = &LogREST{}
	_ rest.StorageMetadata   = &LogREST{}
)

// New returns an empty Pod, the subresource's nominal kind, as upstream.
func (r *LogREST) New() runtime.Object { return &corev1.Pod{} }

// Destroy does nothing: the pod store owns the storage.
func (r *LogREST) Destroy() {}

// ProducesMIMETypes adds text/plain to the published content types.
func (r *LogREST) ProducesMIMETypes(string) []string { return []string{"text/plain"} }

// ProducesObject publishes the log as a string.
func (r *LogREST) ProducesObject(string) interface{} { return "" }

// NewGetOptions returns the options the query decodes into.
func (r *LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &corev1.PodLogOptions{}, false, ""
}

// OverrideMetricsVerb counts log requests as CONNECT, as upstream.
func (r *LogREST) OverrideMetricsVerb(verb string) string {
	if verb == "GET" {
		return "CONNECT"
	}
	return verb
}

// Get returns a stream of the log of the pod's container. A pod without a
// node has no log yet: the stream is empty.
func (r *LogREST) Get(ctx context.Context, name string, options runtime.Object) (runtime.Object, error) {
	opts, ok := options.(*corev1.PodLogOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %#v", options)
	}
	if errs := validation.ValidatePodLogOptions(opts); len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("PodLogOptions").GroupKind(), name, errs)
	}
	pod, err := r.pod(ctx, name)
	if err != nil {
		return nil, err
	}
	container, err := containerFor(pod, opts.Container)
	if err != nil {
		return nil, err
	}
	streamer := &genericrest.LocationStreamer{
		ContentType:     "text/plain",
		Flush:           opts.Follow,
		ResponseChecker: genericrest.NewGenericHttpResponseChecker(corev1.Resource("pods/log"), name),
		RedirectChecker: genericrest.PreventRedirects,
	}
	if pod.Spec.NodeName == "" {
		// No location: an empty answer (204), as upstream.
		return logStreamer{streamer}, nil
	}
	conn, err := r.client.ForNode(ctx, r.nodes, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	streamer.Location = conn.URL(fmt.Sprintf(kubeletLogsPath, pod.Namespace, pod.Name, container), logQuery(opts))
	streamer.Transport = conn.Transport
	if opts.InsecureSkipTLSVerifyBackend {
		streamer.Transport = conn.InsecureTransport
	}
	return logStreamer{streamer}, nil
}

// logStreamer reports a kubelet it cannot reach as a 503.
type logStreamer struct {
	*genericrest.LocationStreamer
}

// InputStream opens the log on the kubelet.
func (s logStreamer) InputStream(ctx context.Context, apiVersion, acceptHeader string) (io.ReadCloser, bool, string, error) {
	stream, flush, contentType, err := s.LocationStreamer.InputStream(ctx, apiVersion, acceptHeader)
	return stream, flush, contentType, kubeletclient.Unavailable(err)
}
