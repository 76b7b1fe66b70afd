// Package volumes is the kubelet's volume manager. It sets up the volumes
// of the pods of its node before they run (emptyDir, hostPath, configMap,
// secret, downwardAPI, projected with ServiceAccount tokens, and claims
// bound to hostPath or local PersistentVolumes), each in the pod's
// directory as upstream's plugins lay them out
// (<PodsDir>/<uid>/volumes/kubernetes.io~configmap/<name>), gives
// containers their mounts, keeps the content of configMap, secret,
// downwardAPI and projected volumes up to date, rotates tokens, and tears
// the volumes down once a pod is gone. It is the kubelet/pods worker's
// VolumeMounter, VolumeSetUpper and VolumeCleaner.
package volumes

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/pods"
)

// DefaultResyncInterval is how often volume contents are refreshed when
// Config names no interval.
const DefaultResyncInterval = 10 * time.Second

// Config configures the volume manager.
type Config struct {
	// Client reads ConfigMaps, Secrets, PersistentVolumeClaims and
	// PersistentVolumes and creates ServiceAccount tokens (TokenRequest).
	Client kubernetes.Interface
	// PodsDir holds the pods' directories (pods.DefaultPodsDir when empty).
	PodsDir string
	// Recorder records FailedMount events when refreshing a volume fails
	// (none when nil; failures to set volumes up are the pods worker's to
	// record).
	Recorder events.EventRecorder
	// Clock tells the time (the real one when nil).
	Clock clock.Clock
	// ResyncInterval is how often the content of configMap, secret,
	// downwardAPI and projected volumes is refreshed and tokens are checked
	// (DefaultResyncInterval when zero).
	ResyncInterval time.Duration

	// NodeAllocatable answers downward API resourceFieldRefs to limits a
	// container does not set, and bounds memory-backed volumes (optional).
	NodeAllocatable corev1.ResourceList
	// Env resolves containers' environments to expand subPathExpr. When nil,
	// literal values, fieldRefs, resourceFieldRefs, ConfigMaps and Secrets
	// through Client; pass the pods workers' EnvSource for service
	// variables too.
	Env pods.EnvSource
	// DisableTmpfs keeps memory-backed emptyDirs and secret, downwardAPI
	// and projected volumes on disk. Without root they are on disk anyway.
	DisableTmpfs bool
}

// Manager manages the volumes of a node's pods; New makes one.
type Manager struct {
	cfg    Config
	clock  clock.Clock
	tokens *tokenManager
	// tmpfs says whether memory-backed volumes are mounted, root whether
	// files can be given to fsGroup and fsUser.
	tmpfs, root bool

	mu   sync.Mutex
	pods map[types.UID]*podVolumes
}

var (
	_ pods.VolumeMounter  = &Manager{}
	_ pods.VolumeSetUpper = &Manager{}
	_ pods.VolumeCleaner  = &Manager{}
)

// podVolumes are the volumes of one pod set up so far.
type podVolumes struct {
	mu sync.Mutex
	// pod is the pod as last seen.
	pod *corev1.Pod
	// volumes are the volumes set up, by the pod's names.
	volumes map[string]*volume
	// gone says the pod was cleaned up.
	gone bool
}

// volume is a volume set up for a pod.
type volume struct {
	spec *corev1.Volume
	// name is how messages name it: the pod's name of the volume, or its
	// PersistentVolume's.
	name   string
	plugin string
	// path is where it is on the host.
	path string
	// readOnly volumes are mounted read-only whatever the volumeMount says.
	readOnly bool
	// relabel asks the runtime to relabel the volume for SELinux.
	relabel bool
}

