package options

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/authorization"
	"github.com/strata-dev/strata/nucleus/authorization/layers"
	"github.com/strata-dev/strata/nucleus/authorization/webhook"
)

// AuthorizationOptions are the flags of the authorization chain.
type AuthorizationOptions struct {
	// Default is the decision when no authorizer decides: "deny" or
	// "allow" (authenticated users only; development clusters only).
	Default string
	// LayersNamespace is where layer managers run; its ServiceAccounts get
	// the layer bootstrap grant.
	LayersNamespace string
	// WebhookCacheAuthorizedTTL and WebhookCacheUnauthorizedTTL are how
	// long webhook authorizers' answers are cached.
	WebhookCacheAuthorizedTTL   time.Duration
	WebhookCacheUnauthorizedTTL time.Duration
}

// NewAuthorizationOptions returns the defaults.
func NewAuthorizationOptions() AuthorizationOptions {
	return AuthorizationOptions{
		Default:                     "deny",
		LayersNamespace:             layers.DefaultNamespace,
		WebhookCacheAuthorizedTTL:   10 * time.Second,
		WebhookCacheUnauthorizedTTL: 10 * time.Second,
	}
}

// AddFlags registers the flags.
func (o *AuthorizationOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Default, "authorization-default", o.Default, "Decision when no authorizer decides: deny, or allow (every authenticated request is allowed; for single-user development clusters only).")
	fs.StringVar(&o.LayersNamespace, "layers-namespace", o.LayersNamespace, "Namespace where layer managers run. Its ServiceAccounts may do anything while no webhook authorizer is registered (the layer bootstrap rule).")
	fs.DurationVar(&o.WebhookCacheAuthorizedTTL, "authorization-webhook-cache-authorized-ttl", o.WebhookCacheAuthorizedTTL, "How long 'authorized' answers of webhook authorizers are cached.")
	fs.DurationVar(&o.WebhookCacheUnauthorizedTTL, "authorization-webhook-cache-unauthorized-ttl", o.WebhookCacheUnauthorizedTTL, "How long 'unauthorized' answers of webhook authorizers are cached.")
}

// Validate checks the flags.
func (o *AuthorizationOptions) Validate() error {
	if o.Default != "deny" && o.Default != "allow" {
		return fmt.Errorf("--authorization-default %q: must be deny or allow", o.Default)
	}
	if o.LayersNamespace != "" {
		if msgs := validation.IsDNS1123Label(o.LayersNamespace); len(msgs) > 0 {
			return fmt.Errorf("--layers-namespace %q: %v", o.LayersNamespace, msgs)
		}
	}
	if o.WebhookCacheAuthorizedTTL < 0 || o.WebhookCacheUnauthorizedTTL < 0 {
		return fmt.Errorf("webhook authorizer cache TTLs must not be negative")
	}
	return nil
}

// applyAuthorization sets the authorizer and rule resolver of c to the
// authorization chain.
func (o *Options) applyAuthorization(c *genericapiserver.RecommendedConfig) error {
	a := o.Authorization
	if a.Default == "allow" {
		klog.Warning("WARNING: --authorization-default=allow: EVERY AUTHENTICATED REQUEST IS ALLOWED. This is for single-user development clusters only; never use it on a shared cluster")
	}
	client, err := kubernetes.NewForConfig(c.LoopbackClientConfig)
	if err != nil {
		return err
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(clientgoscheme.Scheme, corev1.EventSource{Component: "strata-nucleus"})
	err = c.AddPostStartHook("strata-authorization-events", func(ctx genericapiserver.PostStartHookContext) error {
		go func() {
			<-ctx.Done()
			broadcaster.Shutdown()
		}()
		return nil
	})
	if err != nil {
		return err
	}
	chain, err := authorization.New(authorization.Config{
		DefaultAllow:    a.Default == "allow",
		LayersNamespace: a.LayersNamespace,
		Webhook: webhook.Options{
			AuthorizedTTL:   a.WebhookCacheAuthorizedTTL,
			UnauthorizedTTL: a.WebhookCacheUnauthorizedTTL,
			Recorder:        recorder,
		},
		Informers: c.SharedInformerFactory,
	})
	if err != nil {
		return fmt.Errorf("building the authorization chain: %w", err)
	}
	c.Authorization.Authorizer = chain
	c.RuleResolver = chain
	return nil
}
