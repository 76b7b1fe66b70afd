package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
)

func newContainerdCommand() *cobra.Command {
	var (
		cfg      containerdenv.Config
		teardown bool
	)
	cmd := &cobra.Command{
		Use:   "containerd --data-dir DIR [--image ARCHIVE]...",
		Short: "Run a Strata-owned containerd for the kubelet: its own root, state, socket and CNI bridge network under a data dir",
		Long: `Run Debian's containerd with a configuration Strata owns: root, state,
socket and CNI configuration under --data-dir, Strata's pause image as the
sandbox image, a bridge pod network (--subnet on --bridge). The image
archives given with --image (e.g. bin/images/*.tar from 'make images') are
imported once it is ready. It prints the CRI endpoint for
'strata kubelet --container-runtime-endpoint' and runs until interrupted;
containers keep running when it stops, as with any containerd. With
--teardown it instead removes every sandbox and container of the instance,
its mounts and its bridge, and exits.`,
		Example: `  strata containerd --data-dir .data/containerd --image bin/images/pause.tar --image bin/images/busybox.tar`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := genericapiserver.SetupSignalContext()
			ctx = klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "containerd"))
			if err := containerdenv.CheckHost(cfg); err != nil {
				return fmt.Errorf("%w (install them with `make deps` or hack/install-deps.sh)", err)
			}
			inst, err := containerdenv.Start(ctx, cfg)
			if err != nil {
				return err
			}
			if teardown {
				tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
				defer cancel()
				err := inst.Teardown(tctx)
				return errors.Join(err, inst.Stop(tctx))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "containerd is ready: --container-runtime-endpoint=%s\n", inst.Endpoint())
			select {
			case <-ctx.Done():
			case <-inst.Done():
				return fmt.Errorf("containerd exited; see %s", inst.Layout.Log)
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			return inst.Stop(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "", "directory for containerd's root, state, socket, logs and CNI configuration (required)")
	f.StringVar(&cfg.Subnet, "subnet", containerdenv.DefaultSubnet, "pod network, handed out by the host-local IPAM plugin")
	f.StringVar(&cfg.BridgeName, "bridge", containerdenv.DefaultBridge, "Linux bridge of the pod network")
	f.StringVar(&cfg.CNIBinDir, "cni-bin-dir", containerdenv.DefaultCNIBinDir, "directory of the CNI plugins")
	f.StringArrayVar(&cfg.Images, "image", nil, "OCI image archive to import once containerd is ready; repeat for several")
	f.BoolVar(&teardown, "teardown", false, "remove every sandbox and container of this instance, its mounts and bridge, then exit")
	_ = cmd.MarkFlagRequired("data-dir")
	return cmd
}
