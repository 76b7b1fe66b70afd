// Package credentials finds the registry credentials to pull a pod's
// images, as upstream's kubelet does (pkg/credentialprovider and its
// secrets package): the pod's imagePullSecrets of types
// kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg, then the
// node's own credentials, matched to the image's registry by host (with
// wildcards such as *.example.com), port and path prefix, Docker Hub
// images also by index.docker.io.
package credentials

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/pods"
)

// Keyring implements pods.Credentials.
type Keyring struct {
	// Objects reads the pull secrets.
	Objects pods.ObjectGetter
	// Node are the node's own credentials (upstream's config.json in the
	// kubelet's directory; see ReadDockerConfigFile), tried after the
	// pod's.
	Node DockerConfig
	// Recorder records FailedToRetrieveImagePullSecret (none when nil).
	Recorder events.EventRecorder
}

var _ pods.Credentials = &Keyring{}

// New returns a Keyring reading pull secrets through objects.
func New(objects pods.ObjectGetter) *Keyring {
	return &Keyring{Objects: objects}
}

// PullCredentials implements pods.Credentials: the credentials of the
// pod's pull secrets matching image, then the node's. A pull secret that
// cannot be read is skipped with a warning event, as upstream; one that
// cannot be parsed fails the pull.
func (k *Keyring) PullCredentials(ctx context.Context, pod *corev1.Pod, image string) ([]*runtimeapi.AuthConfig, error) {
	secrets := k.pullSecrets(ctx, pod)
	configs, err := SecretConfigs(secrets)
	if err != nil {
		return nil, err
	}
	entries, err := Lookup(image, configs...)
	if err != nil {
		return nil, err
	}
	if len(k.Node) > 0 {
		node, err := Lookup(image, k.Node)
		if err != nil {
			return nil, err
		}
		entries = append(entries, node...)
	}
	auths := make([]*runtimeapi.AuthConfig, 0, len(entries))
	for _, e := range entries {
		auths = append(auths, &runtimeapi.AuthConfig{
			Username:      e.Username,
			Password:      e.Password,
			IdentityToken: e.IdentityToken,
			RegistryToken: e.RegistryToken,
		})
	}
	return auths, nil
}

// pullSecrets reads the pod's imagePullSecrets that can be read.
func (k *Keyring) pullSecrets(ctx context.Context, pod *corev1.Pod) []*corev1.Secret {
	var secrets []*corev1.Secret
	var failed []string
	for _, ref := range pod.Spec.ImagePullSecrets {
		if ref.Name == "" {
			continue
		}
		if k.Objects == nil {
			failed = append(failed, ref.Name)
			continue
		}
		s, err := k.Objects.GetSecret(ctx, pod.Namespace, ref.Name)
		if err != nil {
			klog.FromContext(ctx).Info("Unable to retrieve pull secret, the image pull may not succeed", "pod", klog.KObj(pod), "secret", klog.KRef(pod.Namespace, ref.Name), "err", err)
			failed = append(failed, ref.Name)
			continue
		}
		secrets = append(secrets, s)
	}
	if len(failed) > 0 && k.Recorder != nil {
		ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion}
		k.Recorder.Eventf(ref, nil, corev1.EventTypeWarning, "FailedToRetrieveImagePullSecret", "Pull",
			"Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(failed, ", "))
	}
	return secrets
}

// SecretConfigs reads the registry credentials of pull secrets: the
// .dockerconfigjson of kubernetes.io/dockerconfigjson Secrets and the
// .dockercfg of kubernetes.io/dockercfg ones; other Secrets have none.
func SecretConfigs(secrets []*corev1.Secret) ([]DockerConfig, error) {
	var configs []DockerConfig
	for _, s := range secrets {
		switch {
		case s.Type == corev1.SecretTypeDockerConfigJson && len(s.Data[corev1.DockerConfigJsonKey]) > 0:
			var cfg DockerConfigJSON
			if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
				return nil, fmt.Errorf("reading image pull secret %s/%s: %w", s.Namespace, s.Name, err)
			}
			configs = append(configs, cfg.Auths)
		case s.Type == corev1.SecretTypeDockercfg && len(s.Data[corev1.DockerConfigKey]) > 0:
			var cfg DockerConfig
			if err := json.Unmarshal(s.Data[corev1.DockerConfigKey], &cfg); err != nil {
				return nil, fmt.Errorf("reading image pull secret %s/%s: %w", s.Namespace, s.Name, err)
			}
			configs = append(configs, cfg)
		}
	}
	return configs, nil
}
