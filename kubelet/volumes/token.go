package volumes

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

const (
	// defaultTokenExpirationSeconds is the lifetime asked for when the
	// projection names none (the API's default).
	defaultTokenExpirationSeconds = int64(60 * 60)
	// maxTokenTTL is how long a token is used at most, whatever its
	// lifetime, as upstream's token manager.
	maxTokenTTL = 24 * time.Hour
	// maxTokenJitter makes tokens refresh up to this much earlier, so that
	// the pods of a node do not all refresh at once.
	maxTokenJitter = 10 * time.Second
)

// tokenKey identifies a token: one per ServiceAccount, audience, lifetime
// and pod.
type tokenKey struct {
	namespace, serviceAccount, audience string
	expirationSeconds                   int64
	podName                             string
	podUID                              types.UID
}

// tokenManager issues ServiceAccount tokens bound to pods through the
// TokenRequest API and caches them until they need refreshing.
type tokenManager struct {
	client kubernetes.Interface
	clock  clock.Clock
	// jitter is how much earlier than due a token is refreshed.
	jitter func() time.Duration

	mu    sync.Mutex
	cache map[tokenKey]*authenticationv1.TokenRequest
}

func newTokenManager(client kubernetes.Interface, clk clock.Clock) *tokenManager {
	return &tokenManager{
		client: client,
		clock:  clk,
		jitter: func() time.Duration { return time.Duration(rand.Float64()*maxTokenJitter.Seconds()) * time.Second },
		cache:  map[tokenKey]*authenticationv1.TokenRequest{},
	}
}

// token is the token a serviceAccountToken projection of pod shows: the
// cached one while it is fresh, else a new one. When a refresh fails, a
// cached token that has not expired is still used.
func (t *tokenManager) token(ctx context.Context, pod *corev1.Pod, p *corev1.ServiceAccountTokenProjection) (string, error) {
	exp := defaultTokenExpirationSeconds
	if p.ExpirationSeconds != nil {
		exp = *p.ExpirationSeconds
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	key := tokenKey{namespace: pod.Namespace, serviceAccount: sa, audience: p.Audience, expirationSeconds: exp, podName: pod.Name, podUID: pod.UID}

	t.mu.Lock()
	cached := t.cache[key]
	t.mu.Unlock()
	now := t.clock.Now()
	if cached != nil && !requiresRefresh(now, cached, t.jitter()) {
		return cached.Status.Token, nil
	}

	tr, err := t.request(ctx, key)
	if err != nil {
		switch {
		case cached == nil:
			return "", fmt.Errorf("failed to fetch token: %w", err)
		case !now.Before(cached.Status.ExpirationTimestamp.Time):
			return "", fmt.Errorf("token %s/%s expired and refresh failed: %w", key.namespace, key.serviceAccount, err)
		default:
			klog.FromContext(ctx).Error(err, "Couldn't update token", "serviceAccount", klog.KRef(key.namespace, key.serviceAccount), "podUID", key.podUID)
			return cached.Status.Token, nil
		}
	}
	t.mu.Lock()
	t.cache[key] = tr
	t.mu.Unlock()
	return tr.Status.Token, nil
}

func (t *tokenManager) request(ctx context.Context, key tokenKey) (*authenticationv1.TokenRequest, error) {
	if t.client == nil {
		return nil, fmt.Errorf("cannot get service account token %s/%s: no client", key.namespace, key.serviceAccount)
	}
	var audiences []string
	if key.audience != "" {
		audiences = []string{key.audience}
	}
	exp := key.expirationSeconds
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         audiences,
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: key.podName, UID: key.podUID},
	}}
	tr, err := t.client.CoreV1().ServiceAccounts(key.namespace).CreateToken(ctx, key.serviceAccount, req, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	if tr.Spec.ExpirationSeconds == nil {
		tr.Spec.ExpirationSeconds = &exp
	}
	return tr, nil
}

// forgetPod drops the tokens of a pod that is gone.
func (t *tokenManager) forgetPod(uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.cache {
		if k.podUID == uid {
			delete(t.cache, k)
		}
	}
}

// requiresRefresh tells whether a token is due for a refresh, as
// upstream's token manager: once 80% of its lifetime passed, or 24 hours
// after it was issued, each less jitter.
func requiresRefresh(now time.Time, tr *authenticationv1.TokenRequest, jitter time.Duration) bool {
	if tr.Spec.ExpirationSeconds == nil {
		return false
	}
	exp := tr.Status.ExpirationTimestamp.Time
	lifetime := time.Duration(*tr.Spec.ExpirationSeconds) * time.Second
	issued := exp.Add(-lifetime)
	if now.After(issued.Add(maxTokenTTL - jitter)) {
		return true
	}
	return now.After(exp.Add(-lifetime*20/100 - jitter))
}
