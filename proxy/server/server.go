// Package server wires the service proxy for `strata proxy`: options, the
// API client, informers of Services, EndpointSlices and this Node, one
// iptables proxier per IP family of the node, the health endpoint, and
// --cleanup.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/proxy"
	"github.com/strata-dev/strata/proxy/conntrack"
	"github.com/strata-dev/strata/proxy/healthcheck"
	"github.com/strata-dev/strata/proxy/ipt"
	proxyiptables "github.com/strata-dev/strata/proxy/iptables"
	"github.com/strata-dev/strata/proxy/sysctl"
)

const (
	// LabelServiceProxyName marks Services (and their EndpointSlices)
	// that another proxy handles; this one ignores them, as upstream.
	LabelServiceProxyName = "service.kubernetes.io/service-proxy-name"
	// ReportingController is the events' reporting controller, as
	// upstream's.
	ReportingController = "kube-proxy"
	// DefaultHealthzBindAddress is upstream's health endpoint.
	DefaultHealthzBindAddress = "0.0.0.0:10256"
	// nodeIPTimeout is how long to wait for the Node object's addresses
	// when no --node-ip is given.
	nodeIPTimeout = 30 * time.Second
)

// Options are the flags of `strata proxy`.
type Options struct {
	Kubeconfig         string
	HostnameOverride   string
	NodeIPs            []string
	ClusterCIDRs       []string
	NodePortAddresses  []string
	SyncPeriod         time.Duration
	MinSyncPeriod      time.Duration
	ConfigSyncPeriod   time.Duration
	MasqueradeAll      bool
	MasqueradeBit      int
	LocalhostNodePorts bool
	HealthzBindAddress string
	Cleanup            bool
}

// NewOptions returns upstream's defaults.
func NewOptions() *Options {
	return &Options{
		SyncPeriod:         proxyiptables.DefaultSyncPeriod,
		MinSyncPeriod:      proxyiptables.DefaultMinSyncPeriod,
		ConfigSyncPeriod:   15 * time.Minute,
		MasqueradeBit:      proxyiptables.DefaultMasqueradeBit,
		LocalhostNodePorts: true,
		HealthzBindAddress: DefaultHealthzBindAddress,
	}
}

// AddFlags adds the options' flags to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig of the cluster: the node's identity (system:node:<name>, e.g. the kubelet's <root-dir>/kubelet.kubeconfig) or a system:kube-proxy user; empty: in-cluster configuration")
	fs.StringVar(&o.HostnameOverride, "hostname-override", o.HostnameOverride, "name of this node (default: the host name, lower-cased); endpoints on it are local")
	fs.StringSliceVar(&o.NodeIPs, "node-ip", o.NodeIPs, "primary IPs of this node, one per family (default: the Node's InternalIP, else ExternalIP addresses)")
	fs.StringSliceVar(&o.ClusterCIDRs, "cluster-cidr", o.ClusterCIDRs, "pod CIDRs of the cluster, one per family: traffic to cluster IPs from elsewhere is masqueraded (empty: it is not)")
	fs.StringSliceVar(&o.NodePortAddresses, "nodeport-addresses", o.NodePortAddresses, "CIDRs of the local addresses node ports are open on, or \"primary\" for the node IPs (empty: all local addresses)")
	fs.DurationVar(&o.SyncPeriod, "sync-period", o.SyncPeriod, "how often to check that the rules were not flushed (then a full sync follows) and how long to wait before retrying a failed sync; full syncs also happen at least hourly")
	fs.DurationVar(&o.MinSyncPeriod, "min-sync-period", o.MinSyncPeriod, "shortest average time between syncs (0: sync on every change)")
	fs.DurationVar(&o.ConfigSyncPeriod, "config-sync-period", o.ConfigSyncPeriod, "resync period of the Service and EndpointSlice informers")
	fs.BoolVar(&o.MasqueradeAll, "masquerade-all", o.MasqueradeAll, "masquerade all traffic to cluster IPs")
	fs.IntVar(&o.MasqueradeBit, "masquerade-bit", o.MasqueradeBit, "fwmark bit (0-31) of traffic to masquerade")
	fs.BoolVar(&o.LocalhostNodePorts, "iptables-localhost-nodeports", o.LocalhostNodePorts, "open node ports on 127.0.0.1 too (sets net.ipv4.conf.all.route_localnet=1)")
	fs.StringVar(&o.HealthzBindAddress, "healthz-bind-address", o.HealthzBindAddress, "address of /healthz and /livez (empty: not served)")
	fs.BoolVar(&o.Cleanup, "cleanup", o.Cleanup, "remove every rule and chain the proxy added, then exit")
}

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	if o.SyncPeriod <= 0 {
		errs = append(errs, errors.New("--sync-period must be positive"))
	}
	if o.MinSyncPeriod < 0 {
		errs = append(errs, errors.New("--min-sync-period must not be negative"))
	}
	if o.MasqueradeBit < 0 || o.MasqueradeBit > 31 {
		errs = append(errs, fmt.Errorf("--masquerade-bit %d is not in [0, 31]", o.MasqueradeBit))
	}
	for _, ip := range o.NodeIPs {
		if netutils.ParseIPSloppy(ip) == nil {
			errs = append(errs, fmt.Errorf("--node-ip %q is not an IP address", ip))
		}
	}
	for _, c := range o.ClusterCIDRs {
		if _, _, err := netutils.ParseCIDRSloppy(c); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-cidr %q: %w", c, err))
		}
	}
	for _, c := range o.NodePortAddresses {
		if c == "primary" {
			continue
		}
		if _, _, err := netutils.ParseCIDRSloppy(c); err != nil {
			errs = append(errs, fmt.Errorf("--nodeport-addresses %q: %w", c, err))
		}
	}
	return errors.Join(errs...)
}

