// Package serviceaccount is the ServiceAccount admission plugin: it assigns
// the `default` ServiceAccount to pods that name none and mounts a projected
// volume with a bound ServiceAccount token, the cluster CA bundle and the
// namespace into every container, as upstream.
package serviceaccount

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/ptr"
)

const (
	// PluginName is the plugin's name in the chain.
	PluginName = "ServiceAccount"
	// DefaultServiceAccountName is assigned to pods that name none.
	DefaultServiceAccountName = "default"
	// DefaultAPITokenMountPath is where the token volume is mounted.
	DefaultAPITokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// RootCAConfigMap holds the cluster CA bundle in every namespace.
	RootCAConfigMap = "kube-root-ca.crt"
	// TokenExpirationSeconds is the lifetime kubelets ask for the token:
	// an hour and a few seconds, so it can be told apart from user tokens.
	TokenExpirationSeconds = 3607
	// volumePrefix starts the name of the token volume.
	volumePrefix = "kube-api-access-"
)

// Register adds the plugin to plugins. requireDefault, read when the chain
// is built, says whether the `default` ServiceAccount must exist (see
// Plugin.RequireDefaultServiceAccount); nil means it must, as upstream.
func Register(plugins *admission.Plugins, requireDefault func() bool) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		p := New()
		if requireDefault != nil {
			p.RequireDefaultServiceAccount = requireDefault()
		}
		return p, nil
	})
}

// Plugin is the ServiceAccount admission plugin.
type Plugin struct {
	*admission.Handler
	// RequireDefaultServiceAccount rejects pods of namespaces without a
	// `default` ServiceAccount, as upstream (the serviceaccount controller
	// creates it in every namespace). When off, a pod without a
	// serviceAccountName is admitted without one existing.
	RequireDefaultServiceAccount bool
	// defaultAttempts is how many times a missing `default` ServiceAccount
	// is looked up before giving up: the controller may be about to create
	// it in a namespace made a moment ago.
	defaultAttempts int
	retryInterval   func() time.Duration

	client   kubernetes.Interface
	lister   corelisters.ServiceAccountLister
	synced   func() bool
	volumeID func() string
}

var (
	_ admission.MutationInterface                  = &Plugin{}
	_ admission.ValidationInterface                = &Plugin{}
	_ initializer.WantsExternalKubeClientSet       = &Plugin{}
	_ initializer.WantsExternalKubeInformerFactory = &Plugin{}
)

// New returns the plugin; the client and informers come from initializers.
func New() *Plugin {
	return &Plugin{
		Handler:                      admission.NewHandler(admission.Create),
		RequireDefaultServiceAccount: true,
		defaultAttempts:              10,
		retryInterval:                func() time.Duration { return time.Duration(100+rand.Intn(100)) * time.Millisecond },
		volumeID:                     func() string { return rand.String(5) },
	}
}

// SetExternalKubeClientSet is for live lookups of ServiceAccounts.
func (p *Plugin) SetExternalKubeClientSet(c kubernetes.Interface) { p.client = c }

// SetExternalKubeInformerFactory sets the ServiceAccount lister.
func (p *Plugin) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	sa := f.Core().V1().ServiceAccounts()
	p.lister = sa.Lister()
	p.synced = sa.Informer().HasSynced
	p.SetReadyFunc(sa.Informer().HasSynced)
}

// ValidateInitialization checks the plugin got its dependencies.
func (p *Plugin) ValidateInitialization() error {
	if p.client == nil {
		return fmt.Errorf("missing client")
	}
	if p.lister == nil {
		return fmt.Errorf("missing service account lister")
	}
	return nil
}

func podOf(a admission.Attributes) (*corev1.Pod, bool) {
	if a.GetResource().GroupResource() != (schema.GroupResource{Resource: "pods"}) || a.GetSubresource() != "" {
		return nil, false
	}
	pod, ok := a.GetObject().(*corev1.Pod)
	return pod, ok
}

func isMirrorPod(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]
	return ok
}

