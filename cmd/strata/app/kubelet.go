package app

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/agent"
	"github.com/strata-dev/strata/kubelet/containerlogs"
	"github.com/strata-dev/strata/kubelet/node"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
	"github.com/strata-dev/strata/kubelet/server"
	"github.com/strata-dev/strata/kubelet/simulated"
	nodeauthz "github.com/strata-dev/strata/nucleus/authorization/node"
	"github.com/strata-dev/strata/nucleus/pki"
)

func newKubeletCommand() *cobra.Command {
	var (
		kubeconfig, cpu, memory string
		labels, taints          []string
		nucleusDataDir          string
		logMaxSize              string
		real                    agent.Config
	)
	cfg := simulated.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "kubelet",
		Short: "Run the node agent: pods bound to this node run in containerd through CRI (or, with --simulate N, simulated nodes without containers)",
		Long: `Run the kubelet of this machine: it registers the Node, heartbeats its
Lease, and runs the pods bound to it through the CRI of a containerd
(--container-runtime-endpoint; 'strata containerd' starts one), with volumes,
probes, environment, logs, exec and port-forward served on the kubelet API.

Credentials: --kubeconfig (a node identity, user system:node:<name> in group
system:nodes) with --tls-cert-file, --tls-private-key-file and
--client-ca-file; or, on the machine of the nucleus, --nucleus-data-dir, which
issues them from the nucleus' CA into <root-dir>/pki.

With --simulate N it instead runs N simulated nodes whose pods become Running
without containers (tests and benchmarks).`,
		Example: `  strata kubelet --nucleus-data-dir .data --container-runtime-endpoint unix://.data/containerd/containerd.sock --root-dir .data/kubelet
  strata kubelet --simulate 10 --kubeconfig admin.kubeconfig`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Labels, err = parseLabels(labels); err != nil {
				return err
			}
			if cfg.Taints, err = parseTaints(taints); err != nil {
				return err
			}
			if cfg.Count <= 0 {
				size, err := resource.ParseQuantity(logMaxSize)
				if err != nil || size.Sign() <= 0 {
					return fmt.Errorf("--container-log-max-size: %q is not a positive quantity such as 10Mi", logMaxSize)
				}
				real.ContainerLogMaxSize = size.Value()
				real.Labels, real.Taints = cfg.Labels, cfg.Taints
				return runKubelet(real, kubeconfig, nucleusDataDir)
			}
			if cfg.CPU, err = resource.ParseQuantity(cpu); err != nil {
				return fmt.Errorf("--cpu: %w", err)
			}
			if cfg.Memory, err = resource.ParseQuantity(memory); err != nil {
				return fmt.Errorf("--memory: %w", err)
			}
			if kubeconfig == "" {
				return errors.New("--simulate needs --kubeconfig")
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
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to join (the node's identity; with --simulate, any identity allowed to write nodes)")
	f.StringVar(&nucleusDataDir, "nucleus-data-dir", "", "data directory of a nucleus on this machine: the node's client and serving certificates are issued from its CA (instead of --kubeconfig and --tls-*)")
	hostname, _ := os.Hostname()
	f.StringVar(&real.NodeName, "hostname-override", strings.ToLower(hostname), "name of the node")
	f.StringSliceVar(&real.NodeIPs, "node-ip", nil, "InternalIP addresses of the node (default: the address of the default route's interface)")
	f.StringVar(&real.PodCIDR, "pod-cidr", containerdenv.DefaultSubnet, "pod network of this node (the containerd bridge's subnet)")
	f.StringVar(&real.RuntimeEndpoint, "container-runtime-endpoint", "", "CRI socket of the container runtime, e.g. unix:///run/containerd/containerd.sock")
	f.StringVar(&real.RootDir, "root-dir", agent.DefaultRootDir, "directory of the kubelet's files (pods' volumes, certificates)")
	f.StringVar(&real.PodLogsDir, "pod-logs-dir", agent.DefaultPodLogsDir, "directory of the containers' logs")
	f.StringVar(&logMaxSize, "container-log-max-size", "10Mi", "size at which a container's log is rotated")
	f.IntVar(&real.ContainerLogMaxFiles, "container-log-max-files", containerlogs.DefaultMaxFiles, "files a container's log keeps, the current one included (at least 2)")
	f.StringVar(&real.Address, "address", "0.0.0.0", "address the kubelet API listens on")
	f.Int32Var(&real.Port, "port", agent.DefaultPort, "port of the kubelet API")
	f.StringVar(&real.TLSCertFile, "tls-cert-file", "", "serving certificate of the kubelet API")
	f.StringVar(&real.TLSKeyFile, "tls-private-key-file", "", "key of --tls-cert-file")
	f.StringVar(&real.ClientCAFile, "client-ca-file", "", "CA that signs the client certificates the kubelet API accepts (the nucleus'); bearer tokens are checked with the nucleus' TokenReview")
	f.DurationVar(&real.TokenCacheTTL, "authentication-token-webhook-cache-ttl", server.DefaultTokenCacheTTL, "how long the kubelet API caches the nucleus' TokenReview of a bearer token")
	f.DurationVar(&real.AuthorizedCacheTTL, "authorization-webhook-cache-authorized-ttl", server.DefaultAuthorizedCacheTTL, "how long the kubelet API caches the nucleus' 'allowed' SubjectAccessReview answers")
	f.DurationVar(&real.UnauthorizedCacheTTL, "authorization-webhook-cache-unauthorized-ttl", server.DefaultUnauthorizedCacheTTL, "how long the kubelet API caches the nucleus' 'not allowed' SubjectAccessReview answers")
	f.StringSliceVar(&real.ClusterDNS, "cluster-dns", nil, "cluster DNS server addresses for pods with dnsPolicy ClusterFirst")
	f.StringVar(&real.ClusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	f.StringVar(&real.StaticPodPath, "pod-manifest-path", "", "directory of static pod manifests")
	f.Int64Var(&real.MaxPods, "max-pods", agent.DefaultMaxPods, "maximum number of pods on the node")

	f.IntVar(&cfg.Count, "simulate", 0, "number of simulated nodes to run")
	f.StringVar(&cfg.NamePrefix, "name-prefix", cfg.NamePrefix, "simulated nodes: prefix of the node names, followed by the node's number")
	f.IntVar(&cfg.FirstIndex, "first-index", 0, "simulated nodes: number of the first node (and of its 10.244.<n>.0/24 podCIDR)")
	f.StringVar(&cpu, "cpu", "8", "simulated nodes: cpu capacity of each node")
	f.StringVar(&memory, "memory", "32Gi", "simulated nodes: memory capacity of each node")
	f.Int64Var(&cfg.Pods, "pods", cfg.Pods, "simulated nodes: maximum number of pods per node")
	f.StringSliceVar(&labels, "labels", nil, "extra node labels, key=value")
	f.StringSliceVar(&taints, "taints", nil, "node taints, key[=value]:Effect")
	return cmd
}

// runKubelet runs the real kubelet.
func runKubelet(cfg agent.Config, kubeconfig, nucleusDataDir string) error {
	ctx := genericapiserver.SetupSignalContext()
	ctx = klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "kubelet"))
	switch {
	case nucleusDataDir != "":
		if err := bootstrapKubelet(&cfg, nucleusDataDir); err != nil {
			return err
		}
	case kubeconfig != "":
		rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return fmt.Errorf("loading %s: %w", kubeconfig, err)
		}
		cfg.Client = rc
	default:
		return errors.New("the kubelet needs credentials: --kubeconfig with --tls-cert-file, --tls-private-key-file and --client-ca-file, or --nucleus-data-dir on the nucleus' machine")
	}
	return agent.Run(ctx, cfg)
}

