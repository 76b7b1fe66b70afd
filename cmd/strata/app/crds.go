package app

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/manager/crdserving"
)

func newCRDsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "crds",
		Short: "Turn the APIs of CustomResourceDefinitions off and on without deleting their objects",
		Long: `Set served on every version of CustomResourceDefinitions.

An unserved CRD keeps its objects in etcd, but the API server no longer
serves them and discovery no longer lists them: kubectl says the server
doesn't have the resource type. Serving it again brings back the same
objects, UIDs included. The apps chart's pre-delete hook runs
'strata crds unserve deployments.apps replicasets.apps', so that helm
uninstall removes the Deployment and ReplicaSet APIs while the pods they made
keep running; helm install serves them again.`,
	}
	cmd.AddCommand(newCRDsServedCommand("unserve", false), newCRDsServedCommand("serve", true))
	return cmd
}

func newCRDsServedCommand(verb string, served bool) *cobra.Command {
	var (
		kubeconfig string
		timeout    = time.Minute
	)
	what := "Stop serving"
	if served {
		what = "Serve again"
	}
	cmd := &cobra.Command{
		Use:   verb + " NAME...",
		Short: what + " every version of the named CustomResourceDefinitions, keeping their objects",
		Long: what + ` every version of the named CustomResourceDefinitions (served: ` + fmt.Sprint(served) + `)
and wait until discovery agrees. A CRD that does not exist is skipped.

The change is made as field manager ` + crdserving.FieldManager + `, whose managedFields entry
is then removed again, so that a later helm install or upgrade (server-side
apply) sets served without a conflict.`,
		Example: "  strata crds " + verb + " deployments.apps replicasets.apps",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, names []string) error {
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("loading the kubeconfig (--kubeconfig, or the pod's ServiceAccount in cluster): %w", err)
			}
			cfg.UserAgent = "strata-crds"
			client, err := apiextensionsclient.NewForConfig(cfg)
			if err != nil {
				return err
			}
			ctx := genericapiserver.SetupSignalContext()
			ctx = klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "crds"))
			return crdserving.Run(ctx, client.ApiextensionsV1().CustomResourceDefinitions(), client.Discovery(), names, served, timeout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: in-cluster config)")
	f.DurationVar(&timeout, "timeout", timeout, "How long to wait, per CRD, until discovery agrees")
	return cmd
}