// New returns a volume manager; Run keeps the volumes up to date.
func New(cfg Config) *Manager {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.PodsDir == "" {
		cfg.PodsDir = pods.DefaultPodsDir
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = DefaultResyncInterval
	}
	if cfg.Env == nil {
		cfg.Env = &pods.Environment{Objects: clientObjects{cfg.Client}, NodeAllocatable: cfg.NodeAllocatable}
	}
	root := os.Geteuid() == 0
	return &Manager{
		cfg:    cfg,
		clock:  cfg.Clock,
		tokens: newTokenManager(cfg.Client, cfg.Clock),
		tmpfs:  root && !cfg.DisableTmpfs,
		root:   root,
		pods:   map[types.UID]*podVolumes{},
	}
}

func (m *Manager) podVolumes(uid types.UID) *podVolumes {
	m.mu.Lock()
	defer m.mu.Unlock()
	pv, ok := m.pods[uid]
	if !ok {
		pv = &podVolumes{volumes: map[string]*volume{}}
		m.pods[uid] = pv
	}
	return pv
}

// SetUpVolumes sets up the volumes the pod's containers use that are not
// set up yet, and refreshes its downward API volumes when its labels or
// annotations changed. Its errors are a SetUpError for each volume that
// could not be set up and a ProcessError for those that could not be
// resolved, joined.
func (m *Manager) SetUpVolumes(ctx context.Context, pod *corev1.Pod) error {
	pv := m.podVolumes(pod.UID)
	pv.mu.Lock()
	defer pv.mu.Unlock()
	previous := pv.pod
	pv.pod, pv.gone = pod, false
	if previous != nil && (!maps.Equal(previous.Labels, pod.Labels) || !maps.Equal(previous.Annotations, pod.Annotations)) {
		m.refreshPod(ctx, pv, newObjects(m.cfg.Client), showsMetadata)
	}
	return m.setUpPod(ctx, pv)
}

// CleanupVolumes is Cleanup, for the pods worker.
func (m *Manager) CleanupVolumes(ctx context.Context, uid types.UID) error {
	return m.Cleanup(ctx, uid)
}

// Mounts sets the pod's volumes up (once) and returns the container's
// mounts: each volumeMount's volume, or its subPath (subPathExpr expanded
// with the container's environment), read-only when the volumeMount or
// the volume says so, with its propagation.
func (m *Manager) Mounts(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]*runtimeapi.Mount, error) {
	if err := m.SetUpVolumes(ctx, pod); err != nil {
		return nil, err
	}
	pv := m.podVolumes(pod.UID)
	pv.mu.Lock()
	defer pv.mu.Unlock()

	var env []pods.EnvVar
	envRead := false
	mounts := make([]*runtimeapi.Mount, 0, len(c.VolumeMounts))
	for _, vm := range c.VolumeMounts {
		v := pv.volumes[vm.Name]
		if v == nil {
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		hostPath, subPath := v.path, vm.SubPath
		if vm.SubPathExpr != "" {
			if !envRead {
				var err error
				if env, err = m.cfg.Env.Env(ctx, pod, c, podIPs(pod)); err != nil {
					return nil, err
				}
				envRead = true
			}
			var err error
			if subPath, err = expandSubPathExpr(vm.SubPathExpr, env); err != nil {
				return nil, err
			}
		}
		if subPath != "" {
			var err error
			if hostPath, err = prepareSubPath(v.path, subPath, c.Name, vm.Name); err != nil {
				klog.FromContext(ctx).V(1).Info("Preparing a subPath failed", "pod", klog.KObj(pod), "container", c.Name, "volume", vm.Name, "subPath", subPath, "err", err)
				return nil, err
			}
		}
		propagation, err := translatePropagation(vm.MountPropagation)
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, &runtimeapi.Mount{
			ContainerPath:     vm.MountPath,
			HostPath:          hostPath,
			Readonly:          vm.ReadOnly || v.readOnly,
			RecursiveReadOnly: vm.RecursiveReadOnly != nil && *vm.RecursiveReadOnly == corev1.RecursiveReadOnlyEnabled,
			SelinuxRelabel:    v.relabel,
			Propagation:       propagation,
		})
	}
	return mounts, nil
}