// bootstrapKubelet issues the node's credentials from the CA of the
// nucleus whose data directory is dir: a client certificate for
// system:node:<name> in system:nodes (<root-dir>/kubelet.kubeconfig) and a
// serving certificate for the node's addresses (<root-dir>/pki/kubelet.crt).
// Existing ones are kept while they still cover the node.
func bootstrapKubelet(cfg *agent.Config, dir string) error {
	if len(cfg.NodeIPs) == 0 {
		cfg.NodeIPs, _ = node.DetectNodeIPs(context.Background(), cfg.NodeName, cfg.NodeName)
	}
	nucleusPKI := pki.Dir(filepath.Join(dir, "pki"))
	ca, err := nucleusPKI.LoadCA()
	if err != nil {
		return fmt.Errorf("reading the nucleus' CA in %s (start `strata nucleus --data-dir %s` first): %w", nucleusPKI, dir, err)
	}
	path := filepath.Join(cfg.RootDir, "kubelet.kubeconfig")
	user := nodeauthz.UserPrefix + cfg.NodeName
	if !kubeconfigFor(path, user) {
		data, err := (&kubeconfigOptions{dataDir: dir, user: user, groups: []string{nodeauthz.Group}}).run()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(cfg.RootDir, 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	cfg.Client = rc

	own := pki.Dir(filepath.Join(cfg.RootDir, "pki"))
	if err := os.MkdirAll(string(own), 0o700); err != nil {
		return err
	}
	hosts := append([]string{cfg.NodeName, "localhost", "127.0.0.1"}, cfg.NodeIPs...)
	if err := own.EnsureServingCert(ca, "kubelet", hosts); err != nil {
		return err
	}
	cfg.TLSCertFile, cfg.TLSKeyFile = own.CertFile("kubelet"), own.KeyFile("kubelet")
	cfg.ClientCAFile = nucleusPKI.CACertFile()
	return nil
}

// kubeconfigFor tells whether the kubeconfig at path authenticates as user
// with a certificate still valid for a day.
func kubeconfigFor(path, user string) bool {
	c, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return false
	}
	for _, a := range c.AuthInfos {
		block, _ := pem.Decode(a.ClientCertificateData)
		if block == nil {
			return false
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		return err == nil && cert.Subject.CommonName == user && time.Until(cert.NotAfter) > 24*time.Hour
	}
	return false
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
