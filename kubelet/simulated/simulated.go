// Package simulated runs simulated nodes, as kwok does: it registers nodes
// with a chosen capacity, labels and taints, keeps their Leases fresh, and
// moves the pods bound to them through their lifecycle without containers —
// Pending to Running and Ready with an IP from the node's podCIDR, and a
// pod being deleted is finalized at once, as a kubelet does once its
// containers stopped. It is the test bed for the scheduler at scale; one
// pod informer and one work queue serve every node.
package simulated

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	kubeletnode "github.com/strata-dev/strata/kubelet/node"
	"github.com/strata-dev/strata/nucleus/version"
)

const (
	// LeaseNamespace holds the nodes' heartbeat Leases.
	LeaseNamespace = corev1.NamespaceNodeLease
	// leaseDurationSeconds is upstream kubelet's default.
	leaseDurationSeconds = 40
)

// Config describes the simulated nodes.
type Config struct {
	// Count nodes are named NamePrefix0 … NamePrefix<Count-1>.
	Count      int
	NamePrefix string
	// FirstIndex offsets the node numbers (and their podCIDRs), so that
	// several simulators can share a cluster.
	FirstIndex int
	CPU        resource.Quantity
	Memory     resource.Quantity
	Pods       int64
	// Labels are added to the defaults (kubernetes.io/hostname,
	// kubernetes.io/os, kubernetes.io/arch, type=simulated).
	Labels map[string]string
	Taints []corev1.Taint
	// RenewInterval is how often the Leases are renewed (10s by default).
	RenewInterval time.Duration
	// Workers is the number of goroutines updating pods (4 by default).
	Workers int
}

// DefaultConfig is one node with 8 cpu, 32Gi of memory and 110 pods.
func DefaultConfig() Config {
	return Config{
		Count:         1,
		NamePrefix:    "sim-",
		CPU:           resource.MustParse("8"),
		Memory:        resource.MustParse("32Gi"),
		Pods:          110,
		RenewInterval: 10 * time.Second,
		Workers:       4,
	}
}

// node is the state of one simulated node.
type node struct {
	name    string
	index   int
	hostIP  string
	cidrPre string // "10.244.3." for 10.244.3.0/24
	mu      sync.Mutex
	nextIP  int
	podIPs  map[types.UID]string
	lease   *kubeletnode.Lease
}

// Simulator runs the nodes of one Config.
type Simulator struct {
	client kubernetes.Interface
	cfg    Config
	nodes  map[string]*node
	names  []string
	pods   corelisters.PodLister
	synced cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	inf    informers.SharedInformerFactory
}

// New builds a simulator; Run registers the nodes and runs them.
func New(client kubernetes.Interface, cfg Config) (*Simulator, error) {
	if cfg.Count <= 0 {
		return nil, fmt.Errorf("the number of simulated nodes must be positive, got %d", cfg.Count)
	}
	if cfg.RenewInterval <= 0 {
		cfg.RenewInterval = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	s := &Simulator{
		client: client,
		cfg:    cfg,
		nodes:  map[string]*node{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "simulated-kubelet"}),
	}
	for i := 0; i < cfg.Count; i++ {
		idx := cfg.FirstIndex + i
		n := &node{
			name:    fmt.Sprintf("%s%d", cfg.NamePrefix, idx),
			index:   idx,
			hostIP:  fmt.Sprintf("10.%d.%d.%d", 96+idx/65536, (idx/256)%256, idx%256),
			cidrPre: fmt.Sprintf("10.%d.%d.", 244+idx/256, idx%256),
			nextIP:  2,
			podIPs:  map[types.UID]string{},
		}
		s.nodes[n.name] = n
		s.names = append(s.names, n.name)
	}
	s.inf = informers.NewSharedInformerFactory(client, 0)
	podInformer := s.inf.Core().V1().Pods()
	s.pods = podInformer.Lister()
	s.synced = podInformer.Informer().HasSynced
	enqueue := func(obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		if _, mine := s.nodes[pod.Spec.NodeName]; mine {
			s.queue.Add(pod.Namespace + "/" + pod.Name)
		}
	}
	release := func(obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			if n, mine := s.nodes[pod.Spec.NodeName]; mine {
				n.releaseIP(pod.UID)
			}
		}
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
		DeleteFunc: release,
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// NodeNames lists the simulated nodes.
func (s *Simulator) NodeNames() []string { return append([]string(nil), s.names...) }

// Run registers the nodes, then runs them until ctx ends.
func (s *Simulator) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	defer s.queue.ShutDown()
	logger := klog.FromContext(ctx)
	if err := s.ensureLeaseNamespace(ctx); err != nil {
		return err
	}
	if err := s.forEachNode(ctx, s.register); err != nil {
		return err
	}
	logger.Info("Registered simulated nodes", "count", len(s.names), "first", s.names[0])
	s.inf.Start(ctx.Done())
	if !cache.WaitForNamedCacheSync("simulated-kubelet", ctx.Done(), s.synced) {
		return ctx.Err()
	}
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		_ = s.forEachNode(ctx, s.renewLease)
	}, s.cfg.RenewInterval)
	for range s.cfg.Workers {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for s.next(ctx) {
			}
		}, time.Second)
	}
	<-ctx.Done()
	s.inf.Shutdown()
	return nil
}

