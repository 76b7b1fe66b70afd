package service

import (
	"context"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/nucleus/registry/core/service/allocator"
)

// repairInterval is how often the allocations are reconciled with the
// Services. It must exceed the longest request: a record left over is only
// removed when two passes in a row find it, unchanged, without a Service
// using it, so a create in flight (allocated, not yet stored) is never
// undone.
const repairInterval = 3 * time.Minute

// repairer reconciles the allocation records with the stored Services.
type repairer struct {
	alloc *allocators
	// list returns every Service.
	list func(ctx context.Context) ([]corev1.Service, error)
	// suspects are the records found unused by the previous pass, by
	// kind and value, with the revision they had.
	suspects map[string]int64
}

// run repairs at once and then every interval until ctx is done.
func (r *repairer) run(ctx context.Context, interval time.Duration) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := r.repair(ctx); err != nil && ctx.Err() == nil {
			klog.FromContext(ctx).Error(err, "Repairing Service allocations")
		}
	}, interval)
}

// used maps each allocated value (by key) to the UIDs of the Services
// using it.
type used map[string]sets.Set[types.UID]

func (u used) add(key string, uid types.UID) {
	if u[key] == nil {
		u[key] = sets.New[types.UID]()
	}
	u[key].Insert(uid)
}

// repair does one pass: it records the values Services use that have no
// record (allocations made before records existed) and removes records no
// Service uses that the previous pass found unused too.
func (r *repairer) repair(ctx context.Context) error {
	// Records are listed before Services: a record created after this
	// listing cannot be judged, and a Service stored after its record
	// was listed will be seen.
	ipRecords, badIPs, err := r.alloc.ips.List(ctx)
	if err != nil {
		return err
	}
	portRecords, badPorts, err := r.alloc.ports.List(ctx)
	if err != nil {
		return err
	}
	if badIPs+badPorts > 0 {
		klog.FromContext(ctx).Info("Ignoring unreadable Service allocation records", "clusterIPs", badIPs, "nodePorts", badPorts)
	}
	services, err := r.list(ctx)
	if err != nil {
		return fmt.Errorf("listing services: %w", err)
	}
	ips, ports := used{}, used{}
	for i := range services {
		svc := &services[i]
		if hasAllocatedIP(svc) {
			if ip := netutils.ParseIPSloppy(svc.Spec.ClusterIP); ip != nil {
				ips.add(ip.String(), svc.UID)
				r.ensure(ctx, "IP", func() error { return r.alloc.ips.Allocate(ctx, ip, ownerOf(svc)) }, svc, ip.String())
			}
		}
		for p := range nodePorts(svc) {
			ports.add(fmt.Sprint(p), svc.UID)
			r.ensure(ctx, "port", func() error { return r.alloc.ports.Allocate(ctx, int(p), ownerOf(svc)) }, svc, fmt.Sprint(p))
		}
	}
	suspects := map[string]int64{}
	sweep(ctx, r.alloc.ips, ipRecords, ips, "ip/", r.suspects, suspects, func(ip net.IP) string { return ip.String() })
	sweep(ctx, r.alloc.ports, portRecords, ports, "port/", r.suspects, suspects, func(p int) string { return fmt.Sprint(p) })
	r.suspects = suspects
	return nil
}

// ensure records a value a Service uses; a value outside the range (the
// range changed) or held by another Service is only reported.
func (r *repairer) ensure(ctx context.Context, kind string, allocate func() error, svc *corev1.Service, value string) {
	if err := allocate(); err != nil {
		klog.FromContext(ctx).Info("Service uses a "+kind+" it cannot hold", "service", klog.KObj(svc), kind, value, "err", err)
	}
}

// sweep removes the records no Service uses that were already suspect,
// unchanged, in the previous pass, and notes the others as suspects.
func sweep[V any](ctx context.Context, a *allocator.Etcd[V], records []allocator.Allocation[V], inUse used,
	kind string, previous, next map[string]int64, key func(V) string) {
	logger := klog.FromContext(ctx)
	for _, rec := range records {
		k := key(rec.Value)
		if inUse[k].Has(rec.Owner.UID) {
			continue
		}
		id := kind + k
		if rev, ok := previous[id]; !ok || rev != rec.Revision {
			next[id] = rec.Revision
			continue
		}
		deleted, err := a.ReleaseUnchanged(ctx, rec)
		switch {
		case err != nil:
			logger.Error(err, "Removing an unused Service allocation", "value", k)
		case deleted:
			logger.Info("Removed an allocation no Service uses", "value", k, "owner", rec.Owner.String())
		}
	}
}

// listServices returns a function listing every Service of s.
func listServices(s *genericregistry.Store) func(context.Context) ([]corev1.Service, error) {
	return func(ctx context.Context) ([]corev1.Service, error) {
		obj, err := s.List(genericapirequest.WithNamespace(ctx, metav1.NamespaceAll), &metainternalversion.ListOptions{})
		if err != nil {
			return nil, err
		}
		list, ok := obj.(*corev1.ServiceList)
		if !ok {
			return nil, fmt.Errorf("unexpected list type %T", obj)
		}
		return list.Items, nil
	}
}