// Hostname is the node name: --hostname-override or the host name,
// lower-cased and trimmed, as upstream.
func (o *Options) Hostname() (string, error) {
	name := o.HostnameOverride
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("getting the host name: %w", err)
		}
		name = h
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", errors.New("empty node name")
	}
	return name, nil
}

// Run runs the proxy until ctx is done, or cleans up with --cleanup.
func (o *Options) Run(ctx context.Context) error {
	if err := o.Validate(); err != nil {
		return err
	}
	logger := klog.FromContext(ctx)
	if o.Cleanup {
		return Cleanup(ctx)
	}
	hostname, err := o.Hostname()
	if err != nil {
		return err
	}
	cfg, err := o.restConfig()
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}

	nodeIPs, err := o.nodeIPs(ctx, client, hostname)
	if err != nil {
		return err
	}
	logger.Info("Starting the service proxy", "node", hostname, "nodeIPs", nodeIPs)

	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	broadcaster.StartRecordingToSink(ctx.Done())
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, ReportingController)

	health := healthcheck.New(2*o.SyncPeriod, nil)
	proxiers, err := o.newProxiers(ctx, hostname, nodeIPs, health)
	if err != nil {
		return err
	}

	if o.HealthzBindAddress != "" {
		srv := &http.Server{Addr: o.HealthzBindAddress, Handler: health.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error(err, "Health server failed", "address", o.HealthzBindAddress)
			}
		}()
	}

	// Services and EndpointSlices another proxy handles, and those of
	// headless Services, are not even listed, as upstream.
	noProxyName, _ := labels.NewRequirement(LabelServiceProxyName, selection.DoesNotExist, nil)
	noHeadless, _ := labels.NewRequirement(corev1.IsHeadlessService, selection.DoesNotExist, nil)
	selector := labels.NewSelector().Add(*noProxyName, *noHeadless).String()
	factory := informers.NewSharedInformerFactoryWithOptions(client, o.ConfigSyncPeriod,
		informers.WithTweakListOptions(func(opts *metav1.ListOptions) { opts.LabelSelector = selector }))
	nodeFactory := informers.NewSharedInformerFactoryWithOptions(client, o.ConfigSyncPeriod,
		informers.WithTweakListOptions(func(opts *metav1.ListOptions) {
			opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", hostname).String()
		}))
	handlers := multiHandler(proxiers)
	serviceInformer := factory.Core().V1().Services().Informer()
	sliceInformer := factory.Discovery().V1().EndpointSlices().Informer()
	nodeInformer := nodeFactory.Core().V1().Nodes().Informer()
	if _, err := serviceInformer.AddEventHandler(handlers.serviceHandler()); err != nil {
		return err
	}
	if _, err := sliceInformer.AddEventHandler(handlers.sliceHandler()); err != nil {
		return err
	}
	if _, err := nodeInformer.AddEventHandler(handlers.nodeHandler()); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	nodeFactory.Start(ctx.Done())
	defer factory.Shutdown()
	defer nodeFactory.Shutdown()

	var wg sync.WaitGroup
	for _, p := range proxiers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Run(ctx)
		}()
	}
	// Tell the proxiers once everything was listed: they sync no rules
	// before, so that a restart never writes a partial state.
	go func() {
		if cache.WaitForNamedCacheSync("service config", ctx.Done(), serviceInformer.HasSynced) {
			for _, p := range proxiers {
				p.OnServiceSynced()
			}
		}
	}()
	go func() {
		if cache.WaitForNamedCacheSync("endpoint slice config", ctx.Done(), sliceInformer.HasSynced) {
			for _, p := range proxiers {
				p.OnEndpointSlicesSynced()
			}
		}
	}()

	nodeRef := &corev1.ObjectReference{Kind: "Node", Name: hostname, UID: types.UID(hostname)}
	recorder.Eventf(nodeRef, nil, corev1.EventTypeNormal, "Starting", "StartKubeProxy", "")

	<-ctx.Done()
	wg.Wait()
	logger.Info("Service proxy stopped")
	return nil
}

