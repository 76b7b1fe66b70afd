// Package iptables is the proxy's iptables proxier, in the shape of
// kube-proxy's pkg/proxy/iptables. Informer event handlers (OnService*,
// OnEndpointSlice*, OnNode*) only record changes in the change trackers; a
// rate-limited sync (syncProxyRules) applies them, turns the whole state into
// one iptables-restore input with the pure buildRules, and writes it in one
// atomic `iptables-restore --noflush`. Partial syncs rewrite only the chains
// of the Services that changed; full syncs (the first, after a failure, when
// the rules were flushed, and hourly) rewrite everything and make sure the
// jumps from the built-in chains exist.
//
// Nothing is ever flushed outside the restore, and restarting the proxier
// rewrites the same chains in one transaction, so established connections
// (and their conntrack entries) survive a restart.
package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/proxy"
	"github.com/strata-dev/strata/proxy/async"
	"github.com/strata-dev/strata/proxy/conntrack"
	"github.com/strata-dev/strata/proxy/ipt"
	"github.com/strata-dev/strata/proxy/sysctl"
)

const (
	sysctlRouteLocalnet           = "net/ipv4/conf/all/route_localnet"
	sysctlNFConntrackTCPBeLiberal = "net/netfilter/nf_conntrack_tcp_be_liberal"
	sysctlBridgeCallIPTables      = "net/bridge/bridge-nf-call-iptables"

	// DefaultSyncPeriod is how often the proxier checks that its rules
	// were not flushed, and how long it waits to retry a failed sync.
	DefaultSyncPeriod = 30 * time.Second
	// DefaultMinSyncPeriod is the shortest average time between syncs.
	DefaultMinSyncPeriod = time.Second
	// DefaultFullSyncPeriod is the longest time between full syncs.
	DefaultFullSyncPeriod = time.Hour
	// DefaultMasqueradeBit is the fwmark bit of traffic to masquerade
	// (0x4000).
	DefaultMasqueradeBit = 14

	// burstSyncs is how many syncs may follow each other without
	// waiting for MinSyncPeriod.
	burstSyncs = 2
)

// HealthUpdater hears about queued and completed syncs, for the proxy's
// health endpoint.
type HealthUpdater interface {
	QueuedUpdate(family corev1.IPFamily)
	Updated(family corev1.IPFamily)
}

// Config configures a Proxier. IPTables is required; zero values of the
// rest are upstream's defaults.
type Config struct {
	// Family is the IP family of the Services and endpoints handled
	// (default IPv4); a dual-stack node runs one proxier per family.
	Family    corev1.IPFamily
	IPTables  ipt.Interface
	Conntrack conntrack.Interface
	Sysctl    sysctl.Interface
	// NodeName tells local endpoints (EndpointSlice nodeName) apart.
	NodeName string
	// NodeIPs are the node's primary IPs.
	NodeIPs []net.IP

	SyncPeriod     time.Duration
	MinSyncPeriod  time.Duration
	FullSyncPeriod time.Duration

	// MasqueradeAll masquerades all traffic to cluster IPs.
	MasqueradeAll bool
	// MasqueradeBit is the fwmark bit marking traffic to masquerade.
	MasqueradeBit *int
	// LocalDetector tells traffic from pods apart.
	LocalDetector LocalTrafficDetector
	// LocalhostNodePorts opens node ports on 127.0.0.1 (IPv4), setting
	// route_localnet, when NodePortAddresses includes it.
	LocalhostNodePorts bool
	// NodePortAddresses are CIDRs (or "primary") of the local addresses
	// node ports are open on; empty: all.
	NodePortAddresses []string
	// InterfaceAddrs lists the node's addresses (default
	// net.InterfaceAddrs); used only with NodePortAddresses.
	InterfaceAddrs func() ([]net.Addr, error)

	Clock  clock.WithTicker
	Health HealthUpdater
}

