/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package command is the command line of a layer manager: flags, the
// kubeconfig and signals around manager.Run. `strata manager` and the
// manager of kubebuilder-scaffolded layers (cmd/main.go) share it.
package command

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/strata-dev/strata/manager"
)

// New returns the manager command: `strata manager`, and the whole of the
// manager of kubebuilder-scaffolded layers (cmd/main.go). It runs the layers
// registered with manager.Register before it is called.
func New() *cobra.Command {
	var (
		kubeconfig string
		qps        float32 = 500
		burst              = 1000
	)
	o := manager.Defaults()
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the controllers and webhooks of upper layers (apps, …)",
		Long: `Run one controller-runtime manager with the controllers and admission
webhooks of the layers given by --layers, against the cluster of
--kubeconfig (in a pod: its ServiceAccount). The layers' CRDs must be
installed (their Helm chart, or make install).

The manager creates its webhook serving certificate itself, keeps it in the
Secret <name>-webhook-cert of --namespace, renews it before it expires and
writes the CA bundle into the layers' webhook configurations (creating them
when missing). In cluster they point at --webhook-service; outside the
cluster give --webhook-url, e.g. https://127.0.0.1:9443.

Known layers: ` + strings.Join(manager.Known(), ", ") + `.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("loading the kubeconfig (--kubeconfig, or the pod's ServiceAccount in cluster): %w", err)
			}
			cfg.QPS, cfg.Burst = qps, burst
			cfg.UserAgent = o.Name() + "-manager"
			ctx := ctrl.SetupSignalHandler()
			logger := klog.LoggerWithName(klog.Background(), "manager")
			ctrl.SetLogger(logger)
			return manager.Run(klog.NewContext(ctx, logger), cfg, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: in-cluster config)")
	f.Float32Var(&qps, "kube-api-qps", qps, "Requests per second to the API server (client-side limit)")
	f.IntVar(&burst, "kube-api-burst", burst, "Burst of requests to the API server above --kube-api-qps")
	f.StringSliceVar(&o.Layers, "layers", o.Layers, "Layers to run: "+strings.Join(manager.Known(), ", "))
	f.StringVar(&o.Namespace, "namespace", o.Namespace, "Namespace of the leader election Lease, the webhook certificate Secret and the webhook Service")
	f.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader through a Lease so that only one replica reconciles")
	f.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address of the Prometheus metrics endpoint; 0 turns it off")
	f.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "Address of /healthz and /readyz; 0 turns it off")
	f.StringVar(&o.WebhookHost, "webhook-host", o.WebhookHost, "Address the webhook server listens on (default all)")
	f.IntVar(&o.WebhookPort, "webhook-port", o.WebhookPort, "Port of the webhook server")
	f.StringVar(&o.WebhookService, "webhook-service", o.WebhookService, "Service in --namespace the webhook configurations point at")
	f.StringVar(&o.WebhookURL, "webhook-url", o.WebhookURL, "Point the webhook configurations at this https URL instead of the Service (manager outside the cluster)")
	f.StringVar(&o.CertDir, "cert-dir", o.CertDir, "Directory for the webhook serving certificate (default: a directory in $TMPDIR)")
	return cmd
}