// forEachNode runs fn for every node with bounded parallelism; it returns
// the first error.
func (s *Simulator) forEachNode(ctx context.Context, fn func(context.Context, *node) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	work := make(chan *node)
	for range min(16, len(s.names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				if err := fn(ctx, n); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, name := range s.names {
		work <- s.nodes[name]
	}
	close(work)
	wg.Wait()
	return first
}

func (s *Simulator) ensureLeaseNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: LeaseNamespace}}
	if _, err := s.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", LeaseNamespace, err)
	}
	return nil
}

// nodeObject is the Node of n as the simulator registers it.
func (s *Simulator) nodeObject(n *node) *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname:   n.name,
		corev1.LabelOSStable:   "linux",
		corev1.LabelArchStable: runtime.GOARCH,
		"type":                 "simulated",
	}
	for k, v := range s.cfg.Labels {
		labels[k] = v
	}
	resources := corev1.ResourceList{
		corev1.ResourceCPU:              s.cfg.CPU,
		corev1.ResourceMemory:           s.cfg.Memory,
		corev1.ResourcePods:             *resource.NewQuantity(s.cfg.Pods, resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, st corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: st, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	cidr := n.cidrPre + "0/24"
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: labels},
		Spec:       corev1.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}, Taints: s.cfg.Taints},
		Status: corev1.NodeStatus{
			Capacity:    resources,
			Allocatable: resources,
			Phase:       corev1.NodeRunning,
			Conditions: []corev1.NodeCondition{
				cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
				cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
				cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
				cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
			},
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.hostIP},
				{Type: corev1.NodeHostName, Address: n.name},
			},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
			NodeInfo: corev1.NodeSystemInfo{
				MachineID:               n.name,
				SystemUUID:              n.name,
				BootID:                  n.name,
				KernelVersion:           "simulated",
				OSImage:                 "Strata simulated node",
				ContainerRuntimeVersion: "simulated://1.0.0",
				KubeletVersion:          version.GitVersion(),
				OperatingSystem:         "linux",
				Architecture:            runtime.GOARCH,
			},
		},
	}
}

// register creates or refreshes the Node and its Lease.
func (s *Simulator) register(ctx context.Context, n *node) error {
	want := s.nodeObject(n)
	got, err := s.client.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, err = s.client.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
		if err == nil {
			got.Labels, got.Spec.Taints, got.Spec.Unschedulable = want.Labels, want.Spec.Taints, false
			if got.Spec.PodCIDR == "" {
				got.Spec.PodCIDR, got.Spec.PodCIDRs = want.Spec.PodCIDR, want.Spec.PodCIDRs
			}
			got, err = s.client.CoreV1().Nodes().Update(ctx, got, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("registering node %s: %w", n.name, err)
	}
	want.Status.DeepCopyInto(&got.Status)
	if got, err = s.client.CoreV1().Nodes().UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("reporting the status of node %s: %w", n.name, err)
	}
	n.lease = kubeletnode.NewLease(s.client, n.name, leaseDurationSeconds*time.Second, nil)
	n.lease.SetOwner(got.UID)
	return s.renewLease(ctx, n)
}

