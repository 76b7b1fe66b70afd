package app

import (
	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
	"github.com/strata-dev/strata/up"
)

// newUpCommands returns `strata up`, `strata down` and `strata reset`.
func newUpCommands() []*cobra.Command {
	o := up.Options{}
	addFlags := func(cmd *cobra.Command, all bool) {
		f := cmd.Flags()
		f.StringVar(&o.DataDir, "data-dir", ".data", "directory of the cluster: etcd, PKI, containerd, kubelet, logs")
		f.StringVar(&o.PodSubnet, "pod-subnet", containerdenv.DefaultSubnet, "pod network of the node")
		f.StringVar(&o.Bridge, "bridge", containerdenv.DefaultBridge, "Linux bridge of the pod network")
		if all {
			f.IntVar(&o.KubeletPort, "kubelet-port", 10250, "port of the kubelet API")
			f.IntVar(&o.SecurePort, "secure-port", up.DefaultSecurePort, "port of the nucleus")
			f.StringVar(&o.ImagesDir, "images-dir", "", "image archives to import into containerd (default: images/ beside the strata binary, as `make images` writes them)")
			f.StringVar(&o.NodeName, "node-name", "", "name of this machine's Node (default: the host name)")
		}
	}
	upCmd := &cobra.Command{
		Use:   "up",
		Short: "Start a one-machine cluster in the background: containerd, the nucleus (with its controllers and scheduler), the kubelet and the service proxy",
		Long: `Start, or resume on existing data, a whole cluster on this machine:
Strata's own containerd (root, state, socket and CNI network under the data
directory), the nucleus with its embedded etcd, controllers and scheduler, and
the kubelet of this machine's Node. Each runs in the background with its log in
<data-dir>/logs; 'strata down' stops them and keeps the data, 'strata reset'
removes the containers and the data. Needs root and the Debian packages of
'make deps'; 'make up' builds, installs and runs this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			return up.Up(genericapiserver.SetupSignalContext(), o)
		},
	}
	addFlags(upCmd, true)
	downCmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the cluster 'strata up' started; data and containers stay, 'strata up' resumes it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			return up.Down(cmd.Context(), o)
		},
	}
	addFlags(downCmd, false)
	resetCmd := &cobra.Command{
		Use:   "reset",
		Short: "Stop the cluster, remove its containers and pod network, and delete its data directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			return up.Reset(cmd.Context(), o)
		},
	}
	addFlags(resetCmd, false)
	return []*cobra.Command{upCmd, downCmd, resetCmd}
}
