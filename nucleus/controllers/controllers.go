// Package controllers runs the nucleus' control loops — the part of
// Kubernetes' architecture that kube-controller-manager holds — with
// client-go informers and work queues, as upstream's controllers are written.
// They run inside `strata nucleus` against its loopback connection; the
// --controllers flag chooses which.
package controllers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Context is what a controller is built from.
type Context struct {
	Client    kubernetes.Interface
	Metadata  metadata.Interface
	Discovery discovery.DiscoveryInterface
	// Informers is shared by all controllers; Run starts it after every
	// controller has registered its informers.
	Informers informers.SharedInformerFactory
	// RootCA is the PEM bundle clients in pods use to verify the API server.
	RootCA []byte
	// NodeMonitorGracePeriod is how long a node may go without a heartbeat
	// before it is considered unreachable (upstream's
	// --node-monitor-grace-period).
	NodeMonitorGracePeriod time.Duration
}

// NewContext builds a Context for the server at cfg.
func NewContext(cfg *rest.Config, rootCA []byte, nodeMonitorGracePeriod time.Duration) (Context, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Context{}, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return Context{}, err
	}
	return Context{
		Client:    client,
		Metadata:  meta,
		Discovery: client.Discovery(),
		Informers: informers.NewSharedInformerFactory(client, 0),
		RootCA:    rootCA,

		NodeMonitorGracePeriod: nodeMonitorGracePeriod,
	}, nil
}

// Controller is a running control loop.
type Controller interface {
	// Run works until ctx ends.
	Run(ctx context.Context)
}

// Descriptor names a controller and builds it.
type Descriptor struct {
	Name string
	New  func(Context) (Controller, error)
}

var (
	registryMu sync.Mutex
	registry   []Descriptor
)

// Register adds a controller to the set Run knows. Controller packages call
// it from init.
func Register(d Descriptor) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(registry, d)
}

// Known returns the registered controller names, sorted.
func Known() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	var names []string
	for _, d := range registry {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	return names
}

// Enabled reports whether name is selected by the --controllers list: "*"
// selects all, "foo" selects foo, "-foo" deselects it.
func Enabled(name string, selection []string) bool {
	if slices.Contains(selection, "-"+name) {
		return false
	}
	return slices.Contains(selection, name) || slices.Contains(selection, "*")
}

// ValidateSelection rejects names in selection that no controller has.
func ValidateSelection(selection []string) error {
	known := Known()
	var unknown []string
	for _, s := range selection {
		name := strings.TrimPrefix(s, "-")
		if name != "*" && !slices.Contains(known, name) {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown controllers %s; known: %s", strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return nil
}

// Run builds the selected controllers, starts the shared informers and runs
// the controllers until ctx ends.
func Run(ctx context.Context, c Context, selection []string) error {
	logger := klog.FromContext(ctx)
	registryMu.Lock()
	descriptors := slices.Clone(registry)
	registryMu.Unlock()

	var running []Controller
	var names []string
	for _, d := range descriptors {
		if !Enabled(d.Name, selection) {
			continue
		}
		ctrl, err := d.New(c)
		if err != nil {
			return fmt.Errorf("building the %s controller: %w", d.Name, err)
		}
		running = append(running, ctrl)
		names = append(names, d.Name)
	}
	c.Informers.Start(ctx.Done())
	for i, ctrl := range running {
		logger.Info("Starting controller", "controller", names[i])
		go ctrl.Run(klog.NewContext(ctx, klog.LoggerWithName(logger, names[i])))
	}
	return nil
}

// ProcessQueue waits for the informers in synced, then runs workers
// goroutines that take keys from queue and sync them until ctx ends: a key
// whose sync fails is retried with the queue's rate limiter, one that
// succeeds is forgotten. It shuts the queue down when it returns.
func ProcessQueue[T comparable](ctx context.Context, name string, queue workqueue.TypedRateLimitingInterface[T], workers int, sync func(context.Context, T) error, synced ...cache.InformerSynced) {
	defer utilruntime.HandleCrash()
	defer queue.ShutDown()
	if !cache.WaitForNamedCacheSync(name, ctx.Done(), synced...) {
		return
	}
	for range workers {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for processNext(ctx, queue, sync) {
			}
		}, time.Second)
	}
	<-ctx.Done()
}

func processNext[T comparable](ctx context.Context, queue workqueue.TypedRateLimitingInterface[T], sync func(context.Context, T) error) bool {
	key, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(key)
	if err := sync(ctx, key); err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Sync failed; retrying", "key", key)
		queue.AddRateLimited(key)
		return true
	}
	queue.Forget(key)
	return true
}