// renewLease writes the node's Lease with a fresh renewTime, as a kubelet
// does (see kubelet/node.Lease).
func (s *Simulator) renewLease(ctx context.Context, n *node) error {
	err := n.lease.Renew(ctx)
	if err != nil && ctx.Err() == nil {
		klog.FromContext(ctx).Error(err, "Renewing the node lease", "node", n.name)
	}
	return err
}

func (s *Simulator) next(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	if err := s.sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			klog.FromContext(ctx).V(2).Info("Retrying pod", "pod", key, "err", err)
		}
		s.queue.AddRateLimited(key)
		return true
	}
	s.queue.Forget(key)
	return true
}

// sync moves one pod along.
func (s *Simulator) sync(ctx context.Context, key string) error {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	n, ok := s.nodes[pod.Spec.NodeName]
	if !ok {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		// Nothing runs: the containers are stopped at once.
		n.releaseIP(pod.UID)
		err := s.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		n.releaseIP(pod.UID)
		return nil
	}
	if isRunning(pod) {
		// Running already, maybe from before a restart: keep its address.
		n.remember(pod.UID, pod.Status.PodIP)
		return nil
	}
	running := RunningStatus(pod, n.hostIP, n.podIP(pod.UID), time.Now())
	update := pod.DeepCopy()
	update.Status = running
	_, err = s.client.CoreV1().Pods(ns).UpdateStatus(ctx, update, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func isRunning(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podIP hands out the next address of the node's /24 (.2 to .254,
// wrapping), the same one for the same pod.
func (n *node) podIP(uid types.UID) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ip, ok := n.podIPs[uid]; ok {
		return ip
	}
	for range 253 {
		ip := fmt.Sprintf("%s%d", n.cidrPre, n.nextIP)
		if n.nextIP++; n.nextIP > 254 {
			n.nextIP = 2
		}
		if !n.inUse(ip) {
			n.podIPs[uid] = ip
			return ip
		}
	}
	return n.cidrPre + "254"
}

func (n *node) inUse(ip string) bool {
	for _, used := range n.podIPs {
		if used == ip {
			return true
		}
	}
	return false
}

func (n *node) remember(uid types.UID, ip string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.podIPs[uid] = ip
}

func (n *node) releaseIP(uid types.UID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.podIPs, uid)
}

// RunningStatus is the status of pod once its containers run: phase
// Running, every condition True, containers running and ready, init
// containers completed.
func RunningStatus(pod *corev1.Pod, hostIP, podIP string, now time.Time) corev1.PodStatus {
	t := metav1.NewTime(now.Truncate(time.Second))
	st := pod.Status.DeepCopy()
	st.Phase = corev1.PodRunning
	st.HostIP, st.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	st.PodIP, st.PodIPs = podIP, []corev1.PodIP{{IP: podIP}}
	if st.StartTime == nil {
		st.StartTime = &t
	}
	if st.QOSClass == "" {
		st.QOSClass = corev1.PodQOSBestEffort
	}
	for _, ct := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		setCondition(st, corev1.PodCondition{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: t})
	}
	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "simulated://" + c.Image, ContainerID: "simulated://" + string(pod.UID) + "/" + c.Name}
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			cs.Ready, cs.Started = true, ptr.To(true)
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: t}
		} else {
			cs.Ready, cs.Started = true, ptr.To(false)
			cs.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: t, FinishedAt: t, ContainerID: cs.ContainerID}
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "simulated://" + c.Image,
			ContainerID: "simulated://" + string(pod.UID) + "/" + c.Name,
			Ready:       true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t}},
		})
	}
	return *st
}

// setCondition replaces the condition of the same type, keeping its
// transition time if the status did not change, or appends it.
func setCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type != c.Type {
			continue
		}
		if st.Conditions[i].Status == c.Status {
			c.LastTransitionTime = st.Conditions[i].LastTransitionTime
		}
		st.Conditions[i] = c
		return
	}
	st.Conditions = append(st.Conditions, c)
}
