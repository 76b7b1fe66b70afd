package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/nucleus/registry/core/service/allocator"
)

// releaseTimeout bounds the etcd calls releasing values after a request.
const releaseTimeout = 30 * time.Second

// allocators hands out the cluster IPs and node ports of Services.
type allocators struct {
	ips   *allocator.Etcd[net.IP]
	ports *allocator.Etcd[int]
	// family is the IP family of the service range.
	family corev1.IPFamily
}

// ownerOf names svc as the holder of its allocations.
func ownerOf(svc *corev1.Service) allocator.Owner {
	return allocator.Owner{Namespace: svc.Namespace, Name: svc.Name, UID: svc.UID}
}

// txn is the allocation work of one create or update: what it allocated,
// to release if the request fails, and what it frees once it succeeds.
type txn struct {
	al     *allocators
	owner  allocator.Owner
	dryRun bool
	ips    allocator.Interface[net.IP]
	ports  allocator.Interface[int]

	newIPs, oldIPs     []net.IP
	newPorts, oldPorts []int
}

func (al *allocators) begin(svc *corev1.Service, dryRun bool) *txn {
	t := &txn{al: al, owner: ownerOf(svc), dryRun: dryRun, ips: al.ips, ports: al.ports}
	if dryRun {
		t.ips, t.ports = al.ips.DryRun(), al.ports.DryRun()
	}
	return t
}

// allocateCreate allocates the cluster IP and node ports of a new Service
// and fills them in.
func (al *allocators) allocateCreate(ctx context.Context, svc *corev1.Service, dryRun bool) (*txn, error) {
	t := al.begin(svc, dryRun)
	if err := t.allocate(ctx, svc, nil); err != nil {
		t.finish(ctx, false)
		return nil, err
	}
	return t, nil
}

// allocateUpdate allocates what an update adds (a cluster IP when leaving
// type ExternalName, new node ports) and notes what it frees.
func (al *allocators) allocateUpdate(ctx context.Context, svc, old *corev1.Service, dryRun bool) (*txn, error) {
	t := al.begin(old, dryRun)
	if err := t.allocate(ctx, svc, old); err != nil {
		t.finish(ctx, false)
		return nil, err
	}
	return t, nil
}

// releaseAll frees every value svc holds.
func (al *allocators) releaseAll(ctx context.Context, svc *corev1.Service) {
	t := al.begin(svc, false)
	if hasAllocatedIP(svc) {
		if ip := netutils.ParseIPSloppy(svc.Spec.ClusterIP); ip != nil {
			t.oldIPs = append(t.oldIPs, ip)
		}
	}
	for p := range nodePorts(svc) {
		t.oldPorts = append(t.oldPorts, int(p))
	}
	t.finish(ctx, true)
}

func (t *txn) allocate(ctx context.Context, svc, old *corev1.Service) error {
	if err := t.allocateClusterIP(ctx, svc, old); err != nil {
		return err
	}
	return t.allocateNodePorts(ctx, svc, old)
}

// allocateClusterIP gives svc its cluster IP when it needs one it did not
// have, and notes the IP of old to free when svc no longer has one.
func (t *txn) allocateClusterIP(ctx context.Context, svc, old *corev1.Service) error {
	if old != nil && needsClusterIP(old) {
		if hasAllocatedIP(old) && !needsClusterIP(svc) {
			if ip := netutils.ParseIPSloppy(old.Spec.ClusterIP); ip != nil {
				t.oldIPs = append(t.oldIPs, ip)
			}
		}
		// Otherwise the IP is kept: validation forbids changing it.
		return nil
	}
	if !needsClusterIP(svc) || isHeadless(svc) {
		return nil
	}
	requested := svc.Spec.ClusterIP
	if requested == "" {
		ip, err := t.ips.AllocateNext(ctx, t.owner)
		if err != nil {
			return apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: %w", err))
		}
		t.newIPs = append(t.newIPs, ip)
		svc.Spec.ClusterIP = ip.String()
	} else {
		ip := netutils.ParseIPSloppy(requested)
		if err := t.ips.Allocate(ctx, ip, t.owner); err != nil {
			return allocationError(svc, field.NewPath("spec", "clusterIPs"), requested,
				fmt.Sprintf("failed to allocate IP %s", requested), err)
		}
		t.newIPs = append(t.newIPs, ip)
	}
	svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	return nil
}

