// Package admission groups the nucleus' own admission plugins, one package
// each, built on k8s.io/apiserver's admission interfaces. The generic ones
// (NamespaceLifecycle, the admission policies and webhooks, ResourceQuota)
// come from k8s.io/apiserver; nucleus/options orders the chain.
package admission