func podIPs(pod *corev1.Pod) []string {
	ips := make([]string, 0, len(pod.Status.PodIPs))
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	return ips
}

// Run refreshes the content of the pods' configMap, secret, downwardAPI
// and projected volumes every ResyncInterval, rotating tokens due for it,
// until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	log := klog.FromContext(ctx)
	log.Info("Starting volume manager", "resyncInterval", m.cfg.ResyncInterval)
	defer log.Info("Stopping volume manager")
	for {
		timer := m.clock.NewTimer(m.cfg.ResyncInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C():
		}
		m.refresh(ctx)
	}
}

// refresh rewrites the content volumes of every pod whose content changed.
func (m *Manager) refresh(ctx context.Context) {
	m.mu.Lock()
	list := make([]*podVolumes, 0, len(m.pods))
	for _, pv := range m.pods {
		list = append(list, pv)
	}
	m.mu.Unlock()
	objs := newObjects(m.cfg.Client)
	for _, pv := range list {
		if ctx.Err() != nil {
			return
		}
		pv.mu.Lock()
		if pv.pod != nil && !pv.gone {
			m.refreshPod(ctx, pv, objs, func(*volume) bool { return true })
		}
		pv.mu.Unlock()
	}
}

// refreshPod rewrites the pod's content volumes that which selects. A
// failure keeps the old content and is a FailedMount event, as upstream's
// remounts.
func (m *Manager) refreshPod(ctx context.Context, pv *podVolumes, objs *objects, which func(*volume) bool) {
	names := make([]string, 0, len(pv.volumes))
	for name := range pv.volumes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := pv.volumes[name]
		if !hasContent(v.spec) || !which(v) {
			continue
		}
		if err := m.writeContent(ctx, pv.pod, v, objs); err != nil {
			failure := &SetUpError{Volume: v.name, Err: err}
			klog.FromContext(ctx).V(1).Info("Refreshing a volume failed", "pod", klog.KObj(pv.pod), "volume", name, "err", err)
			m.event(pv.pod, failure.Error())
		}
	}
}

