package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

const (
	// LeaseNamespace holds the nodes' heartbeat Leases.
	LeaseNamespace = corev1.NamespaceNodeLease
	// DefaultLeaseDuration is upstream kubelet's nodeLeaseDurationSeconds.
	DefaultLeaseDuration = 40 * time.Second
	// leaseRenewFraction of the duration passes between renewals (10s for
	// 40s), as upstream's nodeLeaseRenewIntervalFraction.
	leaseRenewFraction = 0.25
	// leaseUpdateRetries is how many updates one renewal tries.
	leaseUpdateRetries = 5
)

// Lease keeps a node's Lease (kube-node-lease/<node>) fresh, as upstream's
// node lease controller: the Lease is held by the node, lasts Duration, is
// renewed every quarter of it and is owned by the Node, so it goes with
// it. A renewal updates the Lease it wrote last without reading it first;
// on a conflict or when it is gone it reads (or creates) it again.
type Lease struct {
	client   kubernetes.Interface
	nodeName string
	duration time.Duration
	clock    clock.Clock

	mu       sync.Mutex
	latest   *coordinationv1.Lease
	ownerUID types.UID
}

// NewLease returns the Lease of node nodeName, lasting duration
// (DefaultLeaseDuration when zero), timed by clk (the real clock when nil).
func NewLease(client kubernetes.Interface, nodeName string, duration time.Duration, clk clock.Clock) *Lease {
	if duration <= 0 {
		duration = DefaultLeaseDuration
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Lease{client: client, nodeName: nodeName, duration: duration, clock: clk}
}

// RenewInterval is how often Run renews the Lease.
func (l *Lease) RenewInterval() time.Duration {
	return time.Duration(float64(l.duration) * leaseRenewFraction)
}

// SetOwner gives the UID of the Node, which owns the Lease; without it the
// Lease reads the Node before creating itself.
func (l *Lease) SetOwner(uid types.UID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ownerUID = uid
}

// Run renews the Lease now and every RenewInterval until ctx ends.
func (l *Lease) Run(ctx context.Context) {
	logger := klog.FromContext(ctx)
	for {
		if err := l.Renew(ctx); err != nil && ctx.Err() == nil {
			logger.Error(err, "Failed to renew the node lease, will retry", "lease", klog.KRef(LeaseNamespace, l.nodeName), "interval", l.RenewInterval())
		}
		select {
		case <-ctx.Done():
			return
		case <-l.clock.After(l.RenewInterval()):
		}
	}
}

// Renew writes the Lease with a fresh renewTime once.
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.latest != nil {
		if err := l.retryUpdate(ctx, l.latest); err == nil {
			return nil
		}
	}
	lease, created, err := l.ensure(ctx)
	if err != nil {
		return err
	}
	l.latest = lease
	if created {
		return nil
	}
	return l.retryUpdate(ctx, lease)
}

// ensure reads the Lease, creating it when it does not exist.
func (l *Lease) ensure(ctx context.Context) (*coordinationv1.Lease, bool, error) {
	leases := l.client.CoordinationV1().Leases(LeaseNamespace)
	lease, err := leases.Get(ctx, l.nodeName, metav1.GetOptions{})
	if err == nil {
		return lease, false, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, false, fmt.Errorf("reading lease %s/%s: %w", LeaseNamespace, l.nodeName, err)
	}
	fresh, err := l.next(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	lease, err = leases.Create(ctx, fresh, metav1.CreateOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("creating lease %s/%s: %w", LeaseNamespace, l.nodeName, err)
	}
	return lease, true, nil
}

// retryUpdate updates base with a fresh renewTime, reading the Lease again
// after a conflict.
func (l *Lease) retryUpdate(ctx context.Context, base *coordinationv1.Lease) error {
	leases := l.client.CoordinationV1().Leases(LeaseNamespace)
	var errs []error
	for range leaseUpdateRetries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lease, err := l.next(ctx, base)
		if err == nil {
			lease, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
			if err == nil {
				l.latest = lease
				return nil
			}
		}
		errs = append(errs, err)
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			fresh, created, err := l.ensure(ctx)
			if err != nil {
				return err
			}
			if created {
				l.latest = fresh
				return nil
			}
			base = fresh
		}
	}
	return fmt.Errorf("failed %d attempts to update lease %s/%s: %w", leaseUpdateRetries, LeaseNamespace, l.nodeName, errors.Join(errs...))
}

// next is the Lease to write: base (or a new one held by the node) with
// the duration, a renewTime of now and the Node as owner. Without the
// owner a new Lease is not written: it would outlive its Node.
func (l *Lease) next(ctx context.Context, base *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	var lease *coordinationv1.Lease
	if base == nil {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: l.nodeName, Namespace: LeaseNamespace},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(l.nodeName)},
		}
	} else {
		lease = base.DeepCopy()
	}
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(l.duration / time.Second))
	lease.Spec.RenewTime = &metav1.MicroTime{Time: l.clock.Now()}
	if len(lease.OwnerReferences) == 0 {
		uid := l.ownerUID
		if uid == "" {
			node, err := l.client.CoreV1().Nodes().Get(ctx, l.nodeName, metav1.GetOptions{})
			if err != nil {
				if base != nil {
					return lease, nil
				}
				return nil, fmt.Errorf("reading node %s to own its lease: %w", l.nodeName, err)
			}
			uid = node.UID
		}
		lease.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: l.nodeName, UID: uid}}
	}
	return lease, nil
}
