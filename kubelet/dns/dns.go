// Package dns gives pods' sandboxes their resolver configuration, as
// upstream's kubelet does (pkg/kubelet/network/dns): by dnsPolicy from the
// cluster DNS servers and domain and the host's resolv.conf, merged with
// the pod's dnsConfig and cut to the resolver's limits.
package dns

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// Paths of resolver configurations.
const (
	// DefaultResolvConf is the host's resolver configuration.
	DefaultResolvConf = "/etc/resolv.conf"
	// SystemdResolvConf is where systemd-resolved lists the servers it
	// forwards to, when /etc/resolv.conf points at its local stub.
	SystemdResolvConf = "/run/systemd/resolve/resolv.conf"
)

// Limits of a resolver configuration, as upstream's validation.
const (
	MaxNameservers     = 3
	MaxSearchPaths     = 32
	MaxSearchListChars = 2048
	// maxSearchPathLength is the longest search path some resolvers (glibc
	// 2.28) accept.
	maxSearchPathLength = 253
	// maxResolvConfLength bounds what is read of a resolv.conf.
	maxResolvConfLength = 10 << 20
)

// defaultOptions are the options of pods using the cluster DNS.
var defaultOptions = []string{"ndots:5"}

// Configurer gives pods their DNS configuration; it implements
// pods.DNSConfigurer.
type Configurer struct {
	// ClusterDNS are the cluster DNS servers (--cluster-dns). Without them
	// pods with dnsPolicy ClusterFirst get the host's configuration.
	ClusterDNS []string
	// ClusterDomain is the cluster's domain (--cluster-domain), e.g.
	// cluster.local; empty adds no cluster search paths.
	ClusterDomain string
	// ResolvConf is the host resolver configuration pods with dnsPolicy
	// Default inherit (DefaultResolvConf when empty; see HostResolvConf
	// for hosts running systemd-resolved).
	ResolvConf string
	// Recorder records DNSConfigForming and MissingClusterDNS (none when
	// nil).
	Recorder events.EventRecorder
	// NodeName, when set, also records MissingClusterDNS on the Node, as
	// upstream.
	NodeName string

	loopbackWarning sync.Once
}

// DNSConfig implements pods.DNSConfigurer.
func (c *Configurer) DNSConfig(ctx context.Context, pod *corev1.Pod) (*runtimeapi.DNSConfig, error) {
	path := c.ResolvConf
	if path == "" {
		path = DefaultResolvConf
	}
	host, err := ReadResolvConf(path)
	if err != nil {
		return nil, err
	}
	cfg, evs := Compose(host, pod, c.ClusterDNS, c.ClusterDomain)
	for _, e := range evs {
		c.record(pod, e)
	}
	if !pod.Spec.HostNetwork && len(cfg.Servers) > 0 && allLoopback(cfg.Servers) {
		c.loopbackWarning.Do(func() {
			klog.FromContext(ctx).Info("Pods get only loopback nameservers, which they cannot reach from their network namespace; point the kubelet at the host's real resolver configuration (e.g. "+SystemdResolvConf+" with systemd-resolved)",
				"resolvConf", path, "nameservers", cfg.Servers)
		})
	}
	return cfg, nil
}

func (c *Configurer) record(pod *corev1.Pod, e Event) {
	if c.Recorder == nil {
		return
	}
	if e.OnNode {
		if c.NodeName != "" {
			node := &corev1.ObjectReference{Kind: "Node", Name: c.NodeName, UID: types.UID(c.NodeName)}
			c.Recorder.Eventf(node, nil, corev1.EventTypeWarning, e.Reason, "Sync", "%s", e.Message)
		}
		return
	}
	ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion}
	c.Recorder.Eventf(ref, nil, corev1.EventTypeWarning, e.Reason, "Sync", "%s", e.Message)
}

// Event is a warning about a pod's DNS configuration, on the pod or, with
// OnNode, on the node.
type Event struct {
	Reason, Message string
	OnNode          bool
}

