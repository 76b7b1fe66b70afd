// Package up runs a whole Strata cluster on this machine as background
// processes sharing one data directory: `strata up` starts (or resumes)
// containerd, the nucleus, the kubelet and the service proxy, then installs
// (or upgrades) the layers above the nucleus as Helm releases from the
// charts directory; `strata down` stops the processes and keeps the data,
// `strata reset` also removes every container and the data.
//
//	<data-dir>/               the nucleus' data (etcd, pki/, admin.kubeconfig)
//	<data-dir>/containerd/    Strata's containerd: root, state, socket, CNI config
//	<data-dir>/kubelet/       the kubelet's pods, certificates and kubeconfig
//	<data-dir>/pod-logs/      the containers' logs
//	<data-dir>/logs/*.log     each process's output; layers.log is Helm's
//	<data-dir>/run/*.pid      each process's id
package up

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/strata-dev/strata/kubelet/node"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
)

// Options describe the cluster.
type Options struct {
	// DataDir holds everything (see the package documentation).
	DataDir string
	// ImagesDir holds the image archives of `make images`, imported into
	// containerd (default: images/ beside the strata binary).
	ImagesDir string
	// SecurePort is the nucleus' port.
	SecurePort int
	// NodeName names this machine's Node (default: the host name).
	NodeName string
	// KubeletPort is the kubelet API's port (default 10250).
	KubeletPort int
	// NodeIP is the node's address, which the nucleus advertises to pods
	// (detected when empty).
	NodeIP string
	// PodSubnet and Bridge are the pod network (containerd's defaults,
	// 10.88.0.0/16 on strata0, when empty).
	PodSubnet, Bridge string
	// Binary is the strata binary the processes run (default: this one).
	Binary string
	// Out receives the progress.
	Out io.Writer
	// Timeout bounds each stage.
	Timeout time.Duration

	// Layers names the layers to install (see ParseLayers): nil means
	// every layer, []string{"none"} none.
	Layers []string
	// ChartsDir holds a chart per layer, named after it (default: charts,
	// relative to the working directory, as in the Strata checkout).
	ChartsDir string
	// MergeKubeconfig, when not empty, is a kubeconfig file into which the
	// cluster is merged as the context ContextName (see
	// DefaultKubeconfigFile); SwitchContext makes it the current context
	// even when the file has one.
	MergeKubeconfig string
	SwitchContext   bool

	layers []Layer
}

// DefaultSecurePort is the nucleus' port unless told otherwise.
const DefaultSecurePort = 6443

// ClusterDNS is the cluster IP of the kube-dns Service charts/dns creates,
// which the kubelet gives pods as their name server.
const ClusterDNS = "10.96.0.10"

func (o *Options) complete() error {
	if o.DataDir == "" {
		return errors.New("no data directory")
	}
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	o.DataDir = abs
	if o.Binary == "" {
		if o.Binary, err = os.Executable(); err != nil {
			return err
		}
	}
	if o.ImagesDir == "" {
		o.ImagesDir = filepath.Join(filepath.Dir(o.Binary), "images")
	}
	if o.SecurePort == 0 {
		o.SecurePort = DefaultSecurePort
	}
	if o.KubeletPort == 0 {
		o.KubeletPort = 10250
	}
	if o.PodSubnet == "" {
		o.PodSubnet = containerdenv.DefaultSubnet
	}
	if o.Bridge == "" {
		o.Bridge = containerdenv.DefaultBridge
	}
	if o.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return err
		}
		o.NodeName = strings.ToLower(host)
	}
	if o.NodeIP == "" {
		ips, _ := node.DetectNodeIPs(context.Background(), o.NodeName, o.NodeName)
		o.NodeIP = ips[0]
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	if o.ChartsDir == "" {
		o.ChartsDir = "charts"
	}
	if o.ChartsDir, err = filepath.Abs(o.ChartsDir); err != nil {
		return err
	}
	o.layers, err = ParseLayers(o.Layers)
	return err
}

