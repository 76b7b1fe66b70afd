// Package node is the kubelet's Node agent, as upstream's kubelet node
// status manager and node lease controller: it registers the Node (or
// adopts the one that exists), keeps its Lease in kube-node-lease fresh and
// reports its status — addresses, capacity and allocatable, system info,
// and the MemoryPressure, DiskPressure, PIDPressure and Ready conditions
// with upstream's reasons, messages, heartbeat and transition times and
// events.
//
// The status is computed every StatusUpdateFrequency (10s) and written,
// through a strategic merge patch of the status subresource, only when it
// changed or every StatusReportFrequency (5 minutes); the Lease, renewed
// every 10s, is the heartbeat. Ready follows the container runtime's CRI
// Status: a runtime that is not ready or whose network is not ready makes
// the node NotReady with upstream's message ("container runtime network not
// ready: NetworkReady=false reason:… message:…").
//
// Everything the status is made of is observed through interfaces (the CRI
// RuntimeService, a MachineReader, an injected clock); the computation
// itself is pure functions, table-tested.
package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/nodelabels"
	"github.com/strata-dev/strata/nucleus/version"
)

// Defaults, as upstream's kubelet.
const (
	DefaultPort    = 10250
	DefaultMaxPods = 110
	// DefaultMaxImages is upstream's nodeStatusMaxImages.
	DefaultMaxImages             = 50
	DefaultStatusUpdateFrequency = 10 * time.Second
	// StatusReportFrequency is how often an unchanged status is written
	// (upstream's nodeStatusReportFrequency).
	StatusReportFrequency = 5 * time.Minute
	// DefaultRootDir is the kubelet's root directory.
	DefaultRootDir = "/var/lib/kubelet"
)

const (
	// statusUpdateRetries is how many times one status update is tried.
	statusUpdateRetries = 5
	// fastStatusInterval is how often the status is computed while the
	// node is not Ready during fastStatusPeriod after start, so that it
	// turns Ready as soon as the runtime is (upstream polls every 100ms).
	fastStatusInterval = time.Second
	fastStatusPeriod   = 2 * time.Minute
	// registration back-off: 100ms doubling to 7s, as upstream.
	registerInitialBackoff = 100 * time.Millisecond
	registerMaxBackoff     = 7 * time.Second
	runtimeCallTimeout     = 10 * time.Second
)

// Config describes the node.
type Config struct {
	Client kubernetes.Interface
	// NodeName is the Node's name (required).
	NodeName string
	// Hostname is the kubernetes.io/hostname label and the Hostname
	// address (NodeName when empty, as upstream where
	// --hostname-override names both).
	Hostname string
	// NodeIPs are the InternalIP addresses (at most one per family). When
	// empty they are detected as upstream: the hostname if it is an IP,
	// what the node name resolves to, the address of the default route's
	// interface; a machine with nothing but loopback uses 127.0.0.1.
	NodeIPs []string
	// PodCIDR is spec.podCIDR(s) of a Node this agent creates, or adopts
	// without one (comma-separated for dual-stack, e.g. 10.88.0.0/16).
	PodCIDR string
	// Port is status.daemonEndpoints.kubeletEndpoint.Port (10250).
	Port int32
	// Labels are added to the default labels when the Node is created
	// (--node-labels). Labels in kubernetes.io or k8s.io a kubelet may not
	// set are refused, as upstream.
	Labels map[string]string
	// Taints are set when the Node is created (--register-with-taints).
	Taints []corev1.Taint
	// Runtime is the container runtime: Version makes
	// containerRuntimeVersion, Status the Ready condition (required).
	Runtime cri.RuntimeService
	// Images lists the images on the node for status.images (none
	// reported when nil).
	Images cri.ImageService
	// MaxImages is how many images status.images reports, largest first
	// (upstream's nodeStatusMaxImages, 50; -1 for all).
	MaxImages int
	// RootDir is the kubelet's root directory, whose filesystem is the
	// ephemeral storage (DefaultRootDir).
	RootDir string
	// MaxPods is the pods capacity (110).
	MaxPods int64
	// KubeletVersion is status.nodeInfo.kubeletVersion (the version the
	// nucleus reports, e.g. v1.37.2+strata.0.1.0).
	KubeletVersion string
	// LeaseDuration is the Lease's duration (40s); it is renewed every
	// quarter of it.
	LeaseDuration time.Duration
	// StatusUpdateFrequency is how often the status is computed (10s).
	StatusUpdateFrequency time.Duration
	// SystemReserved is held back from allocatable, as are the hard
	// eviction thresholds (100Mi of memory, 10% of the ephemeral storage).
	SystemReserved corev1.ResourceList
	// Clock is the real clock when nil.
	Clock clock.Clock

	// Recorder records events about the Node (none when nil): Starting,
	// NodeHasSufficientMemory, NodeHasNoDiskPressure, NodeHasSufficientPID
	// (and their opposites), NodeReady, NodeNotReady, Rebooted.
	Recorder events.EventRecorder
	// Machine observes the host (HostMachine{RootDir: RootDir} when nil).
	Machine MachineReader
}

