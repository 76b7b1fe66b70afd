package podenv

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// ConfigSourceAnnotation says where the kubelet got a pod from ("api", or
// "file" for static pods and their mirror pods).
const ConfigSourceAnnotation = "kubernetes.io/config.source"

// ErrServicesNotSynced is returned, as upstream, for a pod from the API
// while the Services have not been listed yet: a pod started then would
// miss KUBERNETES_SERVICE_HOST, which in-cluster clients need.
var ErrServicesNotSynced = errors.New("services have not yet been read at least once, cannot construct envvars")

// Services keeps all Services in an informer and gives pods their Service
// variables. Its ServiceEnv is pods.Environment's ServiceEnv.
type Services struct {
	factory informers.SharedInformerFactory
	lister  corelisters.ServiceLister
	synced  cache.InformerSynced
}

// NewServices builds the informer; Run runs it.
func NewServices(client kubernetes.Interface) *Services {
	factory := informers.NewSharedInformerFactory(client, 0)
	informer := factory.Core().V1().Services()
	_ = informer.Informer().SetTransform(stripManagedFields)
	return &Services{factory: factory, lister: informer.Lister(), synced: informer.Informer().HasSynced}
}

// Run watches the Services until ctx ends.
func (s *Services) Run(ctx context.Context) {
	s.factory.Start(ctx.Done())
	<-ctx.Done()
	s.factory.Shutdown()
}

// HasSynced tells whether the Services were listed once.
func (s *Services) HasSynced() bool { return s.synced() }

// ServiceEnv returns the Service variables of pod (see the package-level
// ServiceEnv). Static pods do not wait for the Services to be listed: they
// must start without the API server.
func (s *Services) ServiceEnv(_ context.Context, pod *corev1.Pod) (map[string]string, error) {
	if !isStaticPod(pod) && !s.HasSynced() {
		return nil, ErrServicesNotSynced
	}
	services, err := s.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("failed to list services when setting up env vars: %w", err)
	}
	enable := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	return ServiceEnv(services, pod.Namespace, enable), nil
}

// isStaticPod tells whether a pod comes from a manifest rather than the
// API (its mirror pods carry the source too).
func isStaticPod(pod *corev1.Pod) bool {
	source, ok := pod.Annotations[ConfigSourceAnnotation]
	return ok && source != "api"
}

// stripManagedFields keeps informer caches small.
func stripManagedFields(obj any) (any, error) {
	if a, err := meta.Accessor(obj); err == nil {
		a.SetManagedFields(nil)
	}
	return obj, nil
}