// Kubeconfig is the admin kubeconfig of the cluster in dataDir.
func Kubeconfig(dataDir string) string { return filepath.Join(dataDir, "admin.kubeconfig") }

func (o *Options) containerdDir() string { return ContainerdDir(o.DataDir) }

// ContainerdDir is the data dir of the containerd of the cluster in
// dataDir.
func ContainerdDir(dataDir string) string { return filepath.Join(dataDir, "containerd") }

// ContainerdSocket is the socket of the containerd of the cluster in
// dataDir (`ctr --address`; the kubelet's endpoint is unix:// and it).
func ContainerdSocket(dataDir string) string {
	return containerdenv.LayoutOf(containerdenv.Config{DataDir: ContainerdDir(dataDir)}).Socket
}

// daemons are the cluster's processes, in start order.
func (o *Options) daemons() []daemon {
	ctrdArgs := []string{"containerd", "--data-dir", o.containerdDir(), "--subnet", o.PodSubnet, "--bridge", o.Bridge}
	for _, image := range []string{"pause.tar", "busybox.tar", "strata.tar", "coredns.tar"} {
		if path := filepath.Join(o.ImagesDir, image); exists(path) {
			ctrdArgs = append(ctrdArgs, "--image", path)
		}
	}
	return []daemon{
		newDaemon(o.DataDir, "containerd", ctrdArgs...),
		newDaemon(o.DataDir, "nucleus", "nucleus", "--data-dir", o.DataDir, "--secure-port", fmt.Sprint(o.SecurePort),
			"--advertise-address", o.NodeIP,
			// The layers' pods keep watching the nucleus while `strata down`
			// stops it: end their watches at once rather than wait for them.
			"--shutdown-watch-termination-grace-period", "5s"),
		newDaemon(o.DataDir, "kubelet", "kubelet",
			"--nucleus-data-dir", o.DataDir,
			"--hostname-override", o.NodeName,
			"--container-runtime-endpoint", "unix://"+ContainerdSocket(o.DataDir),
			"--root-dir", filepath.Join(o.DataDir, "kubelet"),
			"--pod-logs-dir", filepath.Join(o.DataDir, "pod-logs"),
			"--pod-cidr", o.PodSubnet,
			"--node-ip", o.NodeIP,
			"--cluster-dns", ClusterDNS,
			"--port", fmt.Sprint(o.KubeletPort)),
		newDaemon(o.DataDir, "proxy", "proxy",
			"--kubeconfig", filepath.Join(o.DataDir, "kubelet", "kubelet.kubeconfig"),
			"--hostname-override", o.NodeName,
			"--cluster-cidr", o.PodSubnet),
	}
}