func (o *Options) restConfig() (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if o.Kubeconfig == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no --kubeconfig and not in a cluster: %w", err)
		}
	} else if cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig); err != nil {
		return nil, fmt.Errorf("loading %s: %w", o.Kubeconfig, err)
	}
	cfg.UserAgent = "strata-proxy"
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// nodeIPs returns --node-ip, or else the Node's addresses (waiting a while
// for the Node to be registered), or else 127.0.0.1.
func (o *Options) nodeIPs(ctx context.Context, client kubernetes.Interface, hostname string) ([]net.IP, error) {
	logger := klog.FromContext(ctx)
	if len(o.NodeIPs) > 0 {
		var ips []net.IP
		for _, s := range o.NodeIPs {
			ips = append(ips, netutils.ParseIPSloppy(s))
		}
		return ips, nil
	}
	var ips []net.IP
	err := wait.PollUntilContextTimeout(ctx, time.Second, nodeIPTimeout, true, func(ctx context.Context) (bool, error) {
		node, err := client.CoreV1().Nodes().Get(ctx, hostname, metav1.GetOptions{})
		if err != nil {
			logger.V(2).Info("Waiting for the Node", "node", hostname, "err", err)
			return false, nil
		}
		ips = NodeAddresses(node)
		return len(ips) > 0, nil
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil || len(ips) == 0 {
		logger.Info("Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --node-ip flag", "node", hostname)
		return []net.IP{net.IPv4(127, 0, 0, 1)}, nil
	}
	return ips, nil
}

// NodeAddresses returns a Node's primary IPs, at most one per family, the
// node's preferred family first: InternalIP addresses, else ExternalIP
// ones, as upstream's GetNodeHostIPs.
func NodeAddresses(node *corev1.Node) []net.IP {
	var all []net.IP
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, a := range node.Status.Addresses {
			if a.Type == t {
				if ip := netutils.ParseIPSloppy(a.Address); ip != nil {
					all = append(all, ip)
				}
			}
		}
	}
	if len(all) == 0 {
		return nil
	}
	out := []net.IP{all[0]}
	for _, ip := range all[1:] {
		if netutils.IsIPv6(ip) != netutils.IsIPv6(all[0]) {
			out = append(out, ip)
			break
		}
	}
	return out
}

// newProxiers creates one proxier per family of the node IPs (IPv4 when
// there is none). The primary family must work; the other is skipped with
// a warning when ip6tables (or iptables) is missing.
func (o *Options) newProxiers(ctx context.Context, hostname string, nodeIPs []net.IP, health *healthcheck.ProxyHealth) ([]*proxyiptables.Proxier, error) {
	logger := klog.FromContext(ctx)
	families := []corev1.IPFamily{corev1.IPv4Protocol}
	if len(nodeIPs) > 0 {
		families = []corev1.IPFamily{proxy.IPFamilyOf(nodeIPs[0].String())}
		for _, ip := range nodeIPs[1:] {
			if f := proxy.IPFamilyOf(ip.String()); f != families[0] {
				families = append(families, f)
				break
			}
		}
	}
	var proxiers []*proxyiptables.Proxier
	for i, family := range families {
		runner, err := ipt.New(family)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("%s iptables: %w", family, err)
			}
			logger.Info("Not proxying the secondary IP family: its iptables is not available", "ipFamily", family, "err", err)
			continue
		}
		detector, err := proxyiptables.NewLocalTrafficDetector(family, o.ClusterCIDRs)
		if err != nil {
			return nil, err
		}
		if !detector.IsImplemented() {
			logger.Info("No cluster CIDR of this family: traffic from outside the cluster to cluster IPs is not masqueraded", "ipFamily", family)
		}
		bit := o.MasqueradeBit
		p, err := proxyiptables.New(ctx, proxyiptables.Config{
			Family:             family,
			IPTables:           runner,
			Conntrack:          conntrack.NewExec(logger.WithValues("ipFamily", family)),
			Sysctl:             sysctl.New(),
			NodeName:           hostname,
			NodeIPs:            nodeIPs,
			SyncPeriod:         o.SyncPeriod,
			MinSyncPeriod:      o.MinSyncPeriod,
			MasqueradeAll:      o.MasqueradeAll,
			MasqueradeBit:      &bit,
			LocalDetector:      detector,
			LocalhostNodePorts: o.LocalhostNodePorts,
			NodePortAddresses:  o.NodePortAddresses,
			Health:             health,
		})
		if err != nil {
			return nil, err
		}
		proxiers = append(proxiers, p)
	}
	return proxiers, nil
}