// Compose is the DNS configuration of pod, as upstream's GetPodDNS, given
// the host's configuration, the cluster DNS servers and the cluster
// domain, and the warnings to record.
//
//   - None: only the pod's dnsConfig.
//   - ClusterFirst (not on the host network) and ClusterFirstWithHostNet:
//     the cluster DNS servers; search <ns>.svc.<domain> svc.<domain>
//     <domain> then the host's; options ndots:5. Without cluster DNS
//     servers, Default, with the warning MissingClusterDNS.
//   - Default, and ClusterFirst on the host network: the host's.
//
// The pod's dnsConfig is then appended (duplicates dropped, its options
// overriding those of the same name), and the result cut to 3 nameservers
// and 32 search paths of at most 2048 characters with the warning
// DNSConfigForming.
func Compose(host *runtimeapi.DNSConfig, pod *corev1.Pod, clusterDNS []string, clusterDomain string) (*runtimeapi.DNSConfig, []Event) {
	var evs []Event
	cfg := &runtimeapi.DNSConfig{
		Servers:  append([]string(nil), host.GetServers()...),
		Searches: append([]string(nil), host.GetSearches()...),
		Options:  append([]string(nil), host.GetOptions()...),
	}
	switch policy(pod) {
	case corev1.DNSNone:
		cfg = &runtimeapi.DNSConfig{}
	case corev1.DNSClusterFirst:
		if len(clusterDNS) > 0 {
			cfg.Servers = append([]string(nil), clusterDNS...)
			cfg.Searches = clusterSearches(cfg.Searches, pod.Namespace, clusterDomain)
			cfg.Options = append([]string(nil), defaultOptions...)
			break
		}
		msg := fmt.Sprintf("kubelet does not have ClusterDNS IP configured and cannot create Pod using %q policy. Falling back to %q policy.", corev1.DNSClusterFirst, corev1.DNSDefault)
		evs = append(evs,
			Event{Reason: "MissingClusterDNS", Message: msg, OnNode: true},
			Event{Reason: "MissingClusterDNS", Message: fmt.Sprintf("pod: %q. %s", klog.KObj(pod).String(), msg)})
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		cfg.Servers = omitDuplicates(append(cfg.Servers, dc.Nameservers...))
		cfg.Searches = omitDuplicates(append(cfg.Searches, dc.Searches...))
		cfg.Options = mergeOptions(cfg.Options, dc.Options)
	}
	var limitEvs []Event
	cfg.Servers, limitEvs = fitNameservers(cfg.Servers)
	evs = append(evs, limitEvs...)
	cfg.Searches, limitEvs = fitSearches(cfg.Searches)
	evs = append(evs, limitEvs...)
	return cfg, evs
}

// policy reduces a pod's dnsPolicy to None, ClusterFirst (the cluster DNS)
// or Default (the host's). An unknown policy is ClusterFirst, as upstream.
func policy(pod *corev1.Pod) corev1.DNSPolicy {
	switch pod.Spec.DNSPolicy {
	case corev1.DNSNone:
		return corev1.DNSNone
	case corev1.DNSClusterFirstWithHostNet:
		return corev1.DNSClusterFirst
	case corev1.DNSDefault:
		return corev1.DNSDefault
	case corev1.DNSClusterFirst, "":
		if pod.Spec.HostNetwork {
			return corev1.DNSDefault
		}
	}
	return corev1.DNSClusterFirst
}

// clusterSearches puts the cluster's search paths before the host's.
func clusterSearches(hostSearches []string, namespace, domain string) []string {
	if domain == "" {
		return hostSearches
	}
	cluster := []string{namespace + ".svc." + domain, "svc." + domain, domain}
	return omitDuplicates(append(cluster, hostSearches...))
}

// fitNameservers keeps the first MaxNameservers.
func fitNameservers(servers []string) ([]string, []Event) {
	if len(servers) <= MaxNameservers {
		return servers, nil
	}
	servers = servers[:MaxNameservers]
	return servers, []Event{{Reason: "DNSConfigForming", Message: "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: " + strings.Join(servers, " ")}}
}

