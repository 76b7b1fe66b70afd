package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/simulated"
)

func newKubeletCommand() *cobra.Command {
	var (
		kubeconfig, cpu, memory string
		labels, taints          []string
	)
	cfg := simulated.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "kubelet",
		Short: "Run simulated nodes (--simulate N): pods bound to them run without containers",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Count <= 0 {
				return errors.New("only simulated nodes are supported yet: set --simulate N")
			}
			var err error
			if cfg.CPU, err = resource.ParseQuantity(cpu); err != nil {
				return fmt.Errorf("--cpu: %w", err)
			}
			if cfg.Memory, err = resource.ParseQuantity(memory); err != nil {
				return fmt.Errorf("--memory: %w", err)
			}
			if cfg.Labels, err = parseLabels(labels); err != nil {
				return err
			}
			if cfg.Taints, err = parseTaints(taints); err != nil {
				return err
			}
			rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("loading %s: %w", kubeconfig, err)
			}
			rc.QPS, rc.Burst = 500, 1000
			rc.UserAgent = "strata-kubelet-simulated"
			client, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return err
			}
			sim, err := simulated.New(client, cfg)
			if err != nil {
				return err
			}
			ctx := genericapiserver.SetupSignalContext()
			return sim.Run(klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "kubelet")))
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to join (required)")
	f.IntVar(&cfg.Count, "simulate", 0, "number of simulated nodes to run")
	f.StringVar(&cfg.NamePrefix, "name-prefix", cfg.NamePrefix, "prefix of the node names, followed by the node's number")
	f.IntVar(&cfg.FirstIndex, "first-index", 0, "number of the first node (and of its 10.244.<n>.0/24 podCIDR)")
	f.StringVar(&cpu, "cpu", "8", "cpu capacity of each node")
	f.StringVar(&memory, "memory", "32Gi", "memory capacity of each node")
	f.Int64Var(&cfg.Pods, "pods", cfg.Pods, "maximum number of pods per node")
	f.StringSliceVar(&labels, "labels", nil, "extra node labels, key=value")
	f.StringSliceVar(&taints, "taints", nil, "node taints, key[=value]:Effect")
	_ = cmd.MarkFlagRequired("kubeconfig")
	return cmd
}

func parseLabels(specs []string) (map[string]string, error) {
	labels := map[string]string{}
	for _, s := range specs {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--labels: %q is not key=value", s)
		}
		labels[k] = v
	}
	return labels, nil
}

// parseTaints reads key[=value]:Effect, as kubectl taint does.
func parseTaints(specs []string) ([]corev1.Taint, error) {
	var taints []corev1.Taint
	for _, s := range specs {
		kv, effect, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("--taints: %q has no effect (key=value:Effect)", s)
		}
		switch e := corev1.TaintEffect(effect); e {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return nil, fmt.Errorf("--taints: %q: unknown effect %q", s, effect)
		}
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("--taints: %q has no key", s)
		}
		taints = append(taints, corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffect(effect)})
	}
	return taints, nil
}