// Up starts what is not running yet and waits for each part to be ready.
// On existing data it resumes the same cluster.
func Up(ctx context.Context, o Options) error {
	if err := o.complete(); err != nil {
		return err
	}
	p := newProgress(o.Out)
	fmt.Fprintf(o.Out, "Starting Strata in %s\n", o.DataDir)
	var plans []layerPlan
	if err := p.stage("Checking the host", func() (string, error) {
		if err := containerdenv.CheckHost(containerdenv.Config{}); err != nil {
			return "", fmt.Errorf("%w; install the Debian packages with `make deps` (hack/install-deps.sh) as root", err)
		}
		for _, image := range []string{"pause.tar", "busybox.tar"} {
			if !exists(filepath.Join(o.ImagesDir, image)) {
				return "", fmt.Errorf("no %s in %s: build the images with `make images`", image, o.ImagesDir)
			}
		}
		var err error
		if plans, err = o.planLayers(); err != nil {
			return "", err
		}
		if len(plans) == 0 {
			return "containerd, runc, CNI plugins, iptables, images", nil
		}
		return "containerd, runc, CNI plugins, iptables, images, charts in " + o.ChartsDir, nil
	}); err != nil {
		return err
	}
	ds := o.daemons()
	// since is when the daemon was started, zero if it was running.
	ready := map[string]func(ctx context.Context, since time.Time) error{
		"containerd": func(ctx context.Context, _ time.Time) error {
			return waitLog(ctx, ds[0], "containerd is ready")
		},
		"nucleus": func(ctx context.Context, _ time.Time) error { return o.waitNucleus(ctx, ds[1]) },
		"kubelet": func(ctx context.Context, since time.Time) error { return o.waitNode(ctx, ds[2], since) },
		"proxy": func(ctx context.Context, _ time.Time) error {
			return waitLog(ctx, ds[3], "Starting the service proxy")
		},
	}
	for i := range ds {
		d := &ds[i]
		if err := p.stage("Starting "+d.name, func() (string, error) {
			since := time.Now()
			started, err := d.start(o.Binary)
			if err != nil {
				return "", err
			}
			if !started {
				since = time.Time{}
			}
			sctx, cancel := context.WithTimeout(ctx, o.Timeout)
			defer cancel()
			if err := ready[d.name](sctx, since); err != nil {
				return "", fmt.Errorf("%s is not ready: %w; see %s", d.name, err, d.log)
			}
			if !started {
				return "already running", nil
			}
			return "", nil
		}); err != nil {
			return err
		}
	}
	if len(plans) > 0 {
		log, err := o.openLayersLog()
		if err != nil {
			return err
		}
		defer log.Close()
		for _, l := range plans {
			if err := p.stageWithStatus("Installing layer "+l.Name, func(status func(string)) (string, error) {
				return o.installLayer(ctx, l, log, status)
			}); err != nil {
				return err
			}
		}
	}
	current := ""
	if o.MergeKubeconfig != "" {
		if err := p.stage("Merging context "+ContextName+" into "+o.MergeKubeconfig, func() (string, error) {
			var err error
			current, err = MergeKubeconfigFile(o.MergeKubeconfig, Kubeconfig(o.DataDir), ContextName, o.SwitchContext)
			if err != nil {
				return "", err
			}
			return "current context " + current, nil
		}); err != nil {
			return err
		}
	}
	fmt.Fprint(o.Out, o.summary(current))
	return nil
}

// summary tells how to use the cluster once it is up; current is the
// current context of the kubeconfig the cluster was merged into, if it was.
func (o *Options) summary(current string) string {
	var b strings.Builder
	var names []string
	for _, l := range o.layers {
		names = append(names, l.Name)
	}
	layers := "no layers (--layers=" + NoLayers + ")"
	if len(names) > 0 {
		layers = "layers " + strings.Join(names, ", ") + " in namespace " + LayersNamespace
	}
	fmt.Fprintf(&b, "\nStrata is up: nucleus https://%s:%d, node %s, %s.\n\n", o.NodeIP, o.SecurePort, o.NodeName, layers)
	kubectl, helm := "kubectl", "helm"
	switch {
	case o.MergeKubeconfig != "" && current == ContextName:
		fmt.Fprintf(&b, "The context %s of %s is the current one:\n\n", ContextName, o.MergeKubeconfig)
	case o.MergeKubeconfig != "":
		fmt.Fprintf(&b, "The context %s is in %s (the current one stays %s):\n\n", ContextName, o.MergeKubeconfig, current)
		kubectl += " --context " + ContextName
		helm += " --kube-context " + ContextName
	default:
		fmt.Fprintf(&b, "  export KUBECONFIG=%s\n", Kubeconfig(o.DataDir))
	}
	if bin := filepath.Dir(o.Binary); exists(filepath.Join(bin, "kubectl")) {
		fmt.Fprintf(&b, "  export PATH=%s:$PATH   # kubectl and helm of `make up`\n", bin)
	}
	fmt.Fprintf(&b, "  %s get nodes\n", kubectl)
	if len(names) > 0 {
		fmt.Fprintf(&b, "  %s list -A\n", helm)
	}
	fmt.Fprintf(&b, "\nLogs are in %s; 'strata down --data-dir %s' stops it and keeps the data, 'strata reset --data-dir %[2]s' removes it.\n",
		filepath.Join(o.DataDir, "logs"), o.DataDir)
	return b.String()
}

