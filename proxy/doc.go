// Package proxy holds the service proxy's model of the cluster, in the shape
// of kube-proxy's pkg/proxy: what a Service port and an endpoint are to the
// proxy (ServicePort, Endpoint), and the change trackers the informers'
// event handlers write into. Event handlers only record changes
// (ServiceChangeTracker.Update, EndpointsChangeTracker.EndpointSliceUpdate);
// a proxier applies them all at once when it syncs (ServicePortMap.Update,
// EndpointsMap.Update) and learns which Services changed, so that it can
// rewrite only their rules.
//
// CategorizeEndpoints picks the endpoints a Service port's traffic policies
// use on this node: Ready endpoints, falling back to Serving and Terminating
// ones when a policy has no Ready endpoint.
//
// The kernel side lives in the subpackages: iptables (the proxier), ipt (the
// iptables runner interface), conntrack (stale UDP flows), async (the
// rate-limited sync runner) and server (informers and wiring for `strata
// proxy`).
package proxy
