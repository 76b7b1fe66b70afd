// Package static runs static pods: pods defined by manifest files in a
// directory of the node (upstream's --pod-manifest-path, e.g.
// /etc/kubernetes/manifests) rather than by the API.
//
// Upstream's kubelet runs static pods itself and only mirrors them into
// the API, read-only, as mirror pods. Strata's pods controller runs what
// the API binds to its node, so here the mirror pod is how a static pod
// runs: the Source keeps one mirror pod per manifest in the API and the
// pods controller runs it. A static pod therefore needs the nucleus to be
// reachable to start (once started, its containers run on without it).
// As upstream, the mirror pod is created when missing and created again
// when deleted, replaced when the manifest changes (its hash differs), and
// deleted when the manifest goes. Given the Source as its StaticPods, the
// pods controller runs a mirror pod under the static pod's UID and keeps it
// running while its mirror pod is deleted and created again (kubectl
// delete on a mirror pod does not restart the static pod).
package static

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// Defaults of Config.
const (
	// DefaultInterval is how often the manifests are read, as upstream's
	// fileCheckFrequency.
	DefaultInterval = 20 * time.Second
	// nodeRetry is how soon mirror pods are tried again when the Node is
	// not registered yet.
	nodeRetry = time.Second
)

// Config configures the static pod source of a node.
type Config struct {
	// Client reads the node's pods and its Node and creates and deletes
	// mirror pods (a node's credentials suffice).
	Client kubernetes.Interface
	// NodeName is the node.
	NodeName string
	// ManifestDir holds the manifests; empty means no static pods (mirror
	// pods left from earlier are deleted).
	ManifestDir string
	// Interval is how often ManifestDir is read (DefaultInterval when
	// zero). Changes of mirror pods in the API are acted on at once.
	Interval time.Duration
	// Clock tells the time of kubernetes.io/config.seen (the real one when
	// nil).
	Clock clock.PassiveClock
}

// Source keeps the mirror pods of the static pods in the API. It
// implements pods.StaticPods.
type Source struct {
	cfg     Config
	factory informers.SharedInformerFactory
	pods    corelisters.PodLister
	synced  cache.InformerSynced
	trigger chan struct{}

	mu sync.Mutex
	// scanned says the manifests were read once; defined are the hashes of
	// the static pods they define.
	scanned bool
	defined map[string]bool
	// seen is when each static pod was first seen.
	seen map[string]time.Time
	// errors are the last errors of the manifests, to log changes only.
	errors map[string]string
}

// New builds the source; Run runs it.
func New(cfg Config) *Source {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	s := &Source{cfg: cfg, trigger: make(chan struct{}, 1), seen: map[string]time.Time{}, errors: map[string]string{}}
	if cfg.ManifestDir == "" {
		s.scanned = true
	}
	return s
}

// HasStaticPod implements pods.StaticPods. Until the manifests were read
// once every static pod may still be defined. A nil Source defines none.
func (s *Source) HasStaticPod(hash string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.scanned || s.defined[hash]
}

// Run keeps the mirror pods in line with the manifests until ctx ends.
func (s *Source) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	if s.cfg.Client == nil {
		return errors.New("static pods: no client")
	}
	if s.cfg.NodeName == "" {
		return errors.New("static pods: no node name")
	}
	log := klog.FromContext(ctx).WithValues("node", s.cfg.NodeName, "manifestDir", s.cfg.ManifestDir)
	ctx = klog.NewContext(ctx, log)

	s.factory = informers.NewSharedInformerFactoryWithOptions(s.cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", s.cfg.NodeName).String()
		}))
	informer := s.factory.Core().V1().Pods()
	s.pods = informer.Lister()
	s.synced = informer.Informer().HasSynced
	if _, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { s.poke() },
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(*corev1.Pod)
			c, ok2 := cur.(*corev1.Pod)
			// Status updates need nothing.
			if !ok1 || !ok2 || c.DeletionTimestamp != nil || o.Annotations[ConfigMirrorAnnotation] != c.Annotations[ConfigMirrorAnnotation] {
				s.poke()
			}
		},
		DeleteFunc: func(any) { s.poke() },
	}); err != nil {
		return err
	}

	log.Info("Starting static pod source")
	s.factory.Start(ctx.Done())
	defer s.factory.Shutdown()
	if !cache.WaitForNamedCacheSync("static pods", ctx.Done(), s.synced) {
		return nil
	}
	ticker := time.NewTicker(s.cfg.Interval)
	defer ticker.Stop()
	for {
		if retry := s.sync(ctx); retry {
			time.AfterFunc(nodeRetry, s.poke)
		}
		select {
		case <-ctx.Done():
			log.Info("Stopping static pod source")
			return nil
		case <-ticker.C:
		case <-s.trigger:
		}
	}
}