// allocateNodePorts gives the ports of svc their node ports: requested ones
// are reserved, missing ones allocated (ports sharing a port number share a
// node port). The node ports of old that svc no longer uses are noted to be
// freed.
func (t *txn) allocateNodePorts(ctx context.Context, svc, old *corev1.Service) error {
	held := nodePorts(old)
	if needsNodePort(svc) {
		byPort := map[int32]int32{}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort == 0 {
				continue
			}
			if err := t.reservePort(ctx, svc, held, p.NodePort, field.NewPath("spec", "ports").Index(i).Child("nodePort")); err != nil {
				return err
			}
			if _, ok := byPort[p.Port]; !ok {
				byPort[p.Port] = p.NodePort
			}
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort != 0 {
				continue
			}
			if np, ok := byPort[p.Port]; ok {
				p.NodePort = np
				continue
			}
			if !shouldAllocateNodePorts(svc) {
				continue
			}
			np, err := t.nextPort(ctx)
			if err != nil {
				return err
			}
			p.NodePort, byPort[p.Port] = np, np
		}
	}
	if needsHealthCheck(svc) {
		if svc.Spec.HealthCheckNodePort != 0 {
			if err := t.reservePort(ctx, svc, held, svc.Spec.HealthCheckNodePort, field.NewPath("spec", "healthCheckNodePort")); err != nil {
				return err
			}
		} else {
			np, err := t.nextPort(ctx)
			if err != nil {
				return err
			}
			svc.Spec.HealthCheckNodePort = np
		}
	}
	used := nodePorts(svc)
	for p := range held {
		if !used.Has(p) {
			t.oldPorts = append(t.oldPorts, int(p))
		}
	}
	return nil
}

// reservePort reserves a requested node port unless old already held it or
// this request already reserved it.
func (t *txn) reservePort(ctx context.Context, svc *corev1.Service, held sets.Set[int32], port int32, path *field.Path) error {
	if held.Has(port) {
		return nil
	}
	for _, p := range t.newPorts {
		if p == int(port) {
			return nil
		}
	}
	if err := t.ports.Allocate(ctx, int(port), t.owner); err != nil {
		return allocationError(svc, path, port, "", err)
	}
	t.newPorts = append(t.newPorts, int(port))
	return nil
}

func (t *txn) nextPort(ctx context.Context) (int32, error) {
	np, err := t.ports.AllocateNext(ctx, t.owner)
	if err != nil {
		return 0, apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %w", err))
	}
	t.newPorts = append(t.newPorts, np)
	return int32(np), nil
}

// finish frees, once the request is over, what it allocated if it failed or
// what it gave up if it succeeded.
func (t *txn) finish(ctx context.Context, success bool) {
	if t.dryRun {
		return
	}
	ips, ports := t.newIPs, t.newPorts
	if success {
		ips, ports = t.oldIPs, t.oldPorts
	}
	if len(ips) == 0 && len(ports) == 0 {
		return
	}
	// The request context may be done; releasing must still happen.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	logger := klog.FromContext(ctx)
	for _, ip := range ips {
		if err := t.al.ips.Release(ctx, ip, t.owner); err != nil {
			logger.Error(err, "Releasing a Service cluster IP; the repair loop will retry", "service", t.owner)
		}
	}
	for _, p := range ports {
		if err := t.al.ports.Release(ctx, p, t.owner); err != nil {
			logger.Error(err, "Releasing a Service node port; the repair loop will retry", "service", t.owner)
		}
	}
}

// allocationError turns an allocator error into the API error upstream
// returns: 422 for a value that is taken or out of range, 500 otherwise.
func allocationError(svc *corev1.Service, path *field.Path, value interface{}, prefix string, err error) error {
	detail := err.Error()
	if prefix != "" {
		detail = prefix + ": " + detail
	}
	var notInRange *allocator.NotInRangeError
	if errors.Is(err, allocator.ErrAllocated) || errors.As(err, &notInRange) {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name,
			field.ErrorList{field.Invalid(path, value, detail)})
	}
	return apierrors.NewInternalError(fmt.Errorf("%s: %w", path, err))
}
