// Package nodelabels says which labels a kubelet may put on its own Node,
// as upstream's kubelet and NodeRestriction admission agree: labels outside
// the kubernetes.io and k8s.io namespaces, a fixed set of well-known ones
// (hostname, os, arch, zone, region, instance type), and anything under
// kubelet.kubernetes.io or node.kubernetes.io. Labels such as
// node-role.kubernetes.io/control-plane or node-restriction.kubernetes.io/*
// steer workloads and are the cluster administrator's to set.
package nodelabels

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Well-known labels a kubelet sets on itself; the beta and GA
// failure-domain and instance-type spellings included.
var kubeletLabels = []string{
	corev1.LabelHostname,
	corev1.LabelTopologyZone,
	corev1.LabelTopologyRegion,
	corev1.LabelFailureDomainBetaZone,
	corev1.LabelFailureDomainBetaRegion,
	"failure-domain.kubernetes.io/zone",
	"failure-domain.kubernetes.io/region",
	corev1.LabelInstanceType,
	corev1.LabelInstanceTypeStable,
	"kubernetes.io/instance-type",
	corev1.LabelOSStable,
	corev1.LabelArchStable,
	"beta.kubernetes.io/os",
	"beta.kubernetes.io/arch",
}

// kubeletNamespaces are label namespaces (and their subdomains) a kubelet
// may use freely.
var kubeletNamespaces = []string{
	corev1.LabelNamespaceSuffixKubelet, // kubelet.kubernetes.io
	corev1.LabelNamespaceSuffixNode,    // node.kubernetes.io
}

// KubeletLabels lists the well-known labels a kubelet may set, sorted.
func KubeletLabels() []string {
	out := slices.Clone(kubeletLabels)
	sort.Strings(out)
	return out
}

// KubeletLabelNamespaces lists the label namespaces a kubelet may use.
func KubeletLabelNamespaces() []string { return slices.Clone(kubeletNamespaces) }

// Namespace is the prefix of key before "/", "" when it has none.
func Namespace(key string) string {
	ns, _, found := strings.Cut(key, "/")
	if !found {
		return ""
	}
	return ns
}

func inNamespace(ns, domain string) bool {
	return ns == domain || strings.HasSuffix(ns, "."+domain)
}

// IsKubernetesLabel reports whether key is in the kubernetes.io or k8s.io
// namespace (or a subdomain of either).
func IsKubernetesLabel(key string) bool {
	ns := Namespace(key)
	return inNamespace(ns, "kubernetes.io") || inNamespace(ns, "k8s.io")
}

// IsKubeletLabel reports whether a kubelet may set key on its own Node.
func IsKubeletLabel(key string) bool {
	if slices.Contains(kubeletLabels, key) {
		return true
	}
	ns := Namespace(key)
	for _, allowed := range kubeletNamespaces {
		if inNamespace(ns, allowed) {
			return true
		}
	}
	return false
}

// IsRestricted reports whether key is under node-restriction.kubernetes.io,
// which no kubelet may set.
func IsRestricted(key string) bool {
	return inNamespace(Namespace(key), corev1.LabelNamespaceNodeRestriction)
}

// Validate refuses the kubernetes.io and k8s.io labels a kubelet may not
// set, with upstream kubelet's startup message for --node-labels.
func Validate(labels map[string]string) error {
	var unknown []string
	for k := range labels {
		if IsKubernetesLabel(k) && !IsKubeletLabel(k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: %v\n--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (%s) or be in the specifically allowed set (%s)",
		unknown, strings.Join(KubeletLabelNamespaces(), ", "), strings.Join(KubeletLabels(), ", "))
}
