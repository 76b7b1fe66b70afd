package app

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/controllers"
	// The controllers it can run.
	_ "github.com/strata-dev/strata/nucleus/controllers/all"
)

func newControllerManagerCommand() *cobra.Command {
	var (
		kubeconfig string
		selection  []string
		grace      time.Duration
		rootCAFile string
	)
	cmd := &cobra.Command{
		Use:   "controller-manager",
		Short: "Run the nucleus' controllers as their own process",
		Long: `Run the control loops the nucleus runs in-process (namespace, garbage
collector, service accounts, endpoints, node lifecycle, pod GC, quota) against
the cluster of --kubeconfig. Turn the same controllers off in the nucleus
(strata nucleus --controllers=...) so that each runs once.

Known controllers: ` + strings.Join(controllers.Known(), ", ") + `.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := controllers.ValidateSelection(selection); err != nil {
				return fmt.Errorf("--controllers: %w", err)
			}
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("loading %s: %w", kubeconfig, err)
			}
			cfg.QPS, cfg.Burst = 200, 400
			cfg.UserAgent = "strata-controller-manager"
			rootCA := cfg.CAData
			if rootCAFile != "" {
				if rootCA, err = os.ReadFile(rootCAFile); err != nil {
					return fmt.Errorf("reading --root-ca-file: %w", err)
				}
			} else if len(rootCA) == 0 && cfg.CAFile != "" {
				if rootCA, err = os.ReadFile(cfg.CAFile); err != nil {
					return fmt.Errorf("reading the kubeconfig's CA file: %w", err)
				}
			}
			cc, err := controllers.NewContext(cfg, rootCA, grace)
			if err != nil {
				return err
			}
			ctx := genericapiserver.SetupSignalContext()
			ctx = klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "controller-manager"))
			if err := controllers.Run(ctx, cc, selection); err != nil {
				return err
			}
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (required)")
	cmd.Flags().StringSliceVar(&selection, "controllers", []string{"*", "-scheduler"}, "Controllers to run: '*' all, 'foo' foo, '-foo' not foo. The scheduler has its own command, strata scheduler.")
	cmd.Flags().DurationVar(&grace, "node-monitor-grace-period", 40*time.Second, "How long a node may go without renewing its Lease before it is marked unreachable.")
	cmd.Flags().StringVar(&rootCAFile, "root-ca-file", "", "CA bundle published to every namespace as kube-root-ca.crt (default: the kubeconfig's CA)")
	_ = cmd.MarkFlagRequired("kubeconfig")
	return cmd
}
