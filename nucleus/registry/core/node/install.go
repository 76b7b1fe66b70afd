package node

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Nodes (with status, and proxy to the
// node's kubelet) to r.
func Install(r store.Resources, d store.Deps) error {
	s, err := store.Add(r, "nodes", Definition, d)
	if err != nil {
		return err
	}
	r["nodes/proxy"] = newProxyREST(s.REST, d.Kubelet)
	return nil
}