// Proxier programs iptables for the Services and EndpointSlices of one IP
// family.
type Proxier struct {
	logger           logr.Logger
	family           corev1.IPFamily
	serviceChanges   *proxy.ServiceChangeTracker
	endpointsChanges *proxy.EndpointsChangeTracker

	mu                   sync.Mutex // guards the fields below
	svcPortMap           proxy.ServicePortMap
	endpointsMap         proxy.EndpointsMap
	nodeLabels           map[string]string
	servicesSynced       bool
	endpointSlicesSynced bool
	needFullSync         bool
	lastFullSync         time.Time
	lastChainCleanup     time.Time

	initialized atomic.Bool
	syncRunner  *async.BoundedFrequencyRunner

	iptables       ipt.Interface
	conntrack      conntrack.Interface
	rules          ruleConfig
	syncPeriod     time.Duration
	fullSyncPeriod time.Duration
	interfaceAddrs func() ([]net.Addr, error)
	clock          clock.WithTicker
	health         HealthUpdater
}

// New returns a Proxier. It sets route_localnet when node ports are open on
// localhost. The logger comes from ctx.
func New(ctx context.Context, cfg Config) (*Proxier, error) {
	if cfg.IPTables == nil {
		return nil, fmt.Errorf("no iptables interface")
	}
	if cfg.Family == "" {
		cfg.Family = corev1.IPv4Protocol
	}
	if cfg.IPTables.Family() != cfg.Family {
		return nil, fmt.Errorf("iptables interface is %s, proxier is %s", cfg.IPTables.Family(), cfg.Family)
	}
	logger := klog.FromContext(ctx).WithValues("ipFamily", cfg.Family)
	if cfg.Conntrack == nil {
		cfg.Conntrack = conntrack.NewExec(logger)
	}
	if cfg.Sysctl == nil {
		cfg.Sysctl = sysctl.New()
	}
	if cfg.SyncPeriod <= 0 {
		cfg.SyncPeriod = DefaultSyncPeriod
	}
	if cfg.MinSyncPeriod < 0 {
		cfg.MinSyncPeriod = 0
	}
	if cfg.FullSyncPeriod <= 0 {
		cfg.FullSyncPeriod = DefaultFullSyncPeriod
	}
	bit := DefaultMasqueradeBit
	if cfg.MasqueradeBit != nil {
		bit = *cfg.MasqueradeBit
	}
	if bit < 0 || bit > 31 {
		return nil, fmt.Errorf("masquerade bit %d is not in [0, 31]", bit)
	}
	if cfg.InterfaceAddrs == nil {
		cfg.InterfaceAddrs = net.InterfaceAddrs
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	nodePortAddresses, err := NewNodePortAddresses(cfg.Family, cfg.NodePortAddresses, cfg.NodeIPs)
	if err != nil {
		return nil, err
	}
	localhostNodePorts := cfg.LocalhostNodePorts && cfg.Family == corev1.IPv4Protocol && nodePortAddresses.ContainsIPv4Loopback()
	if localhostNodePorts {
		logger.Info("Setting route_localnet=1 to allow node ports on localhost; to change this disable localhost node ports or set node port addresses that exclude loopback")
		if v, err := cfg.Sysctl.Get(sysctlRouteLocalnet); err != nil || v != 1 {
			if err := cfg.Sysctl.Set(sysctlRouteLocalnet, 1); err != nil {
				return nil, fmt.Errorf("setting sysctl %s: %w", sysctlRouteLocalnet, err)
			}
		}
	}
	// Pods on a Linux bridge reaching a Service whose endpoint is on the
	// same bridge need bridged traffic to go through iptables, or the
	// replies skip the reverse DNAT. Say so, as upstream does.
	if v, err := cfg.Sysctl.Get(sysctlBridgeCallIPTables); err == nil && v != 1 {
		logger.Info("Missing br-netfilter module or unset sysctl br-nf-call-iptables, proxy may not work as intended")
	}
	tcpLiberal := false
	if v, err := cfg.Sysctl.Get(sysctlNFConntrackTCPBeLiberal); err == nil && v != 0 {
		tcpLiberal = true
		logger.Info("Not installing DROP rules for INVALID packets: nf_conntrack_tcp_be_liberal is set")
	}

	p := &Proxier{
		logger:           logger,
		family:           cfg.Family,
		serviceChanges:   proxy.NewServiceChangeTracker(logger, cfg.Family),
		endpointsChanges: proxy.NewEndpointsChangeTracker(logger, cfg.Family, cfg.NodeName),
		svcPortMap:       proxy.ServicePortMap{},
		endpointsMap:     proxy.EndpointsMap{},
		needFullSync:     true,
		iptables:         cfg.IPTables,
		conntrack:        cfg.Conntrack,
		rules: ruleConfig{
			family:              cfg.Family,
			masqueradeMark:      fmt.Sprintf("%#x", 1<<uint(bit)),
			masqueradeAll:       cfg.MasqueradeAll,
			localDetector:       cfg.LocalDetector,
			localhostNodePorts:  localhostNodePorts,
			nodePortAddresses:   nodePortAddresses,
			randomFully:         cfg.IPTables.HasRandomFully(),
			conntrackTCPLiberal: tcpLiberal,
			nodeName:            cfg.NodeName,
			nodeIPs:             cfg.NodeIPs,
		},
		syncPeriod:     cfg.SyncPeriod,
		fullSyncPeriod: cfg.FullSyncPeriod,
		interfaceAddrs: cfg.InterfaceAddrs,
		clock:          cfg.Clock,
		health:         cfg.Health,
	}
	// The runner runs at least every full sync period; the monitor asks
	// for earlier full syncs when the rules were flushed.
	p.syncRunner = async.NewBoundedFrequencyRunner(p.syncProxyRules, cfg.MinSyncPeriod, cfg.FullSyncPeriod, burstSyncs, cfg.Clock)
	logger.V(2).Info("Iptables sync params", "minSyncPeriod", cfg.MinSyncPeriod, "syncPeriod", cfg.SyncPeriod, "fullSyncPeriod", cfg.FullSyncPeriod, "burstSyncs", burstSyncs, "masqueradeMark", p.rules.masqueradeMark)
	return p, nil
}

// Family is the IP family the proxier handles.
func (p *Proxier) Family() corev1.IPFamily { return p.family }

// Sync asks for a sync as soon as the rate limit allows.
func (p *Proxier) Sync() {
	if p.health != nil {
		p.health.QueuedUpdate(p.family)
	}
	p.syncRunner.Run()
}

// Run syncs as asked until ctx is done, and watches for the rules being
// flushed by someone else.
func (p *Proxier) Run(ctx context.Context) {
	if p.health != nil {
		p.health.Updated(p.family)
	}
	go p.monitor(ctx)
	p.syncRunner.Loop(ctx)
}

func (p *Proxier) isInitialized() bool { return p.initialized.Load() }

// OnServiceAdd records a new Service.
func (p *Proxier) OnServiceAdd(svc *corev1.Service) { p.OnServiceUpdate(nil, svc) }

// OnServiceUpdate records a changed Service.
func (p *Proxier) OnServiceUpdate(old, svc *corev1.Service) {
	if p.serviceChanges.Update(old, svc) && p.isInitialized() {
		p.Sync()
	}
}

// OnServiceDelete records a deleted Service.
func (p *Proxier) OnServiceDelete(svc *corev1.Service) { p.OnServiceUpdate(svc, nil) }

// OnServiceSynced is called once the Service informer has synced.
func (p *Proxier) OnServiceSynced() {
	p.mu.Lock()
	p.servicesSynced = true
	p.initialized.Store(p.endpointSlicesSynced)
	p.mu.Unlock()
	p.syncProxyRules()
}

// OnEndpointSliceAdd records a new EndpointSlice.
func (p *Proxier) OnEndpointSliceAdd(slice *discoveryv1.EndpointSlice) {
	if p.endpointsChanges.EndpointSliceUpdate(slice, false) && p.isInitialized() {
		p.Sync()
	}
}

// OnEndpointSliceUpdate records a changed EndpointSlice.
func (p *Proxier) OnEndpointSliceUpdate(_, slice *discoveryv1.EndpointSlice) {
	p.OnEndpointSliceAdd(slice)
}

// OnEndpointSliceDelete records a deleted EndpointSlice.
func (p *Proxier) OnEndpointSliceDelete(slice *discoveryv1.EndpointSlice) {
	if p.endpointsChanges.EndpointSliceUpdate(slice, true) && p.isInitialized() {
		p.Sync()
	}
}

// OnEndpointSlicesSynced is called once the EndpointSlice informer has
// synced.
func (p *Proxier) OnEndpointSlicesSynced() {
	p.mu.Lock()
	p.endpointSlicesSynced = true
	p.initialized.Store(p.servicesSynced)
	p.mu.Unlock()
	p.syncProxyRules()
}

// OnNodeAdd records this node's labels (topology); other nodes are
// ignored.
func (p *Proxier) OnNodeAdd(node *corev1.Node) { p.OnNodeUpdate(nil, node) }

// OnNodeUpdate records a change of this node's labels.
func (p *Proxier) OnNodeUpdate(_, node *corev1.Node) {
	if node.Name != p.rules.nodeName {
		p.logger.Error(nil, "Received a watch event for a node that doesn't match the current node", "eventNode", node.Name, "currentNode", p.rules.nodeName)
		return
	}
	p.mu.Lock()
	if reflect.DeepEqual(p.nodeLabels, node.Labels) {
		p.mu.Unlock()
		return
	}
	p.nodeLabels = map[string]string{}
	for k, v := range node.Labels {
		p.nodeLabels[k] = v
	}
	p.needFullSync = true
	p.mu.Unlock()
	p.logger.V(4).Info("Updated proxier node labels", "labels", node.Labels)
	p.Sync()
}

// OnNodeDelete forgets this node's labels.
func (p *Proxier) OnNodeDelete(node *corev1.Node) {
	if node.Name != p.rules.nodeName {
		return
	}
	p.mu.Lock()
	p.nodeLabels = nil
	p.needFullSync = true
	p.mu.Unlock()
	p.Sync()
}

// forceSyncProxyRules runs a full sync now.
func (p *Proxier) forceSyncProxyRules() {
	p.mu.Lock()
	p.needFullSync = true
	p.mu.Unlock()
	p.syncProxyRules()
}

// syncProxyRules is where the rules get written: one iptables-restore of
// everything the proxy owns in the filter and nat tables.
func (p *Proxier) syncProxyRules() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.isInitialized() {
		p.logger.V(2).Info("Not syncing iptables until Services and EndpointSlices have been received from the API server")
		return
	}
	start := p.clock.Now()
	fullSync := p.needFullSync || start.Sub(p.lastFullSync) > p.fullSyncPeriod
	defer func() {
		p.logger.V(2).Info("SyncProxyRules complete", "elapsed", p.clock.Since(start), "fullSync", fullSync)
	}()

	// Which Services change must be read before applying the changes.
	svcResult := p.svcPortMap.Update(p.serviceChanges)
	epResult := p.endpointsMap.Update(p.endpointsChanges)
	p.logger.V(2).Info("Syncing iptables rules", "fullSync", fullSync)

	success := false
	defer func() {
		if !success {
			p.logger.Info("Sync failed", "retryingTime", p.syncPeriod)
			p.syncRunner.RetryAfter(p.syncPeriod)
			// The applied changes are gone: only a full sync can
			// catch up.
			p.needFullSync = true
		}
	}()

	if fullSync {
		// The jumps from the built-in chains cannot be part of the
		// restore without rewriting those chains. Create them on full
		// syncs only: partial syncs assume they still exist, and the
		// monitor forces a full sync when they vanish.
		if err := p.ensureJumpChains(); err != nil {
			p.logger.Error(err, "Failed to ensure iptables jump rules")
			return
		}
	}

	in := &ruleInput{
		services:   p.svcPortMap,
		endpoints:  p.endpointsMap,
		nodeLabels: p.nodeLabels,
	}
	if !fullSync {
		in.changed = svcResult.UpdatedServices.Union(epResult.UpdatedServices)
	}
	totalEndpoints := 0
	for name := range p.svcPortMap {
		totalEndpoints += len(p.endpointsMap[name])
	}
	// Looking for stale chains costs an iptables-save; in large
	// clusters do it only once per sync period.
	if totalEndpoints <= largeClusterEndpointsThreshold || start.Sub(p.lastChainCleanup) > p.syncPeriod {
		var buf bytes.Buffer
		if err := p.iptables.SaveInto(ipt.TableNAT, &buf); err != nil {
			p.logger.Error(err, "Failed to execute iptables-save: stale chains will not be deleted")
		} else {
			in.existingNATChains = ipt.ChainsFromTable(buf.Bytes())
			p.lastChainCleanup = start
		}
	}
	if !p.rules.nodePortAddresses.MatchAll() {
		addrs, err := p.interfaceAddrs()
		if err != nil {
			p.logger.Error(err, "Failed to get node IP addresses matching node port CIDRs, services with node ports may not work as intended", "cidrs", p.rules.nodePortAddresses.String())
		}
		in.nodePortIPs = p.rules.nodePortAddresses.NodeIPs(addrs)
	}

	rs := buildRules(&p.rules, in)
	p.logger.V(2).Info("Reloading service iptables data",
		"numServices", len(p.svcPortMap), "numEndpoints", rs.totalEndpoints,
		"numFilterChains", rs.filterChains, "numFilterRules", rs.filterRules,
		"numNATChains", rs.natChains, "numNATRules", rs.natRules,
		"numSkippedNATRules", rs.skippedNATRules, "numDeletedChains", rs.deletedChains)
	p.logger.V(9).Info("Restoring iptables", "rules", string(rs.data))

	// NoFlushTables: only the chains declared in the input are flushed
	// (and rewritten); the rest of the tables stays.
	if err := p.iptables.Restore(rs.data, ipt.NoFlushTables, ipt.RestoreCounters); err != nil {
		var rerr *ipt.RestoreError
		if errors.As(err, &rerr) && rerr.Line > 0 {
			p.logger.Error(err, "Failed to execute iptables-restore", "rules", ipt.ExtractLines(rs.data, rerr.Line, 3))
		} else {
			p.logger.Error(err, "Failed to execute iptables-restore")
		}
		return
	}
	success = true
	p.needFullSync = false
	if fullSync {
		p.lastFullSync = start
	}
	if p.health != nil {
		p.health.Updated(p.family)
	}

	conntrack.CleanStaleEntries(p.logger, p.conntrack, p.family, p.svcPortMap, svcResult, epResult)
}