// fitSearches keeps the first MaxSearchPaths search paths, drops those
// longer than 253 characters, and the last ones until the line fits in
// MaxSearchListChars.
func fitSearches(searches []string) ([]string, []Event) {
	exceeded := false
	if len(searches) > MaxSearchPaths {
		searches, exceeded = searches[:MaxSearchPaths], true
	}
	kept := make([]string, 0, len(searches))
	for _, s := range searches {
		if len(s) > maxSearchPathLength {
			exceeded = true
			continue
		}
		kept = append(kept, s)
	}
	searches = kept
	for len(searches) > 0 && len(strings.Join(searches, " ")) > MaxSearchListChars {
		searches, exceeded = searches[:len(searches)-1], true
	}
	if !exceeded {
		return searches, nil
	}
	return searches, []Event{{Reason: "DNSConfigForming", Message: "Search Line limits were exceeded, some search paths have been omitted, the applied search line is: " + strings.Join(searches, " ")}}
}

// mergeOptions adds the pod's options to existing ones; an option of the
// same name replaces the existing one in place.
func mergeOptions(existing []string, podOptions []corev1.PodDNSConfigOption) []string {
	opts := append([]string(nil), existing...)
	for _, o := range podOptions {
		opt := o.Name
		if o.Value != nil && *o.Value != "" {
			opt += ":" + *o.Value
		}
		opts = appendOption(opts, opt)
	}
	return opts
}

// appendOption adds opt ("name" or "name:value"), replacing an option of
// the same name.
func appendOption(opts []string, opt string) []string {
	name, _, _ := strings.Cut(opt, ":")
	for i, o := range opts {
		if n, _, _ := strings.Cut(o, ":"); n == name {
			opts[i] = opt
			return opts
		}
	}
	return append(opts, opt)
}

func omitDuplicates(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ReadResolvConf parses a resolv.conf file.
func ReadResolvConf(path string) (*runtimeapi.DNSConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseResolvConf(f)
}

// ParseResolvConf parses a resolv.conf as upstream: nameserver lines
// accumulate, the last search line wins (trailing dots and "." dropped),
// options lines add up, a later option replacing one of the same name.
// Comments start with # or ;.
func ParseResolvConf(r io.Reader) (*runtimeapi.DNSConfig, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResolvConfLength+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxResolvConfLength {
		return nil, fmt.Errorf("resolv.conf is longer than %d bytes", maxResolvConfLength)
	}
	cfg := &runtimeapi.DNSConfig{Servers: []string{}, Searches: []string{}, Options: []string{}}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if len(fields) < 2 {
				return nil, fmt.Errorf("nameserver list is empty")
			}
			cfg.Servers = append(cfg.Servers, fields[1])
		case "search":
			cfg.Searches = []string{}
			for _, s := range fields[1:] {
				if s != "." {
					cfg.Searches = append(cfg.Searches, strings.TrimSuffix(s, "."))
				}
			}
		case "options":
			for _, o := range fields[1:] {
				cfg.Options = appendOption(cfg.Options, o)
			}
		}
	}
	return cfg, nil
}

// HostResolvConf is the resolv.conf pods should inherit, chosen as
// kubeadm chooses the kubelet's --resolv-conf: on a host whose
// /etc/resolv.conf names only loopback servers, such as systemd-resolved's
// stub 127.0.0.53 (which a pod cannot reach from its network namespace),
// systemd-resolved's list of real servers when it exists; otherwise
// /etc/resolv.conf. Upstream's kubelet itself passes whatever file it is
// given on unchanged.
func HostResolvConf() string {
	return hostResolvConf(DefaultResolvConf, SystemdResolvConf)
}

func hostResolvConf(etc, systemd string) string {
	cfg, err := ReadResolvConf(etc)
	if err != nil || len(cfg.Servers) == 0 || !allLoopback(cfg.Servers) {
		return etc
	}
	if _, err := os.Stat(systemd); err != nil {
		return etc
	}
	return systemd
}

func allLoopback(servers []string) bool {
	for _, s := range servers {
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}
