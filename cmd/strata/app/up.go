package app

import (
	"fmt"
	"os"
	"strings"
	"time"

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
			f.StringVar(&o.ImagesDir, "images-dir", "", "image archives to import into containerd (default: images/ beside the strata binary, where 'make images' writes them)")
			f.StringVar(&o.NodeName, "node-name", "", "name of this machine's Node (default: the host name)")
			f.DurationVar(&o.Timeout, "timeout", 3*time.Minute, "time each stage may take: a process to be ready, a layer's release to be deployed and ready")
		}
	}
	var (
		layers          []string
		mergeKubeconfig bool
	)
	upCmd := &cobra.Command{
		Use:   "up",
		Short: "Start a one-machine cluster in the background (containerd, the nucleus, the kubelet, the service proxy) and install its layers with Helm",
		Long: `Start, or resume on existing data, a whole cluster on this machine:
Strata's own containerd (root, state, socket and CNI network under the data
directory), the nucleus with its embedded etcd, controllers and scheduler, the
kubelet of this machine's Node and the service proxy. Each runs in the
background with its log in <data-dir>/logs; 'strata down' stops them and keeps
the data, 'strata reset' removes the containers and the data.

Once the Node is Ready, every layer (--layers) is installed as the Helm
release of its name in namespace ` + up.LayersNamespace + `, from the chart of its
name in --charts-dir, with the image imported from --images-dir, and waited
for until its resources are ready: as 'helm upgrade --install --wait', so
running 'strata up' again upgrades the same releases (their objects and pods
stay when nothing changed). Layers left out are not uninstalled.

Needs root and the Debian packages of 'make deps'; 'make up' builds, installs
and runs this from the Strata checkout.`,
		Example: `  strata up                                   # from the checkout, after make build images
  strata up --layers=none                     # the nucleus and the node, no layers
  strata up --merge-kubeconfig                # and add the context strata to ~/.kube/config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			o.Layers = layers
			if mergeKubeconfig {
				home, err := os.UserHomeDir()
				if err != nil {
					return fmt.Errorf("--merge-kubeconfig: %w", err)
				}
				o.MergeKubeconfig = up.DefaultKubeconfigFile(os.Getenv("KUBECONFIG"), home)
			}
			return up.Up(genericapiserver.SetupSignalContext(), o)
		},
	}
	uf := upCmd.Flags()
	uf.StringSliceVar(&layers, "layers", up.LayerNames(), fmt.Sprintf("layers to install or upgrade once the node is Ready, comma separated, among %s; %q for none",
		strings.Join(up.LayerNames(), ", "), up.NoLayers))
	uf.StringVar(&o.ChartsDir, "charts-dir", "charts", "directory holding a Helm chart per layer, named after it (the checkout's charts/)")
	uf.BoolVar(&mergeKubeconfig, "merge-kubeconfig", false, "merge the cluster as context "+up.ContextName+" (cluster and user of that name) into the first file of $KUBECONFIG or ~/.kube/config, "+
		"keeping its other entries; the current context becomes "+up.ContextName+" only if the file has none, or with --switch-context")
	uf.BoolVar(&o.SwitchContext, "switch-context", false, "with --merge-kubeconfig, make "+up.ContextName+" the current context even when the file has one")
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