// ensureJumpChains creates the proxy's top-level chains and the jumps to
// them from the built-in chains.
func (p *Proxier) ensureJumpChains() error {
	jumps := jumpChains
	if p.rules.localhostNodePorts {
		jumps = append(append([]jumpChain{}, jumpChains...), localnetJumpChains...)
	}
	for _, j := range jumps {
		if _, err := p.iptables.EnsureChain(j.table, j.dstChain); err != nil {
			return fmt.Errorf("ensuring chain %s in table %s: %w", j.dstChain, j.table, err)
		}
		if _, err := p.iptables.EnsureRule(ipt.Prepend, j.table, j.srcChain, j.args()...); err != nil {
			return fmt.Errorf("ensuring jump from %s to %s in table %s: %w", j.srcChain, j.dstChain, j.table, err)
		}
	}
	return nil
}

// canaryTables are where the monitor keeps a canary chain, as upstream.
var canaryTables = []ipt.Table{ipt.TableMangle, ipt.TableNAT, ipt.TableFilter}

// monitor keeps an empty KUBE-PROXY-CANARY chain in each table and checks
// every sync period that it is still there. When it is gone, someone
// flushed iptables (a firewall reload, a reboot of the rules): recreate it
// and force a full sync.
func (p *Proxier) monitor(ctx context.Context) {
	for _, t := range canaryTables {
		if _, err := p.iptables.EnsureChain(t, kubeProxyCanaryChain); err != nil {
			p.logger.Error(err, "Failed to create the canary chain", "table", t)
		}
	}
	ticker := p.clock.NewTicker(p.syncPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
		if p.checkCanaries() {
			continue
		}
		p.logger.Info("The iptables canary chain is gone: the rules were flushed, forcing a full sync")
		for _, t := range canaryTables {
			if _, err := p.iptables.EnsureChain(t, kubeProxyCanaryChain); err != nil {
				p.logger.Error(err, "Failed to recreate the canary chain", "table", t)
			}
		}
		p.forceSyncProxyRules()
	}
}

// checkCanaries reports whether every canary chain is there (errors count
// as there: they say nothing of a flush).
func (p *Proxier) checkCanaries() bool {
	for _, t := range canaryTables {
		exists, err := p.iptables.ChainExists(t, kubeProxyCanaryChain)
		if err != nil {
			p.logger.V(2).Info("Failed to check the canary chain", "table", t, "err", err)
			continue
		}
		if !exists {
			return false
		}
	}
	return true
}