// Cleanup removes the proxy's rules of both families (IPv6 only where
// ip6tables is installed).
func Cleanup(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	var errs []error
	for _, family := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		runner, err := ipt.New(family)
		if err != nil {
			if family == corev1.IPv4Protocol {
				errs = append(errs, err)
			} else {
				logger.V(2).Info("Skipping cleanup of the IPv6 rules", "err", err)
			}
			continue
		}
		logger.Info("Removing the proxy's iptables rules", "ipFamily", family)
		if err := proxyiptables.CleanupLeftovers(ctx, runner); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// multiHandler hands every informer event to each proxier.
type multiHandler []*proxyiptables.Proxier

func (m multiHandler) serviceHandler() cache.ResourceEventHandler {
	return fanOut(m, (*proxyiptables.Proxier).OnServiceAdd, (*proxyiptables.Proxier).OnServiceUpdate, (*proxyiptables.Proxier).OnServiceDelete)
}

func (m multiHandler) sliceHandler() cache.ResourceEventHandler {
	return fanOut(m, (*proxyiptables.Proxier).OnEndpointSliceAdd, (*proxyiptables.Proxier).OnEndpointSliceUpdate, (*proxyiptables.Proxier).OnEndpointSliceDelete)
}

func (m multiHandler) nodeHandler() cache.ResourceEventHandler {
	return fanOut(m, (*proxyiptables.Proxier).OnNodeAdd, (*proxyiptables.Proxier).OnNodeUpdate, (*proxyiptables.Proxier).OnNodeDelete)
}

// fanOut hands the informer events about objects of type T to each
// proxier through its add, update and delete methods.
func fanOut[T any](m multiHandler, add func(*proxyiptables.Proxier, T), update func(*proxyiptables.Proxier, T, T), del func(*proxyiptables.Proxier, T)) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if o, ok := obj.(T); ok {
				for _, p := range m {
					add(p, o)
				}
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			old, ok1 := oldObj.(T)
			o, ok2 := newObj.(T)
			if ok1 && ok2 {
				for _, p := range m {
					update(p, old, o)
				}
			}
		},
		DeleteFunc: func(obj any) {
			if o, ok := tombstone[T](obj); ok {
				for _, p := range m {
					del(p, o)
				}
			}
		},
	}
}

// tombstone unwraps a deleted object, also from a DeletedFinalStateUnknown.
func tombstone[T any](obj any) (T, bool) {
	if t, ok := obj.(T); ok {
		return t, true
	}
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		t, ok := d.Obj.(T)
		return t, ok
	}
	var zero T
	return zero, false
}