// Cleanup tears the pod's volumes down: it unmounts the tmpfs it mounted,
// removes <PodsDir>/<uid>/volumes (not crossing into what is still
// mounted) and forgets the pod and its tokens.
func (m *Manager) Cleanup(ctx context.Context, podUID types.UID) error {
	m.mu.Lock()
	pv := m.pods[podUID]
	delete(m.pods, podUID)
	m.mu.Unlock()
	if pv != nil {
		pv.mu.Lock()
		pv.gone = true
		pv.mu.Unlock()
	}
	m.tokens.forgetPod(podUID)

	dir := PodVolumesDir(m.cfg.PodsDir, podUID)
	plugins, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, plugin := range plugins {
		if !plugin.IsDir() {
			continue
		}
		vols, err := os.ReadDir(filepath.Join(dir, plugin.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, v := range vols {
			path := filepath.Join(dir, plugin.Name(), v.Name())
			if mounted, err := isMountPoint(path); err != nil || !mounted {
				continue
			}
			klog.FromContext(ctx).V(2).Info("Unmounting volume", "podUID", podUID, "path", path)
			if err := unmount(path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return removeAllOneFilesystem(dir)
}

// setUpPod sets up the volumes the pod's containers use that are not set
// up yet, as upstream's volume manager: volumes no container mounts are
// left alone.
func (m *Manager) setUpPod(ctx context.Context, pv *podVolumes) error {
	pod := pv.pod
	used := usedVolumes(pod)
	objs := newObjects(m.cfg.Client)
	var setUpErrs, processErrs []error
	var failed []string
	for i := range pod.Spec.Volumes {
		spec := &pod.Spec.Volumes[i]
		if !used[spec.Name] || pv.volumes[spec.Name] != nil {
			continue
		}
		v, err := m.setUp(ctx, pod, spec, objs)
		var pe *processError
		switch {
		case errors.As(err, &pe):
			processErrs = append(processErrs, pe.err)
			failed = append(failed, spec.Name)
		case err != nil:
			setUpErrs = append(setUpErrs, err)
		default:
			klog.FromContext(ctx).V(2).Info("Volume set up", "pod", klog.KObj(pod), "volume", spec.Name, "plugin", v.plugin, "path", v.path)
			pv.volumes[spec.Name] = v
		}
	}
	var errs []error
	if len(processErrs) > 0 {
		var unmounted []string
		for _, spec := range pod.Spec.Volumes {
			if used[spec.Name] && pv.volumes[spec.Name] == nil {
				unmounted = append(unmounted, spec.Name)
			}
		}
		sort.Strings(unmounted)
		sort.Strings(failed)
		errs = append(errs, &ProcessError{Unmounted: unmounted, Failed: failed, Errs: processErrs})
	}
	return errors.Join(append(errs, setUpErrs...)...)
}

// usedVolumes are the volumes the pod's containers mount or use as
// devices.
func usedVolumes(pod *corev1.Pod) map[string]bool {
	used := map[string]bool{}
	add := func(mounts []corev1.VolumeMount, devices []corev1.VolumeDevice) {
		for _, vm := range mounts {
			used[vm.Name] = true
		}
		for _, d := range devices {
			used[d.Name] = true
		}
	}
	for _, c := range pod.Spec.InitContainers {
		add(c.VolumeMounts, c.VolumeDevices)
	}
	for _, c := range pod.Spec.Containers {
		add(c.VolumeMounts, c.VolumeDevices)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		add(c.VolumeMounts, c.VolumeDevices)
	}
	return used
}

// hasContent tells whether the kubelet writes the volume's content.
func hasContent(spec *corev1.Volume) bool {
	s := &spec.VolumeSource
	return s.ConfigMap != nil || s.Secret != nil || s.DownwardAPI != nil || s.Projected != nil
}

// showsMetadata tells whether the volume shows the pod's metadata.
func showsMetadata(v *volume) bool {
	s := &v.spec.VolumeSource
	if s.DownwardAPI != nil {
		return true
	}
	if s.Projected != nil {
		for _, p := range s.Projected.Sources {
			if p.DownwardAPI != nil {
				return true
			}
		}
	}
	return false
}

// contentPlugin is the plugin of a volume whose content the kubelet
// writes.
func contentPlugin(spec *corev1.Volume) string {
	switch s := &spec.VolumeSource; {
	case s.ConfigMap != nil:
		return PluginConfigMap
	case s.Secret != nil:
		return PluginSecret
	case s.DownwardAPI != nil:
		return PluginDownwardAPI
	}
	return PluginProjected
}

// setUp sets one volume up.
func (m *Manager) setUp(ctx context.Context, pod *corev1.Pod, spec *corev1.Volume, objs *objects) (*volume, error) {
	s := &spec.VolumeSource
	switch {
	case s.EmptyDir != nil:
		v := &volume{spec: spec, name: spec.Name, plugin: PluginEmptyDir, relabel: true,
			path: VolumeDir(m.cfg.PodsDir, pod.UID, PluginEmptyDir, spec.Name)}
		if err := m.setUpEmptyDir(pod, v, s.EmptyDir); err != nil {
			return nil, &SetUpError{Volume: v.name, Err: err}
		}
		return v, nil
	case s.HostPath != nil:
		if err := checkHostPathType(s.HostPath.Path, s.HostPath.Type); err != nil {
			return nil, &SetUpError{Volume: spec.Name, Err: err}
		}
		return &volume{spec: spec, name: spec.Name, plugin: PluginHostPath, path: s.HostPath.Path}, nil
	case hasContent(spec):
		plugin := contentPlugin(spec)
		v := &volume{spec: spec, name: spec.Name, plugin: plugin, readOnly: true, relabel: true,
			path: VolumeDir(m.cfg.PodsDir, pod.UID, plugin, spec.Name)}
		// As upstream, secrets and what may hold them live in memory;
		// configMaps on disk.
		if err := m.makeVolumeDir(pod, v.path, plugin != PluginConfigMap, nil); err != nil {
			return nil, &SetUpError{Volume: v.name, Err: err}
		}
		if err := m.writeContent(ctx, pod, v, objs); err != nil {
			return nil, &SetUpError{Volume: v.name, Err: err}
		}
		return v, nil
	case s.PersistentVolumeClaim != nil, s.Ephemeral != nil:
		return m.setUpClaim(ctx, pod, spec)
	}
	return nil, &processError{noPlugin(spec.Name)}
}

func noPlugin(name string) error {
	return fmt.Errorf("failed to get Plugin from volumeSpec for volume %q err=no volume plugin matched", name)
}

// makeVolumeDir creates a volume's directory, open to all (0777) as
// upstream's emptyDir, with a tmpfs on it when inMemory and the kubelet
// may mount (not twice: a restarted kubelet finds it mounted).
func (m *Manager) makeVolumeDir(pod *corev1.Pod, path string, inMemory bool, sizeLimit *resource.Quantity) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	switch err := os.Mkdir(path, 0o777); {
	case err == nil:
		// Mkdir's mode went through the umask. One already there keeps its
		// mode (fsGroup's setgid bit).
		if err := os.Chmod(path, 0o777); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrExist):
		return err
	}
	if !inMemory || !m.tmpfs {
		return nil
	}
	mounted, err := isMountPoint(path)
	if err != nil || mounted {
		return err
	}
	var nodeMemory int64
	if q, ok := m.cfg.NodeAllocatable[corev1.ResourceMemory]; ok {
		nodeMemory = q.Value()
	}
	return mountTmpfs(path, tmpfsSize(pod, sizeLimit, nodeMemory))
}

// setUpEmptyDir creates an emptyDir: a directory, on a tmpfs for medium
// Memory, given to the pod's fsGroup when it is new.
func (m *Manager) setUpEmptyDir(pod *corev1.Pod, v *volume, src *corev1.EmptyDirVolumeSource) error {
	var inMemory bool
	switch src.Medium {
	case corev1.StorageMediumDefault:
	case corev1.StorageMediumMemory:
		inMemory = true
	default:
		return fmt.Errorf("emptyDir medium %q is not supported", src.Medium)
	}
	_, statErr := os.Stat(v.path)
	fresh := errors.Is(statErr, os.ErrNotExist)
	if err := m.makeVolumeDir(pod, v.path, inMemory, src.SizeLimit); err != nil {
		return err
	}
	if fresh {
		return m.setOwnership(pod, v.path, false)
	}
	return nil
}

// setOwnership gives a volume to the pod's fsGroup, when it has one and
// the kubelet may.
func (m *Manager) setOwnership(pod *corev1.Pod, path string, readOnly bool) error {
	psc := pod.Spec.SecurityContext
	if psc == nil || psc.FSGroup == nil || !m.root {
		return nil
	}
	return setOwnership(path, *psc.FSGroup, psc.FSGroupChangePolicy, readOnly)
}

// writeContent writes what a configMap, secret, downwardAPI or projected
// volume shows, when it changed.
func (m *Manager) writeContent(ctx context.Context, pod *corev1.Pod, v *volume, objs *objects) error {
	payload, err := m.payload(ctx, pod, v.spec, objs)
	if err != nil {
		return err
	}
	wrote, err := writeAtomically(v.path, payload, m.clock.Now(), func() error { return m.setOwnership(pod, v.path, true) })
	if wrote {
		klog.FromContext(ctx).V(3).Info("Wrote volume content", "pod", klog.KObj(pod), "volume", v.spec.Name)
	}
	return err
}

// payload is what a content volume shows now.
func (m *Manager) payload(ctx context.Context, pod *corev1.Pod, spec *corev1.Volume, objs *objects) (map[string]FileProjection, error) {
	s := &spec.VolumeSource
	switch {
	case s.ConfigMap != nil:
		return m.configMapPayload(ctx, pod, s.ConfigMap.Name, s.ConfigMap.Items, modeOr(s.ConfigMap.DefaultMode, defaultMode), s.ConfigMap.Optional, objs)
	case s.Secret != nil:
		return m.secretPayload(ctx, pod, s.Secret.SecretName, s.Secret.Items, modeOr(s.Secret.DefaultMode, defaultMode), s.Secret.Optional, objs)
	case s.DownwardAPI != nil:
		return downwardAPIPayload(s.DownwardAPI.Items, pod, modeOr(s.DownwardAPI.DefaultMode, defaultMode), m.cfg.NodeAllocatable)
	case s.Projected != nil:
		return m.projectedPayload(ctx, pod, s.Projected, objs)
	}
	return nil, fmt.Errorf("volume %q has no content", spec.Name)
}

func (m *Manager) configMapPayload(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, mode int32, optional *bool, objs *objects) (map[string]FileProjection, error) {
	opt := optional != nil && *optional
	cm, err := objs.configMap(ctx, pod.Namespace, name)
	if err != nil {
		if !apierrors.IsNotFound(err) || !opt {
			return nil, err
		}
		cm = &corev1.ConfigMap{}
	}
	return configMapPayload(items, cm, mode, opt)
}

func (m *Manager) secretPayload(ctx context.Context, pod *corev1.Pod, name string, items []corev1.KeyToPath, mode int32, optional *bool, objs *objects) (map[string]FileProjection, error) {
	opt := optional != nil && *optional
	secret, err := objs.secret(ctx, pod.Namespace, name)
	if err != nil {
		if !apierrors.IsNotFound(err) || !opt {
			return nil, err
		}
		secret = &corev1.Secret{}
	}
	return secretPayload(items, secret, mode, opt)
}

// projectedPayload gathers a projected volume's sources; the errors of all
// sources are reported together.
func (m *Manager) projectedPayload(ctx context.Context, pod *corev1.Pod, src *corev1.ProjectedVolumeSource, objs *objects) (map[string]FileProjection, error) {
	mode := modeOr(src.DefaultMode, defaultMode)
	payload := map[string]FileProjection{}
	var errs []error
	add := func(p map[string]FileProjection, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		maps.Copy(payload, p)
	}
	for _, source := range src.Sources {
		switch {
		case source.Secret != nil:
			add(m.secretPayload(ctx, pod, source.Secret.Name, source.Secret.Items, mode, source.Secret.Optional, objs))
		case source.ConfigMap != nil:
			add(m.configMapPayload(ctx, pod, source.ConfigMap.Name, source.ConfigMap.Items, mode, source.ConfigMap.Optional, objs))
		case source.DownwardAPI != nil:
			add(downwardAPIPayload(source.DownwardAPI.Items, pod, mode, m.cfg.NodeAllocatable))
		case source.ServiceAccountToken != nil:
			tp := source.ServiceAccountToken
			token, err := m.tokens.token(ctx, pod, tp)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			f := FileProjection{Data: []byte(token), Mode: mode}
			// The token is the pod's user's alone; fsGroup ownership opens
			// it to the group (0640).
			user := fsUser(pod)
			if user != nil || (pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.FSGroup != nil) {
				f.Mode = 0o600
			}
			if m.root {
				f.FsUser = user
			}
			payload[tp.Path] = f
		case source.ClusterTrustBundle != nil:
			if source.ClusterTrustBundle.Optional == nil || !*source.ClusterTrustBundle.Optional {
				errs = append(errs, fmt.Errorf("clusterTrustBundle projections are not supported by this kubelet"))
			}
		case source.PodCertificate != nil:
			errs = append(errs, fmt.Errorf("podCertificate projections are not supported by this kubelet"))
		}
	}
	if err := utilerrors.NewAggregate(errs); err != nil {
		return nil, err
	}
	return payload, nil
}

// setUpClaim resolves a persistentVolumeClaim or generic ephemeral volume
// to its PersistentVolume, as upstream's desired state of world populator,
// and sets up the PersistentVolume's hostPath or local volume.
func (m *Manager) setUpClaim(ctx context.Context, pod *corev1.Pod, spec *corev1.Volume) (*volume, error) {
	var claimName string
	var readOnly bool
	if src := spec.PersistentVolumeClaim; src != nil {
		claimName, readOnly = src.ClaimName, src.ReadOnly
	} else {
		claimName = pod.Name + "-" + spec.Name
	}
	processing := func(err error) error {
		return &processError{fmt.Errorf("error processing PVC %s/%s: %v", pod.Namespace, claimName, err)}
	}
	if m.cfg.Client == nil {
		return nil, processing(errors.New("failed to fetch PVC from API server: no client"))
	}
	pvc, err := m.cfg.Client.CoreV1().PersistentVolumeClaims(pod.Namespace).Get(ctx, claimName, metav1.GetOptions{})
	if err != nil {
		return nil, processing(fmt.Errorf("failed to fetch PVC from API server: %v", err))
	}
	if spec.Ephemeral != nil && !metav1.IsControlledBy(pvc, pod) {
		return nil, &processError{fmt.Errorf("PVC %s/%s was not created for pod %s/%s (pod is not owner)", pvc.Namespace, pvc.Name, pod.Namespace, pod.Name)}
	}
	switch {
	case pvc.DeletionTimestamp != nil:
		return nil, processing(errors.New("PVC is being deleted"))
	case pvc.Status.Phase != corev1.ClaimBound:
		return nil, processing(errors.New("PVC is not bound"))
	case pvc.Spec.VolumeName == "":
		return nil, processing(errors.New("PVC has empty pvc.Spec.VolumeName"))
	}
	pv, err := m.cfg.Client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	switch {
	case err != nil:
		return nil, processing(fmt.Errorf("failed to fetch PV %s from API server: %v", pvc.Spec.VolumeName, err))
	case pv.Spec.ClaimRef == nil:
		return nil, processing(fmt.Errorf("found PV object %s but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim", pv.Name))
	case pv.Spec.ClaimRef.UID != pvc.UID:
		return nil, processing(fmt.Errorf("found PV object %s but its pv.Spec.ClaimRef.UID %s does not point to claim.UID %s", pv.Name, pv.Spec.ClaimRef.UID, pvc.UID))
	case pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem:
		return nil, &processError{fmt.Errorf("volume %s has volumeMode %s, but is specified in volumeMounts", spec.Name, *pv.Spec.VolumeMode)}
	}
	switch {
	case pv.Spec.HostPath != nil:
		if err := checkHostPathType(pv.Spec.HostPath.Path, pv.Spec.HostPath.Type); err != nil {
			return nil, &SetUpError{Volume: pv.Name, Err: err}
		}
		return &volume{spec: spec, name: pv.Name, plugin: PluginHostPath, path: pv.Spec.HostPath.Path, readOnly: readOnly}, nil
	case pv.Spec.Local != nil:
		path := pv.Spec.Local.Path
		if _, err := os.Stat(path); err != nil {
			return nil, &SetUpError{Volume: pv.Name, Err: err}
		}
		if !readOnly {
			if err := m.setOwnership(pod, path, false); err != nil {
				return nil, &SetUpError{Volume: pv.Name, Err: err}
			}
		}
		return &volume{spec: spec, name: pv.Name, plugin: PluginLocal, path: path, readOnly: readOnly, relabel: true}, nil
	}
	return nil, &processError{noPlugin(pv.Name)}
}

// event records a FailedMount event about the pod.
func (m *Manager) event(pod *corev1.Pod, message string) {
	if m.cfg.Recorder == nil {
		return
	}
	ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion}
	m.cfg.Recorder.Eventf(ref, nil, corev1.EventTypeWarning, "FailedMount", "Mount", "%s", message)
}
