package pod

import (
	"fmt"

	"github.com/strata-dev/strata/nucleus/kubeletclient"
	"github.com/strata-dev/strata/nucleus/registry/store"
)

// Install adds the storage of core v1 Pods (with status, binding,
// eviction and ephemeralcontainers, and log, exec, attach and portforward
// proxied to the kubelet of the pod's node) to r. The nodes storage must be installed first.
func Install(r store.Resources, d store.Deps) error {
	nodes, ok := r["nodes"].(kubeletclient.NodeGetter)
	if !ok {
		return fmt.Errorf("pods need the nodes storage, to reach kubelets: install nodes first")
	}
	s, err := store.Add(r, "pods", Definition, d)
	if err != nil {
		return err
	}
	// Upstream returns the pod from a delete, also when it is gone.
	s.Store.ReturnDeletedObject = true
	r["pods/binding"] = &BindingREST{store: s.Store}
	r["pods/eviction"] = &EvictionREST{pods: s.REST, status: s.Status}
	r["pods/ephemeralcontainers"] = s.Subresource(ephemeralContainersStrategy{RESTUpdateStrategy: s.Store.UpdateStrategy, apiVersion: d.GroupVersion.String()})
	k := kubelets{pods: s.REST, nodes: nodes, client: d.Kubelet}
	r["pods/log"] = &LogREST{kubelets: k}
	r["pods/exec"] = &ExecREST{kubelets: k, authorizer: d.Authorizer}
	r["pods/attach"] = &AttachREST{kubelets: k, authorizer: d.Authorizer}
	r["pods/portforward"] = &PortForwardREST{kubelets: k, authorizer: d.Authorizer}
	return nil
}
