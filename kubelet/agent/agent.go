// Package agent is the real kubelet: it connects to the container runtime
// over CRI and runs, side by side until the context ends, the node's
// registration and heartbeat, the pods controller with its volumes, probes,
// environment, DNS and image credentials, static pods, and the kubelet API.
// `strata kubelet` parses flags into a Config and calls Run.
package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/node"
	"github.com/strata-dev/strata/kubelet/pods"
	"github.com/strata-dev/strata/kubelet/server"
	"github.com/strata-dev/strata/kubelet/stats"
)

// Defaults of Config.
const (
	DefaultRootDir    = "/var/lib/kubelet"
	DefaultPodLogsDir = "/var/log/pods"
	DefaultPort       = 10250
	DefaultMaxPods    = 110
)

// Config is what a kubelet needs.
type Config struct {
	// Client reaches the nucleus as the node (user system:node:<name>,
	// group system:nodes).
	Client *rest.Config

	// NodeName names the Node; Hostname is its kubernetes.io/hostname
	// label (NodeName when empty).
	NodeName string
	Hostname string
	// NodeIPs are the node's InternalIP addresses (detected when empty).
	NodeIPs []string
	// PodCIDR is the pod network of the node (spec.podCIDR).
	PodCIDR string
	// Labels and Taints are registered with the Node.
	Labels map[string]string
	Taints []corev1.Taint
	// MaxPods is the node's pods capacity (DefaultMaxPods when zero).
	MaxPods int64

	// RuntimeEndpoint is the CRI socket, e.g. unix:///run/containerd/containerd.sock.
	RuntimeEndpoint string
	// RootDir holds the kubelet's files: pods/<uid> (volumes, /etc/hosts,
	// termination messages). DefaultRootDir when empty.
	RootDir string
	// PodLogsDir holds the containers' logs (DefaultPodLogsDir when empty).
	PodLogsDir string
	// ContainerLogMaxSize is the size in bytes at which a container's log
	// is rotated, ContainerLogMaxFiles how many files it keeps
	// (containerlogs.DefaultMaxSize, 10Mi, and DefaultMaxFiles, 5, when
	// zero).
	ContainerLogMaxSize  int64
	ContainerLogMaxFiles int

	// Address and Port are where the kubelet API listens (all addresses
	// and DefaultPort when empty).
	Address string
	Port    int32
	// TLSCertFile and TLSKeyFile are the kubelet API's serving certificate;
	// ClientCAFile verifies its clients' certificates (the nucleus'
	// kubelet-client certificate, administrators').
	TLSCertFile, TLSKeyFile, ClientCAFile string
	// TokenCacheTTL is how long the kubelet API caches the TokenReview of a
	// bearer token; AuthorizedCacheTTL and UnauthorizedCacheTTL how long
	// it caches SubjectAccessReview answers (server.Default*CacheTTL when
	// zero: 2m, 5m, 30s as upstream).
	TokenCacheTTL, AuthorizedCacheTTL, UnauthorizedCacheTTL time.Duration

	// ClusterDNS are the cluster DNS servers pods with dnsPolicy
	// ClusterFirst use, in ClusterDomain.
	ClusterDNS    []string
	ClusterDomain string
	// StaticPodPath is a directory of pod manifests run as static pods
	// (none when empty).
	StaticPodPath string
}

