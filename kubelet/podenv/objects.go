package podenv

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/pods"
)

// DefaultObjectTTL is how long a ConfigMap or Secret read from the API is
// reused: long enough that the containers of one pod sync, and the image
// pulls, read each once; short enough that a restarted container sees an
// update.
const DefaultObjectTTL = 3 * time.Second

// NewObjectGetter returns a pods.ObjectGetter that GETs ConfigMaps and
// Secrets through client (a node may read those its pods reference) and
// reuses what it read for DefaultObjectTTL. Errors, NotFound included, are
// not cached. The objects returned are shared: callers must not change
// them.
func NewObjectGetter(client kubernetes.Interface) pods.ObjectGetter {
	return newObjectCache(client, DefaultObjectTTL, clock.RealClock{})
}

type objectKey struct {
	kind, namespace, name string
}

type objectEntry struct {
	obj     any
	expires time.Time
}

type objectCache struct {
	client kubernetes.Interface
	ttl    time.Duration
	clock  clock.PassiveClock

	mu      sync.Mutex
	entries map[objectKey]objectEntry
}

func newObjectCache(client kubernetes.Interface, ttl time.Duration, clk clock.PassiveClock) *objectCache {
	return &objectCache{client: client, ttl: ttl, clock: clk, entries: map[objectKey]objectEntry{}}
}

// GetConfigMap implements pods.ObjectGetter.
func (c *objectCache) GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	key := objectKey{"configmap", namespace, name}
	if obj, ok := c.lookup(key); ok {
		return obj.(*corev1.ConfigMap), nil
	}
	cm, err := c.client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, pods.NotFound(err, "configmap", name)
	}
	c.store(key, cm)
	return cm, nil
}

// GetSecret implements pods.ObjectGetter.
func (c *objectCache) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	key := objectKey{"secret", namespace, name}
	if obj, ok := c.lookup(key); ok {
		return obj.(*corev1.Secret), nil
	}
	s, err := c.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, pods.NotFound(err, "secret", name)
	}
	c.store(key, s)
	return s, nil
}

func (c *objectCache) lookup(key objectKey) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.clock.Now().Before(e.expires) {
		return nil, false
	}
	return e.obj, true
}

// store caches obj and drops what expired.
func (c *objectCache) store(key objectKey, obj any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	c.entries[key] = objectEntry{obj: obj, expires: now.Add(c.ttl)}
}