// Admit assigns the ServiceAccount and mounts its token.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok || isMirrorPod(pod) {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
	}
	sa, err := p.serviceAccount(ctx, a.GetNamespace(), pod.Spec.ServiceAccountName)
	if err != nil {
		if !apierrors.IsNotFound(err) || pod.Spec.ServiceAccountName != DefaultServiceAccountName || p.RequireDefaultServiceAccount {
			return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.GetNamespace(), pod.Spec.ServiceAccountName, err))
		}
		sa = nil
	}
	if ShouldAutomount(sa, pod) {
		MountToken(pod, volumePrefix+p.volumeID())
	}
	return nil
}

// Validate refuses mirror pods that reference ServiceAccounts, Secrets or
// ConfigMaps, and pods whose ServiceAccount does not exist.
func (p *Plugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok {
		return nil
	}
	if isMirrorPod(pod) {
		if err := validateMirrorPod(pod); err != nil {
			return admission.NewForbidden(a, err)
		}
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		return admission.NewForbidden(a, fmt.Errorf("no service account specified for pod %s/%s", a.GetNamespace(), pod.Name))
	}
	return nil
}

// validateMirrorPod keeps static pods away from API credentials.
func validateMirrorPod(pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName != "" {
		return fmt.Errorf("a mirror pod may not reference service accounts")
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.Secret != nil:
			return fmt.Errorf("a mirror pod may not reference secrets")
		case v.ConfigMap != nil:
			return fmt.Errorf("a mirror pod may not reference configmaps")
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				switch {
				case s.Secret != nil:
					return fmt.Errorf("a mirror pod may not reference secrets")
				case s.ConfigMap != nil:
					return fmt.Errorf("a mirror pod may not reference configmaps")
				case s.ServiceAccountToken != nil:
					return fmt.Errorf("a mirror pod may not use ServiceAccountToken volume projections")
				}
			}
		}
	}
	return nil
}

// serviceAccount reads a ServiceAccount from the cache, then from the
// server: a ServiceAccount created a moment ago may not be cached yet.
func (p *Plugin) serviceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	if p.synced == nil || p.synced() {
		sa, err := p.lister.ServiceAccounts(namespace).Get(name)
		if err == nil {
			return sa, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	attempts := 1
	if name == DefaultServiceAccountName {
		attempts = p.defaultAttempts
	}
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(p.retryInterval()):
			}
		}
		sa, err := p.client.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			return sa, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)
}

// ShouldAutomount is the pod's automountServiceAccountToken if set, else the
// ServiceAccount's, else true.
func ShouldAutomount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// MountToken adds the token volume (named name unless the pod already has
// one) and mounts it read-only into every container and init container that
// has nothing mounted at the token path yet.
func MountToken(pod *corev1.Pod, name string) {
	needed := false
	mount := func(cs []corev1.Container) {
		for i := range cs {
			if hasMountAt(cs[i].VolumeMounts, DefaultAPITokenMountPath) {
				continue
			}
			needed = true
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: DefaultAPITokenMountPath})
		}
	}
	for _, v := range pod.Spec.Volumes {
		if isTokenVolume(v) {
			name = v.Name
		}
	}
	mount(pod.Spec.InitContainers)
	mount(pod.Spec.Containers)
	if !needed {
		return
	}
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			return
		}
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, TokenVolume(name))
}

func hasMountAt(mounts []corev1.VolumeMount, path string) bool {
	for _, m := range mounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// isTokenVolume recognises a token volume this plugin added earlier.
func isTokenVolume(v corev1.Volume) bool {
	return len(v.Name) == len(volumePrefix)+5 && v.Name[:len(volumePrefix)] == volumePrefix && v.Projected != nil
}

// TokenVolume is upstream's projected ServiceAccount volume.
func TokenVolume(name string) corev1.Volume {
	return corev1.Volume{
		Name: name,
		VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			DefaultMode: ptr.To[int32](corev1.ProjectedVolumeSourceDefaultMode),
			Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
					ExpirationSeconds: ptr.To[int64](TokenExpirationSeconds),
					Path:              "token",
				}},
				{ConfigMap: &corev1.ConfigMapProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMap},
					Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
				}},
				{DownwardAPI: &corev1.DownwardAPIProjection{
					Items: []corev1.DownwardAPIVolumeFile{{
						Path:     "namespace",
						FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
					}},
				}},
			},
		}},
	}
}
