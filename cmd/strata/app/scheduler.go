package app

import (
	"fmt"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/scheduler"
)

func newSchedulerCommand() *cobra.Command {
	var kubeconfig string
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the default scheduler as its own process",
		Long: `Run Strata's default scheduler against the cluster of --kubeconfig. The
nucleus runs the same scheduler in-process unless started with
--controllers=*,-scheduler; run this one only if the nucleus' is off.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("loading %s: %w", kubeconfig, err)
			}
			cfg.QPS, cfg.Burst = 200, 400
			cfg.UserAgent = "strata-scheduler"
			client, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			factory := informers.NewSharedInformerFactory(client, 0)
			s, err := scheduler.New(client, factory)
			if err != nil {
				return err
			}
			ctx := genericapiserver.SetupSignalContext()
			ctx = klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "scheduler"))
			factory.Start(ctx.Done())
			s.Run(ctx)
			factory.Shutdown()
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to schedule (required)")
	_ = cmd.MarkFlagRequired("kubeconfig")
	return cmd
}
