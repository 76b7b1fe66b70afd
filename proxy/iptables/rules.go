package iptables

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/strata-dev/strata/proxy"
	"github.com/strata-dev/strata/proxy/ipt"
)

// largeClusterEndpointsThreshold is the number of endpoints past which the
// rules drop their per-endpoint comments, as upstream.
const largeClusterEndpointsThreshold = 1000

// ruleConfig is what shapes the rules besides the Services: the proxier's
// settings.
type ruleConfig struct {
	family         corev1.IPFamily
	masqueradeMark string
	masqueradeAll  bool
	localDetector  LocalTrafficDetector
	// localhostNodePorts: node ports answer on 127.0.0.0/8 too
	// (route_localnet is on); IPv4 only.
	localhostNodePorts bool
	nodePortAddresses  *NodePortAddresses
	randomFully        bool
	// conntrackTCPLiberal: nf_conntrack_tcp_be_liberal is on, so
	// INVALID packets need no DROP rule.
	conntrackTCPLiberal bool
	nodeName            string
	// nodeIPs are the node's primary IPs (for load balancer source
	// ranges).
	nodeIPs []net.IP
}

// ruleInput is the state one sync turns into rules.
type ruleInput struct {
	services   proxy.ServicePortMap
	endpoints  proxy.EndpointsMap
	nodeLabels map[string]string
	// changed lists the Services whose own chains are rewritten; nil
	// rewrites them all (a full sync). Top-level chains are always
	// rewritten.
	changed sets.Set[types.NamespacedName]
	// existingNATChains are the nat table's chains before the sync; the
	// proxy's chains among them that are no longer used are deleted. Nil
	// skips that.
	existingNATChains sets.Set[ipt.Chain]
	// nodePortIPs are the local IPs node ports are open on, when
	// nodePortAddresses does not match all.
	nodePortIPs []net.IP
}

// ruleSet is the iptables-restore input of one sync and what it holds.
type ruleSet struct {
	data            []byte
	activeNATChains sets.Set[ipt.Chain]
	filterChains    int
	filterRules     int
	natChains       int
	natRules        int
	// skippedNATRules are the rules of unchanged Services left out.
	skippedNATRules  int
	deletedChains    int
	totalEndpoints   int
	largeClusterMode bool
	// noLocalEndpointsInternal and noLocalEndpointsExternal count
	// ports with a Local policy and no local endpoint.
	noLocalEndpointsInternal int
	noLocalEndpointsExternal int
}

// lineBuffer collects iptables-restore lines. Write joins its arguments,
// strings or string slices, with spaces.
type lineBuffer struct {
	buf     bytes.Buffer
	lines   int
	discard bool
}

func (b *lineBuffer) Write(args ...any) {
	b.lines++
	if b.discard {
		return
	}
	first := true
	for _, a := range args {
		var words []string
		switch v := a.(type) {
		case string:
			words = []string{v}
		case []string:
			words = v
		default:
			panic(fmt.Sprintf("lineBuffer: unsupported argument %T", a))
		}
		for _, w := range words {
			if !first {
				b.buf.WriteByte(' ')
			}
			b.buf.WriteString(w)
			first = false
		}
	}
	b.buf.WriteByte('\n')
}

func chainLine(c ipt.Chain) string { return ":" + string(c) + " - [0:0]" }

// probability is the share of the i-th of n remaining endpoints: 1/n, as
// upstream writes it.
func probability(n int) string { return fmt.Sprintf("%0.10f", 1.0/float64(n)) }

// quote wraps a comment in double quotes.
func quote(s string) string { return `"` + s + `"` }

// rejectTarget is the target of traffic to Services without endpoints.
func (c *ruleConfig) rejectTarget() []string {
	if c.family == corev1.IPv6Protocol {
		return []string{"REJECT", "--reject-with", "icmp6-port-unreachable"}
	}
	return []string{"REJECT", "--reject-with", "icmp-port-unreachable"}
}

// sortedServicePorts returns the names of m in order, so that rules come
// out the same every time.
func sortedServicePorts(m proxy.ServicePortMap) []proxy.ServicePortName {
	names := make([]proxy.ServicePortName, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if a, b := names[i].String(), names[j].String(); a != b {
			return a < b
		}
		return names[i].Protocol < names[j].Protocol
	})
	return names
}

