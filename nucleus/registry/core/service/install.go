package service

import (
	"context"
	"errors"
	"net"
	"path"

	"github.com/strata-dev/strata/nucleus/registry/core/service/allocator"
	"github.com/strata-dev/strata/nucleus/registry/store"
)

// REST is the storage of the services endpoint. It owns the background
// repair of the allocations, stopped by Destroy.
type REST struct {
	*store.REST
	stopRepair context.CancelFunc
}

// Destroy stops the repair loop and releases the storage.
func (r *REST) Destroy() {
	r.stopRepair()
	r.REST.Destroy()
}

// Install adds the storage of core v1 Services (with status), allocating
// cluster IPs and node ports, to r, and starts the allocation repair loop.
func Install(r store.Resources, d store.Deps) error {
	alloc, err := newAllocators(d)
	if err != nil {
		return err
	}
	s, err := store.Add(r, "services", Definition, d)
	if err != nil {
		return err
	}
	(&hooks{alloc: alloc, store: s.Store}).install()

	ctx, cancel := context.WithCancel(context.Background())
	rep := &repairer{alloc: alloc, list: listServices(s.Store)}
	go rep.run(ctx, repairInterval)
	r["services"] = &REST{REST: s.REST, stopRepair: cancel}
	return nil
}

// newAllocators builds the etcd-backed allocators of the configured ranges.
func newAllocators(d store.Deps) (*allocators, error) {
	if d.Etcd == nil {
		return nil, errors.New("service allocation needs an etcd client")
	}
	ipRange, err := allocator.NewIPRange(d.ServiceIPRange)
	if err != nil {
		return nil, err
	}
	portRange, err := allocator.NewPortRange(d.NodePortRange)
	if err != nil {
		return nil, err
	}
	prefix := path.Join("/", d.EtcdPrefix, "strata.io", "allocations")
	return &allocators{
		ips:    allocator.NewEtcd[net.IP](d.Etcd, prefix+"/clusterips", ipRange),
		ports:  allocator.NewEtcd[int](d.Etcd, prefix+"/nodeports", portRange),
		family: familyOf(d.ServiceIPRange.IP),
	}, nil
}