func (s *Source) poke() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// sync reads the manifests and brings the mirror pods in line. It says
// whether to try again soon (the Node is not there yet).
func (s *Source) sync(ctx context.Context) bool {
	log := klog.FromContext(ctx)
	static, err := s.readManifests(ctx)
	if err != nil {
		log.Error(err, "Reading static pod manifests failed")
		return false
	}
	all, err := s.pods.List(labels.Everything())
	if err != nil {
		log.Error(err, "Listing the node's pods failed")
		return false
	}
	var existing []*corev1.Pod
	for _, p := range all {
		if p.Spec.NodeName == s.cfg.NodeName {
			existing = append(existing, p)
		}
	}
	plan := PlanMirrorPods(static, existing)
	for _, p := range plan.Conflicts {
		log.V(1).Info("A pod that is not a mirror pod has the name of a static pod", "pod", klog.KObj(p))
	}
	for _, m := range plan.Delete {
		s.deleteMirrorPod(ctx, m)
	}
	if len(plan.Create) == 0 {
		return false
	}
	node, err := s.cfg.Client.CoreV1().Nodes().Get(ctx, s.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		log.V(1).Info("Not creating mirror pods until the node is registered", "err", err)
		return true
	}
	if node.DeletionTimestamp != nil {
		log.V(1).Info("Not creating mirror pods: the node is being deleted")
		return false
	}
	for _, p := range plan.Create {
		s.createMirrorPod(ctx, p, node)
	}
	return false
}

// readManifests reads the static pods and records which are defined.
func (s *Source) readManifests(ctx context.Context) ([]*corev1.Pod, error) {
	log := klog.FromContext(ctx)
	var manifests []Manifest
	if s.cfg.ManifestDir != "" {
		var err error
		if manifests, err = ReadManifests(s.cfg.ManifestDir, s.cfg.NodeName); err != nil {
			// What was defined stays so; nothing is known before.
			s.mu.Lock()
			s.scanned = true
			s.mu.Unlock()
			return nil, err
		}
	}
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var static []*corev1.Pod
	defined := map[string]bool{}
	errs := map[string]string{}
	for _, m := range manifests {
		if m.Err != nil {
			errs[m.Path] = m.Err.Error()
			if s.errors[m.Path] != m.Err.Error() {
				log.Error(m.Err, "Could not process manifest file", "path", m.Path)
			}
			continue
		}
		hash := m.Pod.Annotations[ConfigHashAnnotation]
		defined[hash] = true
		if _, ok := s.seen[hash]; !ok {
			s.seen[hash] = now
			log.V(1).Info("Found static pod", "pod", klog.KObj(m.Pod), "path", m.Path, "podUID", hash)
		}
		static = append(static, m.Pod)
	}
	for hash := range s.seen {
		if !defined[hash] {
			delete(s.seen, hash)
		}
	}
	s.defined, s.errors, s.scanned = defined, errs, true
	return static, nil
}

func (s *Source) seenAt(hash string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[hash]
}

// deleteMirrorPod deletes a mirror pod for good, as upstream: no grace
// period (the pods controller stops a static pod whose manifest is gone
// with its own grace period), and only this very pod.
func (s *Source) deleteMirrorPod(ctx context.Context, m *corev1.Pod) {
	log := klog.FromContext(ctx)
	log.V(1).Info("Deleting a mirror pod", "pod", klog.KObj(m), "podUID", m.UID)
	err := s.cfg.Client.CoreV1().Pods(m.Namespace).Delete(ctx, m.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      metav1.NewUIDPreconditions(string(m.UID)),
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Error(err, "Failed deleting a mirror pod", "pod", klog.KObj(m))
	}
}

func (s *Source) createMirrorPod(ctx context.Context, static *corev1.Pod, node *corev1.Node) {
	log := klog.FromContext(ctx)
	hash := static.Annotations[ConfigHashAnnotation]
	m := MirrorPod(static, node, s.seenAt(hash))
	log.V(1).Info("Creating a mirror pod for static pod", "pod", klog.KObj(m), "podUID", hash)
	_, err := s.cfg.Client.CoreV1().Pods(m.Namespace).Create(ctx, m, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		log.Error(fmt.Errorf("creating mirror pod: %w", err), "Failed creating a mirror pod", "pod", klog.KObj(m))
	}
}
