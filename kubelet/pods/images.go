package pods

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	crierrors "k8s.io/cri-api/pkg/errors"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/cri"
)

// Credentials finds the registry credentials to pull an image for a pod
// (its imagePullSecrets, the node's). Each is tried in turn; none means an
// anonymous pull.
type Credentials interface {
	PullCredentials(ctx context.Context, pod *corev1.Pod, image string) ([]*runtimeapi.AuthConfig, error)
}

// imagePuller makes sure a container's image is present, with
// imagePullPolicy's semantics and a back-off per pod and image, reporting
// upstream's events (Pulling, Pulled, Failed, BackOff, ErrImageNeverPull).
type imagePuller struct {
	runtime     cri.ImageService
	backoff     *Backoff
	credentials Credentials
	events      *eventSink
	clock       interface{ Now() time.Time }
	handler     string

	mu sync.Mutex
	// lastErrors says why the last pull of each back-off key failed.
	lastErrors map[string]string
}

// ensureImage returns the image's reference once it is present, or why it
// is not.
func (p *imagePuller) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container, sandbox *runtimeapi.PodSandboxConfig) (string, *StartFailure) {
	log := klog.FromContext(ctx)
	image, err := applyDefaultTag(c.Image)
	if err != nil {
		msg := fmt.Sprintf("Failed to apply default image tag %q: %v", c.Image, err)
		p.events.container(pod, c, corev1.EventTypeWarning, "InspectFailed", "Pull", msg)
		return "", &StartFailure{Reason: ErrInvalidImageName, Message: msg}
	}
	spec := &runtimeapi.ImageSpec{Image: image, UserSpecifiedImage: c.Image, RuntimeHandler: p.handler, Annotations: pod.Annotations}

	resp, err := p.runtime.ImageStatus(ctx, spec, false)
	if err != nil {
		msg := fmt.Sprintf("Failed to inspect image %q: %v", c.Image, cri.Message(err))
		p.events.container(pod, c, corev1.EventTypeWarning, "InspectFailed", "Pull", msg)
		return "", &StartFailure{Reason: ErrImageInspect, Message: msg}
	}
	present := resp.GetImage() != nil
	if !shouldPull(c.ImagePullPolicy, present) {
		if present {
			p.events.container(pod, c, corev1.EventTypeNormal, "Pulled", "Pull", fmt.Sprintf("Container image %q already present on machine", c.Image))
			return imageRef(resp.GetImage()), nil
		}
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		p.events.container(pod, c, corev1.EventTypeWarning, "ErrImageNeverPull", "Pull", msg)
		return "", &StartFailure{Reason: ErrImageNeverPull, Message: msg}
	}

	key := fmt.Sprintf("%s_%s", pod.UID, image)
	if p.backoff.IsInBackOffSinceUpdate(key, p.clock.Now()) {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		p.events.container(pod, c, corev1.EventTypeNormal, "BackOff", "Pull", msg)
		if last := p.lastError(key); last != "" {
			msg += ": " + last
		}
		return "", &StartFailure{Reason: ErrImagePullBackOff, Message: msg}
	}

	p.events.container(pod, c, corev1.EventTypeNormal, "Pulling", "Pull", fmt.Sprintf("Pulling image %q", c.Image))
	start := p.clock.Now()
	ref, err := p.pull(ctx, pod, spec, sandbox)
	if err != nil {
		log.V(1).Info("Pulling image failed", "image", c.Image, "err", err)
		p.backoff.Next(key, p.clock.Now())
		failure := pullFailure(c.Image, err)
		p.events.container(pod, c, corev1.EventTypeWarning, "Failed", "Pull", fmt.Sprintf("Failed to pull image %q: %s", c.Image, failure.Message))
		p.setLastError(key, failure.Error())
		return "", failure
	}
	p.events.container(pod, c, corev1.EventTypeNormal, "Pulled", "Pull", fmt.Sprintf("Successfully pulled image %q in %v", c.Image, p.clock.Now().Sub(start)))
	p.backoff.GC()
	p.setLastError(key, "")
	return ref, nil
}

func (p *imagePuller) lastError(key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErrors[key]
}

func (p *imagePuller) setLastError(key, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg == "" {
		delete(p.lastErrors, key)
		return
	}
	if p.lastErrors == nil {
		p.lastErrors = map[string]string{}
	}
	p.lastErrors[key] = msg
}

// pullFailure classifies a failed pull as upstream: the registry being
// unavailable or a signature not validating have their own reasons,
// anything else is ErrImagePull with the runtime's error.
func pullFailure(image string, err error) *StartFailure {
	msg := err.Error()
	if m := cri.Message(err); strings.HasPrefix(m, crierrors.ErrRegistryUnavailable.Error()) {
		return &StartFailure{Reason: crierrors.ErrRegistryUnavailable, Message: fmt.Sprintf("image pull failed for %s because the registry is unavailable%s",
			image, strings.TrimPrefix(m, crierrors.ErrRegistryUnavailable.Error()))}
	} else if strings.HasPrefix(m, crierrors.ErrSignatureValidationFailed.Error()) {
		return &StartFailure{Reason: crierrors.ErrSignatureValidationFailed, Message: fmt.Sprintf("image pull failed for %s because the signature validation failed%s",
			image, strings.TrimPrefix(m, crierrors.ErrSignatureValidationFailed.Error()))}
	}
	return &StartFailure{Reason: ErrImagePull, Message: msg}
}

// pull pulls with each credential in turn, anonymously without any.
func (p *imagePuller) pull(ctx context.Context, pod *corev1.Pod, spec *runtimeapi.ImageSpec, sandbox *runtimeapi.PodSandboxConfig) (string, error) {
	var auths []*runtimeapi.AuthConfig
	if p.credentials != nil {
		var err error
		if auths, err = p.credentials.PullCredentials(ctx, pod, spec.Image); err != nil {
			return "", fmt.Errorf("finding credentials: %w", err)
		}
	}
	if len(auths) == 0 {
		return p.runtime.PullImage(ctx, spec, nil, sandbox)
	}
	var lastErr error
	for _, auth := range auths {
		ref, err := p.runtime.PullImage(ctx, spec, auth, sandbox)
		if err == nil {
			return ref, nil
		}
		lastErr = err
	}
	return "", lastErr
}

// shouldPull applies imagePullPolicy.
func shouldPull(policy corev1.PullPolicy, present bool) bool {
	switch policy {
	case corev1.PullNever:
		return false
	case corev1.PullAlways:
		return true
	default:
		return !present
	}
}

// imageRef is how an image is named to create containers from it.
func imageRef(img *runtimeapi.Image) string {
	if img.GetId() != "" {
		return img.GetId()
	}
	if len(img.GetRepoDigests()) > 0 {
		return img.GetRepoDigests()[0]
	}
	if len(img.GetRepoTags()) > 0 {
		return img.GetRepoTags()[0]
	}
	return ""
}

// applyDefaultTag adds ":latest" to an image without a tag or digest,
// keeping the name as it is (not "docker.io/library/…").
func applyDefaultTag(image string) (string, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", fmt.Errorf("couldn't parse image name %q: %w", image, err)
	}
	_, tagged := named.(reference.Tagged)
	_, digested := named.(reference.Digested)
	if !tagged && !digested {
		return image + ":latest", nil
	}
	return image, nil
}
