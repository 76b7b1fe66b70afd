package app

import (
	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/proxy/server"
)

func newProxyCommand() *cobra.Command {
	o := server.NewOptions()
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run the service proxy of this node: Services' cluster IPs, node ports and external IPs through iptables",
		Long: `Run the service proxy of this node, in the shape of kube-proxy's iptables
mode: it watches Services, EndpointSlices and its own Node, and programs the
filter and nat tables (KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-* ...) with one
atomic iptables-restore per sync. Stale UDP flows are cleared with the
conntrack command (package conntrack) when installed.

Credentials: --kubeconfig with the node's identity (system:node:<name>, the
kubelet's <root-dir>/kubelet.kubeconfig) or a system:kube-proxy user; it
lists and watches Services, EndpointSlices and Nodes and creates Events.

--cleanup removes every rule and chain the proxy added and exits; a restart
without it keeps established connections.`,
		Example: `  strata proxy --kubeconfig /var/lib/kubelet/kubelet.kubeconfig --hostname-override node1 --cluster-cidr 10.88.0.0/16
  strata proxy --cleanup`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := genericapiserver.SetupSignalContext()
			ctx = klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "proxy"))
			return o.Run(ctx)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}