// buildRules turns the proxy's state into one iptables-restore input: the
// filter table's and nat table's chains of the proxy, in upstream's layout.
// It is a pure function of cfg and in.
func buildRules(cfg *ruleConfig, in *ruleInput) *ruleSet {
	var filterChains, filterRules, natChains, natRules lineBuffer
	skippedChains, skippedRules := lineBuffer{discard: true}, lineBuffer{discard: true}
	rs := &ruleSet{activeNATChains: sets.New[ipt.Chain]()}

	for _, c := range []ipt.Chain{kubeServicesChain, kubeExternalServicesChain, kubeForwardChain, kubeNodePortsChain, kubeProxyFirewallChain} {
		filterChains.Write(chainLine(c))
	}
	for _, c := range []ipt.Chain{kubeServicesChain, kubeNodePortsChain, kubePostroutingChain, kubeMarkMasqChain} {
		natChains.Write(chainLine(c))
	}

	// Masquerade what KUBE-MARK-MASQ marked, once.
	mark := cfg.masqueradeMark + "/" + cfg.masqueradeMark
	natRules.Write("-A", string(kubePostroutingChain), "-m", "mark", "!", "--mark", mark, "-j", "RETURN")
	natRules.Write("-A", string(kubePostroutingChain), "-j", "MARK", "--xor-mark", cfg.masqueradeMark)
	masq := []string{"-A", string(kubePostroutingChain), "-m", "comment", "--comment", quote("kubernetes service traffic requiring SNAT"), "-j", "MASQUERADE"}
	if cfg.randomFully {
		masq = append(masq, "--random-fully")
	}
	natRules.Write(masq)
	natRules.Write("-A", string(kubeMarkMasqChain), "-j", "MARK", "--or-mark", cfg.masqueradeMark)

	isIPv6 := cfg.family == corev1.IPv6Protocol
	if !isIPv6 && cfg.localhostNodePorts {
		// route_localnet lets the world send to 127.0.0.0/8; only
		// DNATed (node port) traffic may.
		filterChains.Write(chainLine(kubeletFirewallChain))
		filterRules.Write("-A", string(kubeletFirewallChain),
			"-m", "comment", "--comment", quote("block incoming localnet connections"),
			"-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8",
			"-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT",
			"-j", "DROP")
	}

	names := sortedServicePorts(in.services)
	for _, name := range names {
		rs.totalEndpoints += len(in.endpoints[name])
	}
	rs.largeClusterMode = rs.totalEndpoints > largeClusterEndpointsThreshold
	svcComment := func(args []string, comment string) []string {
		if rs.largeClusterMode {
			return args
		}
		return append(args, "-m", "comment", "--comment", comment)
	}

	for _, name := range names {
		svc := in.services[name]
		protocol := strings.ToLower(string(svc.Protocol))
		nameString := name.String()
		port := strconv.Itoa(svc.Port)

		clusterEndpoints, localEndpoints, allReachable, hasEndpoints := proxy.CategorizeEndpoints(in.endpoints[name], svc, cfg.nodeName, in.nodeLabels)

		clusterChain := clusterPolicyChain(nameString, protocol)
		usesClusterChain := len(clusterEndpoints) > 0 && svc.UsesClusterEndpoints()
		localChain := localPolicyChain(nameString, protocol)
		usesLocalChain := len(localEndpoints) > 0 && svc.UsesLocalEndpoints()

		internalChain, hasInternalEndpoints := clusterChain, hasEndpoints
		if svc.InternalPolicyLocal {
			internalChain = localChain
			hasInternalEndpoints = len(localEndpoints) > 0
		}
		externalPolicyChain, hasExternalEndpoints := clusterChain, hasEndpoints
		if svc.ExternalPolicyLocal {
			externalPolicyChain = localChain
			if len(localEndpoints) == 0 {
				hasExternalEndpoints = false
			}
		}
		extChain := externalChain(nameString, protocol)
		// The EXT chain is needed whenever there are endpoints anywhere:
		// it short-circuits this node's own traffic even when no
		// endpoint takes external traffic here.
		usesExtChain := hasEndpoints && svc.ExternallyAccessible()

		lbChain := extChain
		fwChain := firewallChain(nameString, protocol)
		usesFWChain := hasEndpoints && len(svc.LoadBalancerVIPs) > 0 && len(svc.LoadBalancerSourceRanges) > 0
		if usesFWChain {
			lbChain = fwChain
		}

		var internalFilterTarget, externalFilterTarget []string
		var internalFilterComment, externalFilterComment string
		if !hasEndpoints {
			internalFilterTarget, externalFilterTarget = cfg.rejectTarget(), cfg.rejectTarget()
			internalFilterComment = quote(nameString + " has no endpoints")
			externalFilterComment = internalFilterComment
		} else {
			if !hasInternalEndpoints {
				internalFilterTarget = []string{"DROP"}
				internalFilterComment = quote(nameString + " has no local endpoints")
				rs.noLocalEndpointsInternal++
			}
			if !hasExternalEndpoints {
				externalFilterTarget = []string{"DROP"}
				externalFilterComment = quote(nameString + " has no local endpoints")
				rs.noLocalEndpointsExternal++
			}
		}

		// The cluster IP.
		clusterIPMatch := []string{"-m", protocol, "-p", protocol, "-d", svc.ClusterIP.String(), "--dport", port}
		if hasInternalEndpoints {
			natRules.Write("-A", string(kubeServicesChain),
				"-m", "comment", "--comment", quote(nameString+" cluster IP"),
				clusterIPMatch, "-j", string(internalChain))
		} else {
			filterRules.Write("-A", string(kubeServicesChain),
				"-m", "comment", "--comment", internalFilterComment,
				clusterIPMatch, "-j", internalFilterTarget)
		}

		// External IPs.
		for _, ip := range svc.ExternalIPs {
			match := []string{"-m", protocol, "-p", protocol, "-d", ip.String(), "--dport", port}
			if hasEndpoints {
				natRules.Write("-A", string(kubeServicesChain),
					"-m", "comment", "--comment", quote(nameString+" external IP"),
					match, "-j", string(extChain))
			}
			if !hasExternalEndpoints {
				filterRules.Write("-A", string(kubeExternalServicesChain),
					"-m", "comment", "--comment", externalFilterComment,
					match, "-j", externalFilterTarget)
			}
		}

		// Load balancer IPs.
		for _, ip := range svc.LoadBalancerVIPs {
			match := []string{"-m", protocol, "-p", protocol, "-d", ip.String(), "--dport", port}
			if hasEndpoints {
				natRules.Write("-A", string(kubeServicesChain),
					"-m", "comment", "--comment", quote(nameString+" loadbalancer IP"),
					match, "-j", string(lbChain))
			}
			if usesFWChain {
				filterRules.Write("-A", string(kubeProxyFirewallChain),
					"-m", "comment", "--comment", quote(fmt.Sprintf("%s traffic not accepted by %s", nameString, fwChain)),
					match, "-j", "DROP")
			}
		}
		if !hasExternalEndpoints {
			for _, ip := range svc.LoadBalancerVIPs {
				filterRules.Write("-A", string(kubeExternalServicesChain),
					"-m", "comment", "--comment", externalFilterComment,
					"-m", protocol, "-p", protocol, "-d", ip.String(), "--dport", port,
					"-j", externalFilterTarget)
			}
		}

		// The node port.
		if svc.NodePort != 0 {
			nodePort := strconv.Itoa(svc.NodePort)
			if hasEndpoints {
				natRules.Write("-A", string(kubeNodePortsChain),
					"-m", "comment", "--comment", nameString,
					"-m", protocol, "-p", protocol, "--dport", nodePort,
					"-j", string(extChain))
			}
			if !hasExternalEndpoints {
				filterRules.Write("-A", string(kubeExternalServicesChain),
					"-m", "comment", "--comment", externalFilterComment,
					"-m", "addrtype", "--dst-type", "LOCAL",
					"-m", protocol, "-p", protocol, "--dport", nodePort,
					"-j", externalFilterTarget)
			}
		}

		// The Service's own chains; left out when it did not change.
		svcNatChains, svcNatRules := &natChains, &natRules
		if in.changed != nil && !in.changed.Has(name.NamespacedName) {
			svcNatChains, svcNatRules = &skippedChains, &skippedRules
		}

		// Masquerade traffic to the cluster IP from outside the
		// cluster: it may have come through another node.
		if hasInternalEndpoints {
			match := append([]string{"-m", "comment", "--comment", quote(nameString + " cluster IP")}, clusterIPMatch...)
			if cfg.masqueradeAll {
				svcNatRules.Write("-A", string(internalChain), match, "-j", string(kubeMarkMasqChain))
			} else if cfg.localDetector.IsImplemented() {
				svcNatRules.Write("-A", string(internalChain), match, cfg.localDetector.IfNotLocal(), "-j", string(kubeMarkMasqChain))
			}
		}

		if usesExtChain {
			svcNatChains.Write(chainLine(extChain))
			rs.activeNATChains.Insert(extChain)
			if !svc.ExternalPolicyLocal {
				// Traffic may cross nodes: masquerade it.
				svcNatRules.Write("-A", string(extChain),
					"-m", "comment", "--comment", quote("masquerade traffic for "+nameString+" external destinations"),
					"-j", string(kubeMarkMasqChain))
			} else {
				if cfg.localDetector.IsImplemented() {
					// Pods of this node reaching an external
					// address of the Service are treated as if
					// they went out to a load balancer and came
					// back: no traffic policy applies.
					svcNatRules.Write("-A", string(extChain),
						"-m", "comment", "--comment", quote("pod traffic for "+nameString+" external destinations"),
						cfg.localDetector.IfLocal(), "-j", string(clusterChain))
				}
				// The node itself uses a local address as the source:
				// masquerade it and send it anywhere.
				svcNatRules.Write("-A", string(extChain),
					"-m", "comment", "--comment", quote("masquerade LOCAL traffic for "+nameString+" external destinations"),
					"-m", "addrtype", "--src-type", "LOCAL", "-j", string(kubeMarkMasqChain))
				svcNatRules.Write("-A", string(extChain),
					"-m", "comment", "--comment", quote("route LOCAL traffic for "+nameString+" external destinations"),
					"-m", "addrtype", "--src-type", "LOCAL", "-j", string(clusterChain))
			}
			if hasExternalEndpoints {
				svcNatRules.Write("-A", string(extChain), "-j", string(externalPolicyChain))
			}
		}

		if usesFWChain {
			svcNatChains.Write(chainLine(fwChain))
			rs.activeNATChains.Insert(fwChain)
			args := []string{"-A", string(fwChain), "-m", "comment", "--comment", quote(nameString + " loadbalancer IP")}
			allowFromNode := false
			for _, cidr := range svc.LoadBalancerSourceRanges {
				svcNatRules.Write(args, "-s", cidr.String(), "-j", string(extChain))
				for _, ip := range cfg.nodeIPs {
					if cidr.Contains(ip) {
						allowFromNode = true
					}
				}
			}
			// The node reaching its own load balancer IP loops back with
			// that IP as source.
			if allowFromNode {
				for _, ip := range svc.LoadBalancerVIPs {
					svcNatRules.Write(args, "-s", ip.String(), "-j", string(extChain))
				}
			}
			// What falls through is dropped by KUBE-PROXY-FIREWALL.
			svcNatRules.Write("-A", string(fwChain),
				"-m", "comment", "--comment", quote("other traffic to "+nameString+" will be dropped by KUBE-PROXY-FIREWALL"))
		}

		if usesClusterChain {
			svcNatChains.Write(chainLine(clusterChain))
			rs.activeNATChains.Insert(clusterChain)
			writeServiceToEndpointRules(svcNatRules, svcComment, nameString, protocol, svc, clusterChain, clusterEndpoints)
		}
		if usesLocalChain {
			svcNatChains.Write(chainLine(localChain))
			rs.activeNATChains.Insert(localChain)
			writeServiceToEndpointRules(svcNatRules, svcComment, nameString, protocol, svc, localChain, localEndpoints)
		}

		for _, ep := range allReachable {
			chain := endpointChain(nameString, protocol, ep.String())
			svcNatChains.Write(chainLine(chain))
			rs.activeNATChains.Insert(chain)
			args := svcComment([]string{"-A", string(chain)}, nameString)
			// Hairpin: an endpoint reaching itself through the
			// Service must see the reply come from the Service.
			svcNatRules.Write(args, "-s", ep.IP(), "-j", string(kubeMarkMasqChain))
			if svc.SessionAffinity == corev1.ServiceAffinityClientIP {
				args = append(args, "-m", "recent", "--name", string(chain), "--set")
			}
			svcNatRules.Write(args, "-m", protocol, "-p", protocol, "-j", "DNAT", "--to-destination", ep.String())
		}
	}

	// Delete the proxy's chains nothing uses any more.
	if in.existingNATChains != nil {
		stale := sets.List(in.existingNATChains.Difference(rs.activeNATChains))
		for _, c := range stale {
			if !isServiceChainName(string(c)) {
				continue
			}
			// The chain line flushes it; then it can go.
			natChains.Write(chainLine(c))
			natRules.Write("-X", string(c))
			rs.deletedChains++
		}
	}

	// Node ports: the last rule of KUBE-SERVICES.
	const nodePortsComment = `"kubernetes service nodeports; NOTE: this must be the last rule in this chain"`
	if cfg.nodePortAddresses.MatchAll() {
		dst := []string{"-m", "addrtype", "--dst-type", "LOCAL"}
		if isIPv6 {
			dst = append(dst, "!", "-d", "::1/128")
		} else if !cfg.localhostNodePorts {
			dst = append(dst, "!", "-d", "127.0.0.0/8")
		}
		natRules.Write("-A", string(kubeServicesChain), "-m", "comment", "--comment", nodePortsComment, dst, "-j", string(kubeNodePortsChain))
	} else {
		for _, ip := range in.nodePortIPs {
			if ip.IsLoopback() && (isIPv6 || !cfg.localhostNodePorts) {
				continue
			}
			natRules.Write("-A", string(kubeServicesChain), "-m", "comment", "--comment", nodePortsComment, "-d", ip.String(), "-j", string(kubeNodePortsChain))
		}
	}

	// Without nf_conntrack_tcp_be_liberal, out-of-window packets are
	// INVALID and would reset connections; drop them.
	if !cfg.conntrackTCPLiberal {
		filterRules.Write("-A", string(kubeForwardChain), "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
	}
	// Forward what the proxy marked even if FORWARD's policy is DROP,
	// and the replies.
	filterRules.Write("-A", string(kubeForwardChain),
		"-m", "comment", "--comment", quote("kubernetes forwarding rules"),
		"-m", "mark", "--mark", mark, "-j", "ACCEPT")
	filterRules.Write("-A", string(kubeForwardChain),
		"-m", "comment", "--comment", quote("kubernetes forwarding conntrack rule"),
		"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")

	var data bytes.Buffer
	data.WriteString("*filter\n")
	data.Write(filterChains.buf.Bytes())
	data.Write(filterRules.buf.Bytes())
	data.WriteString("COMMIT\n*nat\n")
	data.Write(natChains.buf.Bytes())
	data.Write(natRules.buf.Bytes())
	data.WriteString("COMMIT\n")
	rs.data = data.Bytes()
	rs.filterChains, rs.filterRules = filterChains.lines, filterRules.lines
	rs.natChains, rs.natRules = natChains.lines, natRules.lines
	rs.skippedNATRules = skippedRules.lines
	return rs
}

// writeServiceToEndpointRules fills a KUBE-SVC or KUBE-SVL chain: affinity
// first (a client seen within the timeout goes back to its endpoint), then
// the random choice among endpoints, each rule taking 1/n of what is left.
func writeServiceToEndpointRules(rules *lineBuffer, svcComment func([]string, string) []string, nameString, protocol string, svc *proxy.ServicePort, chain ipt.Chain, endpoints []*proxy.Endpoint) {
	if svc.SessionAffinity == corev1.ServiceAffinityClientIP {
		for _, ep := range endpoints {
			epChain := endpointChain(nameString, protocol, ep.String())
			args := svcComment([]string{"-A", string(chain)}, quote(nameString+" -> "+ep.String()))
			rules.Write(args,
				"-m", "recent", "--name", string(epChain),
				"--rcheck", "--seconds", strconv.Itoa(svc.StickyMaxAgeSeconds), "--reap",
				"-j", string(epChain))
		}
	}
	n := len(endpoints)
	for i, ep := range endpoints {
		epChain := endpointChain(nameString, protocol, ep.String())
		args := svcComment([]string{"-A", string(chain)}, quote(nameString+" -> "+ep.String()))
		if i < n-1 {
			args = append(args, "-m", "statistic", "--mode", "random", "--probability", probability(n-i))
		}
		rules.Write(args, "-j", string(epChain))
	}
}
