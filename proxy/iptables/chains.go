package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/strata-dev/strata/proxy/ipt"
)

// The proxy's top-level chains, as upstream's.
const (
	kubeServicesChain         ipt.Chain = "KUBE-SERVICES"
	kubeExternalServicesChain ipt.Chain = "KUBE-EXTERNAL-SERVICES"
	kubeNodePortsChain        ipt.Chain = "KUBE-NODEPORTS"
	kubePostroutingChain      ipt.Chain = "KUBE-POSTROUTING"
	kubeMarkMasqChain         ipt.Chain = "KUBE-MARK-MASQ"
	kubeForwardChain          ipt.Chain = "KUBE-FORWARD"
	kubeProxyFirewallChain    ipt.Chain = "KUBE-PROXY-FIREWALL"
	kubeProxyCanaryChain      ipt.Chain = "KUBE-PROXY-CANARY"
	// kubeletFirewallChain holds the rule that stops the outside world
	// from reaching 127.0.0.0/8 once route_localnet is on.
	kubeletFirewallChain ipt.Chain = "KUBE-FIREWALL"
)

// Prefixes of the per-Service and per-endpoint chains.
const (
	clusterPolicyChainPrefix = "KUBE-SVC-"
	localPolicyChainPrefix   = "KUBE-SVL-"
	firewallChainPrefix      = "KUBE-FW-"
	externalChainPrefix      = "KUBE-EXT-"
	endpointChainPrefix      = "KUBE-SEP-"
)

// portProtoHash is upstream's chain name hash: the first 16 characters of
// the base32 encoding of sha256(servicePortName + protocol). Chain names are
// at most 28 characters.
func portProtoHash(servicePortName, protocol string) string {
	hash := sha256.Sum256([]byte(servicePortName + protocol))
	return base32.StdEncoding.EncodeToString(hash[:])[:16]
}

// clusterPolicyChain is the KUBE-SVC chain of a Service port: its endpoints
// under Cluster traffic policy.
func clusterPolicyChain(servicePortName, protocol string) ipt.Chain {
	return ipt.Chain(clusterPolicyChainPrefix + portProtoHash(servicePortName, protocol))
}

// localPolicyChain is the KUBE-SVL chain: the port's endpoints on this node,
// for Local traffic policies.
func localPolicyChain(servicePortName, protocol string) ipt.Chain {
	return ipt.Chain(localPolicyChainPrefix + portProtoHash(servicePortName, protocol))
}

// firewallChain is the KUBE-FW chain: loadBalancerSourceRanges.
func firewallChain(servicePortName, protocol string) ipt.Chain {
	return ipt.Chain(firewallChainPrefix + portProtoHash(servicePortName, protocol))
}

// externalChain is the KUBE-EXT chain: where external traffic (node ports,
// external and load balancer IPs) goes first.
func externalChain(servicePortName, protocol string) ipt.Chain {
	return ipt.Chain(externalChainPrefix + portProtoHash(servicePortName, protocol))
}

// endpointChain is the KUBE-SEP chain of one endpoint of a Service port.
func endpointChain(servicePortName, protocol, endpoint string) ipt.Chain {
	hash := sha256.Sum256([]byte(servicePortName + protocol + endpoint))
	return ipt.Chain(endpointChainPrefix + base32.StdEncoding.EncodeToString(hash[:])[:16])
}

// isServiceChainName reports whether chain is a per-Service or
// per-endpoint chain of the proxy.
func isServiceChainName(chain string) bool {
	for _, p := range []string{clusterPolicyChainPrefix, localPolicyChainPrefix, endpointChainPrefix, firewallChainPrefix, externalChainPrefix} {
		if strings.HasPrefix(chain, p) {
			return true
		}
	}
	return false
}

// jumpChain is a rule in a built-in chain that jumps to one of the proxy's.
type jumpChain struct {
	table     ipt.Table
	dstChain  ipt.Chain
	srcChain  ipt.Chain
	comment   string
	extraArgs []string
}

// args is the rule's arguments.
func (j jumpChain) args() []string {
	args := append([]string{}, j.extraArgs...)
	if j.comment != "" {
		args = append(args, "-m", "comment", "--comment", j.comment)
	}
	return append(args, "-j", string(j.dstChain))
}

var ctStateNew = []string{"-m", "conntrack", "--ctstate", "NEW"}

// jumpChains are upstream's hooks into the built-in chains, ensured (first
// in their chain) on every full sync.
var jumpChains = []jumpChain{
	{ipt.TableFilter, kubeExternalServicesChain, ipt.ChainInput, "kubernetes externally-visible service portals", ctStateNew},
	{ipt.TableFilter, kubeExternalServicesChain, ipt.ChainForward, "kubernetes externally-visible service portals", ctStateNew},
	{ipt.TableFilter, kubeNodePortsChain, ipt.ChainInput, "kubernetes health check service ports", nil},
	{ipt.TableFilter, kubeServicesChain, ipt.ChainForward, "kubernetes service portals", ctStateNew},
	{ipt.TableFilter, kubeServicesChain, ipt.ChainOutput, "kubernetes service portals", ctStateNew},
	{ipt.TableFilter, kubeForwardChain, ipt.ChainForward, "kubernetes forwarding rules", nil},
	{ipt.TableFilter, kubeProxyFirewallChain, ipt.ChainInput, "kubernetes load balancer firewall", ctStateNew},
	{ipt.TableFilter, kubeProxyFirewallChain, ipt.ChainOutput, "kubernetes load balancer firewall", ctStateNew},
	{ipt.TableFilter, kubeProxyFirewallChain, ipt.ChainForward, "kubernetes load balancer firewall", ctStateNew},
	{ipt.TableNAT, kubeServicesChain, ipt.ChainOutput, "kubernetes service portals", nil},
	{ipt.TableNAT, kubeServicesChain, ipt.ChainPrerouting, "kubernetes service portals", nil},
	{ipt.TableNAT, kubePostroutingChain, ipt.ChainPostrouting, "kubernetes postrouting rules", nil},
}

// localnetJumpChains hook KUBE-FIREWALL in when node ports are open on
// localhost (IPv4 only).
var localnetJumpChains = []jumpChain{
	{ipt.TableFilter, kubeletFirewallChain, ipt.ChainInput, "", nil},
	{ipt.TableFilter, kubeletFirewallChain, ipt.ChainOutput, "", nil},
}

// sortedChains returns the chains of s in order.
func sortedChains(s sets.Set[ipt.Chain]) []ipt.Chain { return sets.List(s) }
