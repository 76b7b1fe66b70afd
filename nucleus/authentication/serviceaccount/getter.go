package serviceaccount

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// cachedGetter reads from informer caches and falls back to a live GET when
// an object is missing there, so tokens for just-created objects work.
type cachedGetter struct {
	client          kubernetes.Interface
	serviceAccounts corelisters.ServiceAccountLister
	pods            corelisters.PodLister
	secrets         corelisters.SecretLister
	nodes           corelisters.NodeLister
}

// NewGetter returns a Getter reading through the informers of f (which
// must be started by its owner) with client as the fallback.
func NewGetter(client kubernetes.Interface, f informers.SharedInformerFactory) Getter {
	core := f.Core().V1()
	return &cachedGetter{
		client:          client,
		serviceAccounts: core.ServiceAccounts().Lister(),
		pods:            core.Pods().Lister(),
		secrets:         core.Secrets().Lister(),
		nodes:           core.Nodes().Lister(),
	}
}

func (g *cachedGetter) GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	if sa, err := g.serviceAccounts.ServiceAccounts(namespace).Get(name); !apierrors.IsNotFound(err) {
		return sa, err
	}
	return g.client.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (g *cachedGetter) GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	if pod, err := g.pods.Pods(namespace).Get(name); !apierrors.IsNotFound(err) {
		return pod, err
	}
	return g.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (g *cachedGetter) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	if secret, err := g.secrets.Secrets(namespace).Get(name); !apierrors.IsNotFound(err) {
		return secret, err
	}
	return g.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (g *cachedGetter) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	if node, err := g.nodes.Get(name); !apierrors.IsNotFound(err) {
		return node, err
	}
	return g.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
}
