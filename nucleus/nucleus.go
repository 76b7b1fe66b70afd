// Package nucleus runs Strata's API server: embedded (or external) etcd, the
// core types, and custom resources.
package nucleus

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/etcd"
	"github.com/strata-dev/strata/nucleus/options"
)

// Run serves the API until ctx ends. ready, if not nil, is closed once
// admin.kubeconfig is written and the server is about to serve; callers poll
// /readyz for readiness.
func Run(ctx context.Context, o *options.Options, ready chan<- struct{}) error {
	logger := klog.FromContext(ctx)
	if err := o.Validate(); err != nil {
		return err
	}
	servers := o.EtcdServers
	if len(servers) == 0 {
		logger.Info("Starting embedded etcd", "dataDir", o.DataDir)
		member, err := etcd.Start(ctx, o.DataDir)
		if err != nil {
			return err
		}
		// etcd starts before the server and outlives its shutdown.
		defer member.Close()
		servers = []string{member.ClientURL}
	}

	cfg, err := o.Config(ctx, servers)
	if err != nil {
		return err
	}
	defer cfg.ExtraConfig.Etcd.Close()
	completed, err := cfg.Complete()
	if err != nil {
		return err
	}
	n, err := completed.New()
	if err != nil {
		return err
	}
	port := o.SecurePort
	if addr := cfg.GenericConfig.SecureServing.Listener.Addr(); addr != nil {
		port = addrPort(addr.String(), port)
	}
	if err := o.PKIDir().WriteKubeconfig(o.AdminKubeconfig(), o.ServerURL(port), "strata", "admin"); err != nil {
		return fmt.Errorf("writing %s: %w", o.AdminKubeconfig(), err)
	}
	logger.Info("Serving the Kubernetes API", "url", o.ServerURL(port), "kubeconfig", o.AdminKubeconfig())
	prepared := n.GenericAPIServer.PrepareRun()
	if ready != nil {
		close(ready)
	}
	return prepared.RunWithContext(ctx)
}

// addrPort returns the port of a host:port address, or def.
func addrPort(addr string, def int) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return def
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return def
	}
	return n
}