// Agent registers a Node and keeps its Lease and status fresh.
type Agent struct {
	cfg      Config
	clock    clock.Clock
	podCIDRs []string
	nodeIPs  []string
	lease    *Lease
	ready    chan struct{}
	started  time.Time

	// detectIPs finds the InternalIPs when none are configured; ok is
	// false for a loopback fallback.
	detectIPs func(ctx context.Context) (ips []string, ok bool)

	mu               sync.Mutex
	hostIPs          []string
	runtime          runtimeState
	lastStatusReport time.Time
	nodeReady        bool
	warnedLoopback   bool
}

// New checks cfg and fills in the defaults.
func New(cfg Config) (*Agent, error) {
	if cfg.Client == nil {
		return nil, errors.New("node agent: no API client")
	}
	if cfg.NodeName == "" {
		return nil, errors.New("node agent: no node name")
	}
	if cfg.Runtime == nil {
		return nil, errors.New("node agent: no container runtime")
	}
	if err := nodelabels.Validate(cfg.Labels); err != nil {
		return nil, err
	}
	if cfg.Hostname == "" {
		cfg.Hostname = cfg.NodeName
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.RootDir == "" {
		cfg.RootDir = DefaultRootDir
	}
	if cfg.MaxPods == 0 {
		cfg.MaxPods = DefaultMaxPods
	}
	if cfg.KubeletVersion == "" {
		cfg.KubeletVersion = version.GitVersion()
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.StatusUpdateFrequency <= 0 {
		cfg.StatusUpdateFrequency = DefaultStatusUpdateFrequency
	}
	if cfg.MaxImages == 0 {
		cfg.MaxImages = DefaultMaxImages
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Machine == nil {
		cfg.Machine = HostMachine{RootDir: cfg.RootDir}
	}
	nodeIPs, err := parseNodeIPs(cfg.NodeIPs)
	if err != nil {
		return nil, fmt.Errorf("node agent: %w", err)
	}
	var podCIDRs []string
	if cfg.PodCIDR != "" {
		for _, c := range strings.Split(cfg.PodCIDR, ",") {
			_, n, err := net.ParseCIDR(strings.TrimSpace(c))
			if err != nil {
				return nil, fmt.Errorf("node agent: pod CIDR: %w", err)
			}
			podCIDRs = append(podCIDRs, n.String())
		}
	}
	a := &Agent{
		cfg:      cfg,
		clock:    cfg.Clock,
		podCIDRs: podCIDRs,
		nodeIPs:  nodeIPs,
		lease:    NewLease(cfg.Client, cfg.NodeName, cfg.LeaseDuration, cfg.Clock),
		ready:    make(chan struct{}),
	}
	a.detectIPs = func(ctx context.Context) ([]string, bool) {
		return DetectNodeIPs(ctx, cfg.NodeName, cfg.Hostname)
	}
	if len(nodeIPs) > 0 {
		a.hostIPs = nodeIPs
	}
	return a, nil
}

// Ready is closed once the Node is registered.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// HostIPs are the node's InternalIPs, known once Ready is closed (or at
// once when configured): the pods' status.hostIPs.
func (a *Agent) HostIPs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.hostIPs...)
}

// Allocatable is what the node offers pods, as its status reports it:
// the machine's capacity less the system reservation and the hard
// eviction thresholds. The downward API answers limits a container does
// not set with it, as upstream.
func (a *Agent) Allocatable(ctx context.Context) (corev1.ResourceList, error) {
	machine, err := a.cfg.Machine.ReadMachine(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the machine's resources: %w", err)
	}
	capacity := Capacity(machine, a.cfg.MaxPods)
	return Allocatable(capacity, Reservation(capacity, a.cfg.SystemReserved)), nil
}

// Run registers the Node, then renews its Lease and reports its status
// until ctx ends (call it once). Registration is retried with back-off
// until it succeeds.
// The kube-node-lease namespace is the nucleus' to create, as upstream's
// API server does: a node may not create namespaces.
func (a *Agent) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithValues("node", klog.KRef("", a.cfg.NodeName))
	ctx = klog.NewContext(ctx, logger)
	a.started = a.clock.Now()
	a.record(nodeEvent{corev1.EventTypeNormal, "Starting", "Starting kubelet."})
	a.checkRuntime(ctx)
	created, err := a.register(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	close(a.ready)
	go a.lease.Run(ctx)
	if !created {
		// An adopted Node shows what the previous kubelet last wrote:
		// report this one's status now, as upstream's first node status
		// sync does, not one interval later.
		a.checkRuntime(ctx)
		if err := a.updateNodeStatus(ctx); err != nil && ctx.Err() == nil {
			logger.Error(err, "Unable to update node status")
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.clock.After(a.nextStatusInterval()):
		}
		a.checkRuntime(ctx)
		if err := a.updateNodeStatus(ctx); err != nil && ctx.Err() == nil {
			logger.Error(err, "Unable to update node status")
		}
	}
}

// nextStatusInterval is StatusUpdateFrequency, shorter while a node that
// just started is not Ready yet.
func (a *Agent) nextStatusInterval() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.nodeReady && a.clock.Since(a.started) < fastStatusPeriod {
		return min(fastStatusInterval, a.cfg.StatusUpdateFrequency)
	}
	return a.cfg.StatusUpdateFrequency
}

