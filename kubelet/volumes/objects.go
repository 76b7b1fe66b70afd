package volumes

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/strata-dev/strata/kubelet/pods"
)

// objects reads the ConfigMaps and Secrets volumes show, each once per
// set-up or refresh pass. A missing object is reported as upstream's
// kubelet does: `configmap "x" not found`, `secret "x" not found`.
type objects struct {
	client     kubernetes.Interface
	configMaps map[string]result[*corev1.ConfigMap]
	secrets    map[string]result[*corev1.Secret]
}

type result[T any] struct {
	obj T
	err error
}

func newObjects(client kubernetes.Interface) *objects {
	return &objects{
		client:     client,
		configMaps: map[string]result[*corev1.ConfigMap]{},
		secrets:    map[string]result[*corev1.Secret]{},
	}
}

func (o *objects) configMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	key := namespace + "/" + name
	if r, ok := o.configMaps[key]; ok {
		return r.obj, r.err
	}
	if o.client == nil {
		return nil, fmt.Errorf("cannot get configmap %s/%s: no client", namespace, name)
	}
	cm, err := o.client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	err = pods.NotFound(err, "configmap", name)
	o.configMaps[key] = result[*corev1.ConfigMap]{cm, err}
	return cm, err
}

func (o *objects) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	key := namespace + "/" + name
	if r, ok := o.secrets[key]; ok {
		return r.obj, r.err
	}
	if o.client == nil {
		return nil, fmt.Errorf("cannot get secret %s/%s: no client", namespace, name)
	}
	s, err := o.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	err = pods.NotFound(err, "secret", name)
	o.secrets[key] = result[*corev1.Secret]{s, err}
	return s, err
}

// clientObjects is the pods.ObjectGetter of the default environment (for
// subPathExpr): direct reads.
type clientObjects struct {
	client kubernetes.Interface
}

func (c clientObjects) GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return newObjects(c.client).configMap(ctx, namespace, name)
}

func (c clientObjects) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return newObjects(c.client).secret(ctx, namespace, name)
}
