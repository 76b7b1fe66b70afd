// Package defaults applies upstream Kubernetes' v1 defaults to the wire types
// the nucleus serves. Every function is pure: it only fills unset fields of
// the object it is given.
package defaults