// checkRuntime asks the runtime for its status and version, as upstream's
// updateRuntimeUp: a runtime that does not answer is "down" after 30s.
func (a *Agent) checkRuntime(ctx context.Context) {
	logger := klog.FromContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, runtimeCallTimeout)
	defer cancel()
	status, statusErr := a.cfg.Runtime.Status(ctx, false)
	v, versionErr := a.cfg.Runtime.Version(ctx, "v1")
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.clock.Now()
	if statusErr != nil {
		logger.Error(statusErr, "Container runtime sanity check failed")
	} else {
		a.runtime.observeStatus(status, now)
		if a.runtime.networkErr != nil {
			logger.V(1).Info("Container runtime network not ready", "err", a.runtime.networkErr)
		}
		if a.runtime.runtimeErr != nil {
			logger.Info("Container runtime not ready", "err", a.runtime.runtimeErr)
		}
	}
	if versionErr != nil {
		a.runtime.version = ""
		logger.V(1).Info("Reading the container runtime version", "err", versionErr)
	} else {
		a.runtime.name, a.runtime.version = v.GetRuntimeName(), v.GetRuntimeVersion()
	}
}

// observe gathers the inputs of the node status.
func (a *Agent) observe(ctx context.Context) statusInputs {
	logger := klog.FromContext(ctx)
	machine, err := a.cfg.Machine.ReadMachine(ctx)
	if err != nil {
		logger.Error(err, "Reading machine info")
	}
	ips := a.nodeIPs
	if len(ips) == 0 {
		var ok bool
		ips, ok = a.detectIPs(ctx)
		a.mu.Lock()
		if !ok && !a.warnedLoopback {
			logger.Info("Using a loopback address as the node's InternalIP: no other address found", "ip", ips)
			a.warnedLoopback = true
		}
		a.mu.Unlock()
	}
	var images []corev1.ContainerImage
	if a.cfg.Images != nil {
		lctx, cancel := context.WithTimeout(ctx, runtimeCallTimeout)
		list, err := a.cfg.Images.ListImages(lctx, nil)
		cancel()
		if err != nil {
			logger.Error(err, "Listing the node's images")
		} else {
			images = NodeImages(list, a.cfg.MaxImages)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hostIPs = ips
	return statusInputs{
		images:         images,
		machine:        machine,
		addresses:      Addresses(ips, a.cfg.Hostname),
		runtime:        a.runtime,
		maxPods:        a.cfg.MaxPods,
		reserved:       a.cfg.SystemReserved,
		port:           a.cfg.Port,
		kubeletVersion: a.cfg.KubeletVersion,
		now:            a.clock.Now(),
	}
}

// initialNode is the Node as this agent registers it, with its status.
func (a *Agent) initialNode(ctx context.Context) (*corev1.Node, []nodeEvent) {
	labels := map[string]string{
		corev1.LabelHostname:   a.cfg.Hostname,
		corev1.LabelOSStable:   goruntime.GOOS,
		corev1.LabelArchStable: goruntime.GOARCH,
		labelBetaOS:            goruntime.GOOS,
		labelBetaArch:          goruntime.GOARCH,
	}
	for k, v := range a.cfg.Labels {
		labels[k] = v
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: append([]corev1.Taint(nil), a.cfg.Taints...)},
	}
	if len(a.podCIDRs) > 0 {
		node.Spec.PodCIDR, node.Spec.PodCIDRs = a.podCIDRs[0], append([]string(nil), a.podCIDRs...)
	}
	evs := setNodeStatus(node, a.observe(ctx))
	return node, evs
}

// register creates the Node or adopts the existing one, retrying with
// back-off until it succeeds or ctx ends. It reports whether it created it.
func (a *Agent) register(ctx context.Context) (bool, error) {
	logger := klog.FromContext(ctx)
	backoff := registerInitialBackoff
	for {
		node, evs := a.initialNode(ctx)
		logger.Info("Attempting to register node")
		created, err := a.tryRegister(ctx, node)
		if err == nil {
			logger.Info("Successfully registered node")
			a.mu.Lock()
			a.nodeReady = IsReady(&node.Status)
			a.mu.Unlock()
			if created {
				for _, e := range evs {
					a.record(e)
				}
			}
			return created, nil
		}
		logger.Error(err, "Unable to register node with API server", "retryAfter", backoff)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-a.clock.After(backoff):
		}
		backoff = min(2*backoff, registerMaxBackoff)
	}
}

