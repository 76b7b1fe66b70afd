package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	"github.com/strata-dev/strata/kubelet/containerlogs"
	"github.com/strata-dev/strata/kubelet/credentials"
	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/dns"
	"github.com/strata-dev/strata/kubelet/node"
	"github.com/strata-dev/strata/kubelet/podenv"
	"github.com/strata-dev/strata/kubelet/pods"
	"github.com/strata-dev/strata/kubelet/probes"
	"github.com/strata-dev/strata/kubelet/static"
	"github.com/strata-dev/strata/kubelet/volumes"
	"github.com/strata-dev/strata/nucleus/version"
)

// runner is a part of the kubelet that runs until the context ends.
type runner struct {
	name string
	run  func(context.Context) error
}

// components are the kubelet's parts, wired together.
type components struct {
	node    *node.Agent
	pods    *pods.Controller
	runners []runner
}

func (c *components) add(name string, run func(context.Context) error) {
	c.runners = append(c.runners, runner{name, run})
}

func newComponents(cfg Config, client kubernetes.Interface, runtime cri.Runtime, recorder events.EventRecorder) (*components, error) {
	c := &components{}
	var err error
	c.node, err = node.New(node.Config{
		Client:         client,
		NodeName:       cfg.NodeName,
		Hostname:       cfg.Hostname,
		NodeIPs:        cfg.NodeIPs,
		PodCIDR:        cfg.PodCIDR,
		Port:           cfg.Port,
		Labels:         cfg.Labels,
		Taints:         cfg.Taints,
		Runtime:        runtime,
		Images:         runtime,
		RootDir:        cfg.RootDir,
		MaxPods:        cfg.MaxPods,
		KubeletVersion: version.Kubernetes,
		Recorder:       recorder,
	})
	if err != nil {
		return nil, err
	}
	c.add("node", c.node.Run)

	objects := podenv.NewObjectGetter(client)
	services := podenv.NewServices(client)
	c.add("services", func(ctx context.Context) error { services.Run(ctx); return nil })
	allocatable, err := c.node.Allocatable(context.Background())
	if err != nil {
		return nil, err
	}
	env := &pods.Environment{Objects: objects, ServiceEnv: services.ServiceEnv, NodeName: cfg.NodeName, HostIPs: cfg.NodeIPs, NodeAllocatable: allocatable}

	vols := volumes.New(volumes.Config{Client: client, PodsDir: cfg.PodsDir(), Recorder: recorder, Env: env, NodeAllocatable: allocatable})
	c.add("volumes", func(ctx context.Context) error { vols.Run(ctx); return nil })

	var staticPods *static.Source
	if cfg.StaticPodPath != "" {
		staticPods = static.New(static.Config{Client: client, NodeName: cfg.NodeName, ManifestDir: cfg.StaticPodPath})
		c.add("static pods", staticPods.Run)
	}

	keyring, err := newKeyring(cfg.RootDir, objects, recorder)
	if err != nil {
		return nil, err
	}
	prober := probes.New(probes.Config{
		Runtime:  runtime,
		Recorder: recorder,
		// Results only change for pods the controller told the prober of,
		// so c.pods is set by then.
		OnChange: func(uid types.UID) { c.pods.Notify(uid) },
	})
	workers := pods.Config{
		Runtime:        runtime,
		Recorder:       recorder,
		Env:            env,
		Volumes:        vols,
		DNS:            &dns.Configurer{ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain, ResolvConf: dns.HostResolvConf(), Recorder: recorder, NodeName: cfg.NodeName},
		Credentials:    keyring,
		Hostname:       cfg.Hostname,
		HostIPs:        cfg.NodeIPs,
		MemoryCapacity: memoryCapacity(),
		PodLogsDir:     cfg.PodLogsDir,
		PodsDir:        cfg.PodsDir(),
		ClusterDomain:  cfg.ClusterDomain,
	}
	controller := pods.ControllerConfig{Client: client, NodeName: cfg.NodeName, Probes: prober, Worker: workers}
	if staticPods != nil {
		controller.StaticPods = staticPods
	}
	if c.pods, err = pods.NewController(controller); err != nil {
		return nil, err
	}
	c.add("pods", func(ctx context.Context) error {
		defer prober.Stop()
		return c.pods.Run(ctx)
	})

	logs, err := containerlogs.NewRotator(containerlogs.RotatorConfig{Runtime: runtime, MaxSize: cfg.ContainerLogMaxSize, MaxFiles: cfg.ContainerLogMaxFiles})
	if err != nil {
		return nil, fmt.Errorf("%w (--container-log-max-size, --container-log-max-files)", err)
	}
	c.add("container logs", func(ctx context.Context) error { logs.Run(ctx); return nil })
	return c, nil
}

// newKeyring finds pull credentials in the pods' imagePullSecrets, then
// in the node's own <root-dir>/config.json when there is one (upstream's
// kubelet reads the same file).
func newKeyring(rootDir string, objects pods.ObjectGetter, recorder events.EventRecorder) (*credentials.Keyring, error) {
	keyring := credentials.New(objects)
	keyring.Recorder = recorder
	path := filepath.Join(rootDir, "config.json")
	node, err := credentials.ReadDockerConfigFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("reading the node's registry credentials: %w (fix or remove %s)", err, path)
	default:
		keyring.Node = node
	}
	return keyring, nil
}

// memoryCapacity is the machine's memory in bytes (0 when unknown), for
// containers' OOM scores.
func memoryCapacity() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	m, err := node.ParseMeminfo(string(data))
	if err != nil {
		return 0
	}
	return m["MemTotal"]
}