// Down stops the processes (kubelet, nucleus, containerd); the data and
// the containers stay, and `strata up` resumes them.
func Down(ctx context.Context, o Options) error {
	if err := o.complete(); err != nil {
		return err
	}
	p := newProgress(o.Out)
	ds := o.daemons()
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		if err := p.stage("Stopping "+d.name, func() (string, error) {
			stopped, err := d.stop(30 * time.Second)
			if !stopped && err == nil {
				return "not running", nil
			}
			return "", err
		}); err != nil {
			return err
		}
	}
	return nil
}

// Reset stops the cluster, removes every container of its containerd, its
// network and the data directory.
func Reset(ctx context.Context, o Options) error {
	if err := o.complete(); err != nil {
		return err
	}
	if err := Down(ctx, o); err != nil {
		return err
	}
	p := newProgress(o.Out)
	if err := p.stage("Removing the service proxy's rules", func() (string, error) {
		out, err := exec.CommandContext(ctx, o.Binary, "proxy", "--cleanup").CombinedOutput() //nolint:gosec // strata itself
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
		}
		return "", nil
	}); err != nil {
		return err
	}
	if exists(o.containerdDir()) {
		if err := p.stage("Removing the containers and the pod network", func() (string, error) {
			args := append(o.daemons()[0].args, "--teardown")
			out, err := exec.CommandContext(ctx, o.Binary, args...).CombinedOutput() //nolint:gosec // strata itself
			if err != nil {
				return "", fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
			}
			return "", nil
		}); err != nil {
			return err
		}
	}
	return p.stage("Removing "+o.DataDir, func() (string, error) {
		// The kubelet's tmpfs volumes.
		if err := containerdenv.UnmountUnder(o.DataDir); err != nil {
			return "", err
		}
		return "", os.RemoveAll(o.DataDir)
	})
}

// waitLog waits until the daemon's latest run logged line.
func waitLog(ctx context.Context, d daemon, line string) error {
	return poll(ctx, d, func(ctx context.Context) (bool, error) {
		data, err := os.ReadFile(d.log)
		if err != nil {
			return false, nil
		}
		if i := bytes.LastIndex(data, []byte("\n==> ")); i >= 0 {
			data = data[i:]
		}
		return bytes.Contains(data, []byte(line)), nil
	})
}

func (o *Options) client() (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", Kubeconfig(o.DataDir))
	if err != nil {
		return nil, err
	}
	rc.Timeout = 5 * time.Second
	return kubernetes.NewForConfig(rc)
}

func (o *Options) waitNucleus(ctx context.Context, d daemon) error {
	return poll(ctx, d, func(ctx context.Context) (bool, error) {
		client, err := o.client()
		if err != nil {
			return false, nil // no kubeconfig yet
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

// waitNode waits until the Node is Ready by a heartbeat of the kubelet
// started at since (any heartbeat if since is zero): on resumed data the
// Node's Ready condition is the one the previous kubelet left.
func (o *Options) waitNode(ctx context.Context, d daemon, since time.Time) error {
	// Conditions carry seconds.
	since = since.Truncate(time.Second)
	return poll(ctx, d, func(ctx context.Context) (bool, error) {
		client, err := o.client()
		if err != nil {
			return false, err
		}
		node, err := client.CoreV1().Nodes().Get(ctx, o.NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue && !c.LastHeartbeatTime.Time.Before(since), nil
			}
		}
		return false, nil
	})
}

// poll runs cond every 200ms until it holds, the daemon dies or ctx ends.
func poll(ctx context.Context, d daemon, cond func(context.Context) (bool, error)) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if d.exited() {
			pid, _ := os.ReadFile(d.pidFile)
			return fmt.Errorf("%s exited (pid file %q: %s)", d.name, d.pidFile, pid)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out")
		case <-tick.C:
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