func (c *Config) complete() error {
	if c.Client == nil {
		return errors.New("no client configuration for the nucleus")
	}
	if c.NodeName == "" {
		return errors.New("no node name")
	}
	if c.RuntimeEndpoint == "" {
		return errors.New("no container runtime endpoint (--container-runtime-endpoint)")
	}
	if c.Hostname == "" {
		c.Hostname = c.NodeName
	}
	if len(c.NodeIPs) == 0 {
		c.NodeIPs, _ = node.DetectNodeIPs(context.Background(), c.NodeName, c.Hostname)
	}
	if c.RootDir == "" {
		c.RootDir = DefaultRootDir
	}
	if c.PodLogsDir == "" {
		c.PodLogsDir = DefaultPodLogsDir
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.MaxPods == 0 {
		c.MaxPods = DefaultMaxPods
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = pods.DefaultClusterDomain
	}
	if c.TLSCertFile == "" || c.TLSKeyFile == "" || c.ClientCAFile == "" {
		return errors.New("the kubelet API needs a serving certificate, its key and the client CA (--tls-cert-file, --tls-private-key-file, --client-ca-file)")
	}
	return nil
}

// PodsDir is where the kubelet keeps per-pod files.
func (c *Config) PodsDir() string { return filepath.Join(c.RootDir, "pods") }

// Run runs the kubelet until ctx ends. Containers keep running when it
// returns: a kubelet started again adopts them.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.complete(); err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}
	log := klog.FromContext(ctx).WithValues("node", cfg.NodeName)
	ctx = klog.NewContext(ctx, log)
	for _, dir := range []string{cfg.PodsDir(), cfg.PodLogsDir} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("kubelet: %w", err)
		}
	}
	certs, err := server.LoadCertificates(cfg.TLSCertFile, cfg.TLSKeyFile, cfg.ClientCAFile)
	if err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}
	go certs.Run(ctx)

	rc := rest.CopyConfig(cfg.Client)
	rc.UserAgent = "strata-kubelet/" + cfg.NodeName
	if rc.QPS == 0 {
		rc.QPS, rc.Burst = 50, 100
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}

	log.Info("Connecting to the container runtime", "endpoint", cfg.RuntimeEndpoint)
	runtime, err := cri.Connect(ctx, cri.RemoteConfig{Endpoint: cfg.RuntimeEndpoint})
	if err != nil {
		return fmt.Errorf("kubelet: %w (is containerd running? `strata containerd --data-dir DIR` starts one)", err)
	}
	defer func() { _ = runtime.Close(context.WithoutCancel(ctx)) }()

	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return fmt.Errorf("kubelet: recording events: %w", err)
	}
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, "kubelet")

	c, err := newComponents(cfg, client, runtime, recorder)
	if err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Address, strconv.Itoa(int(cfg.Port))))
	if err != nil {
		return fmt.Errorf("kubelet: the kubelet API: %w", err)
	}
	// The kubelet API delegates to the nucleus, as upstream's kubelet with
	// webhook authentication and authorization: the node's credentials may
	// create TokenReviews and SubjectAccessReviews (node authorizer).
	authn, err := server.NewAuthenticator(server.AuthenticatorConfig{
		ClientCA: certs.ClientCA(), TokenReviews: client.AuthenticationV1(), TokenCacheTTL: cfg.TokenCacheTTL,
	})
	if err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}
	authz, err := server.NewAuthorizer(server.AuthorizerConfig{
		SubjectAccessReviews: client.AuthorizationV1(), AllowCacheTTL: cfg.AuthorizedCacheTTL, DenyCacheTTL: cfg.UnauthorizedCacheTTL,
	})
	if err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}
	host := &stats.Host{NodeName: cfg.NodeName, RootDir: cfg.RootDir, Images: runtime}
	// CPU rates are measured from the latest sample, at most
	// CPUSamplePeriod old.
	go wait.UntilWithContext(ctx, host.SampleCPU, stats.CPUSamplePeriod)
	api := server.New(server.Config{
		NodeName:      cfg.NodeName,
		Authenticator: authn,
		Authorizer:    authz,
		Pods:          c.pods,
		Runtime:       runtime,
		Stats:         &stats.Provider{Runtime: runtime, Node: host.NodeStats},
	})

	started := time.Now()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
				log.Error(err, "Kubelet component failed; stopping", "component", name)
				cancel()
			}
		}()
	}
	for _, r := range c.runners {
		run(r.name, r.run)
	}
	run("kubelet API", func(ctx context.Context) error { return api.Serve(ctx, ln, certs.TLSConfig()) })
	log.Info("Kubelet started", "api", ln.Addr().String(), "runtime", cfg.RuntimeEndpoint, "startup", time.Since(started).Round(time.Millisecond))
	<-ctx.Done()
	log.Info("Stopping kubelet; containers keep running")
	wg.Wait()
	return errors.Join(errs...)
}