// tryRegister creates node, or adopts the Node of that name: its
// well-known labels are brought up to date as upstream's kubelet does (the
// other labels and the taints are only set at creation), and it gets the
// pod CIDR when it has none.
func (a *Agent) tryRegister(ctx context.Context, node *corev1.Node) (bool, error) {
	nodes := a.cfg.Client.CoreV1().Nodes()
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err == nil {
		a.lease.SetOwner(created.UID)
		return true, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return false, err
	}
	existing, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("reading the existing node: %w", err)
	}
	klog.FromContext(ctx).Info("Node was previously registered")
	stored := existing.DeepCopy()
	if reconcileLabels(node, existing) {
		patch, err := statusPatch(stored, existing)
		if err != nil {
			return false, err
		}
		if existing, err = nodes.Patch(ctx, a.cfg.NodeName, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
			return false, fmt.Errorf("reconciling the labels of the existing node: %w", err)
		}
	}
	switch {
	case len(existing.Spec.PodCIDRs) == 0 && existing.Spec.PodCIDR == "" && len(a.podCIDRs) > 0:
		patch := fmt.Sprintf(`{"spec":{"podCIDR":%q,"podCIDRs":[%s]}}`, a.podCIDRs[0], quoteAll(a.podCIDRs))
		if existing, err = nodes.Patch(ctx, a.cfg.NodeName, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return false, fmt.Errorf("setting the pod CIDR of the existing node: %w", err)
		}
	case len(a.podCIDRs) > 0 && existing.Spec.PodCIDR != a.podCIDRs[0]:
		klog.FromContext(ctx).Info("The node's pod CIDR differs from the configured one; keeping the node's", "podCIDRs", existing.Spec.PodCIDRs, "configured", a.podCIDRs)
	}
	a.lease.SetOwner(existing.UID)
	return false, nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ",")
}

// updateNodeStatus computes and writes the status, retrying a few times
// (upstream's nodeStatusUpdateRetry).
func (a *Agent) updateNodeStatus(ctx context.Context) error {
	var errs []error
	for i := range statusUpdateRetries {
		err := a.tryUpdateNodeStatus(ctx, i)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		klog.FromContext(ctx).V(1).Info("Error updating node status, will retry", "err", err)
		errs = append(errs, err)
	}
	return fmt.Errorf("update node status exceeds retry count: %w", errors.Join(errs...))
}

// tryUpdateNodeStatus reads the Node (from the API server's cache on the
// first try), computes its status and patches it when it changed or was
// last written StatusReportFrequency ago. The events of the conditions
// that changed are recorded once the status is written.
func (a *Agent) tryUpdateNodeStatus(ctx context.Context, try int) error {
	opts := metav1.GetOptions{}
	if try == 0 {
		opts.ResourceVersion = "0"
	}
	stored, err := a.cfg.Client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, opts)
	if err != nil {
		return fmt.Errorf("error getting node %q: %w", a.cfg.NodeName, err)
	}
	node := stored.DeepCopy()
	labelsChanged := setDefaultLabels(node)
	in := a.observe(ctx)
	evs := setNodeStatus(node, in)
	a.mu.Lock()
	a.nodeReady = IsReady(&node.Status)
	due := in.now.Sub(a.lastStatusReport) >= StatusReportFrequency
	a.mu.Unlock()
	if !labelsChanged && !due && !statusChanged(&stored.Status, &node.Status) {
		return nil
	}
	patch, err := statusPatch(stored, node)
	if err != nil {
		return err
	}
	if _, err := a.cfg.Client.CoreV1().Nodes().Patch(ctx, a.cfg.NodeName, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("failed to patch status %q for node %q: %w", patch, a.cfg.NodeName, err)
	}
	a.mu.Lock()
	a.lastStatusReport = in.now
	a.mu.Unlock()
	for _, e := range evs {
		a.record(e)
	}
	return nil
}

// record records an event about the Node. Its reference names the Node
// with its name as UID, as upstream's kubelet (kubectl describe node looks
// for that).
func (a *Agent) record(e nodeEvent) {
	if a.cfg.Recorder == nil {
		return
	}
	ref := &corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: a.cfg.NodeName, UID: types.UID(a.cfg.NodeName)}
	action := "UpdateNodeStatus"
	if e.reason == "Starting" {
		action = "StartKubelet"
	}
	a.cfg.Recorder.Eventf(ref, nil, e.eventType, e.reason, action, "%s", e.note)
}
