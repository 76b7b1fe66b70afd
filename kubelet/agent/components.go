package agent

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/pods"
	"github.com/strata-dev/strata/kubelet/probes"
	"github.com/strata-dev/strata/kubelet/volumes"
)

// runner is a part of the kubelet that runs until the context ends.
type runner struct {
	name string
	run  func(context.Context) error
}

// components are the kubelet's parts, wired together.
type components struct {
	pods    *pods.Controller
	runners []runner
}

func newComponents(ctx context.Context, cfg Config, client kubernetes.Interface, runtime cri.Runtime, recorder events.EventRecorder) (*components, error) {
	vols := volumes.New(volumes.Config{
		Client:   client,
		PodsDir:  cfg.PodsDir(),
		Recorder: recorder,
	})
	var ctrl *pods.Controller
	prober := probes.New(probes.Config{
		Runtime:  runtime,
		Recorder: recorder,
		// Results only change for pods the controller told the prober of.
		OnChange: func(uid types.UID) { ctrl.Notify(uid) },
	})
	var err error
	ctrl, err = pods.NewController(pods.ControllerConfig{
		Client:   client,
		NodeName: cfg.NodeName,
		Probes:   prober,
		Worker: pods.Config{
			Runtime:       runtime,
			Recorder:      recorder,
			Hostname:      cfg.Hostname,
			HostIPs:       cfg.NodeIPs,
			PodLogsDir:    cfg.PodLogsDir,
			PodsDir:       cfg.PodsDir(),
			ClusterDomain: cfg.ClusterDomain,
		},
	})
	if err != nil {
		return nil, err
	}
	c := &components{pods: ctrl}
	c.runners = append(c.runners, runner{"volumes", func(ctx context.Context) error {
		vols.Run(ctx)
		return nil
	}})
	c.runners = append(c.runners, runner{"pods", func(ctx context.Context) error {
		defer prober.Stop()
		return ctrl.Run(ctx)
	}})
	return c, nil
}
