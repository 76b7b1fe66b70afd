package app

import (
	"fmt"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/strata-dev/strata/nucleus"
	"github.com/strata-dev/strata/nucleus/options"
)

func newNucleusCommand() *cobra.Command {
	o := options.NewOptions()
	cmd := &cobra.Command{
		Use:   "nucleus",
		Short: "Run the API server: core types, custom resources and embedded etcd",
		Long: `Run Strata's nucleus: a Kubernetes API server for the core types and
custom resources, storing its data in an embedded etcd under --data-dir (or an
external etcd cluster with --etcd-servers). On first start it creates a CA, a
serving certificate and <data-dir>/admin.kubeconfig for kubectl.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ready := make(chan struct{})
			go func() {
				<-ready
				fmt.Fprintf(cmd.ErrOrStderr(), "\nThe nucleus is starting. Point kubectl at it with:\n\n  export KUBECONFIG=%s\n  kubectl get namespaces\n\n", o.AdminKubeconfig())
			}()
			return nucleus.Run(genericapiserver.SetupSignalContext(), o, ready)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}
