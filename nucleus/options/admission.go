package options

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	mutatingadmissionpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	validatingadmissionpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	webhookinitializer "k8s.io/apiserver/pkg/admission/plugin/webhook/initializer"
	mutatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/mutating"
	validatingwebhook "k8s.io/apiserver/pkg/admission/plugin/webhook/validating"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/strata-dev/strata/nucleus/admission/defaulttolerationseconds"
	"github.com/strata-dev/strata/nucleus/admission/limitranger"
	"github.com/strata-dev/strata/nucleus/admission/noderestriction"
	"github.com/strata-dev/strata/nucleus/admission/serviceaccount"
	"github.com/strata-dev/strata/nucleus/controllers"
	"github.com/strata-dev/strata/nucleus/quota"
	"github.com/strata-dev/strata/nucleus/serviceresolver"
)

// AdmissionPluginOrder is the admission chain, in upstream kube-apiserver's
// order. Mutating plugins run in this order, then validating ones.
var AdmissionPluginOrder = []string{
	lifecycle.PluginName,
	serviceaccount.PluginName,
	noderestriction.PluginName,
	limitranger.PluginName,
	defaulttolerationseconds.PluginName,
	mutatingadmissionpolicy.PluginName,
	mutatingwebhook.PluginName,
	validatingadmissionpolicy.PluginName,
	validatingwebhook.PluginName,
	resourcequota.PluginName,
}

// AdmissionOptions are the flags of the admission chain, audit logging and
// encryption at rest: what happens to a request after authorization and to
// the data once stored.
type AdmissionOptions struct {
	// Plugins is upstream's admission flags (--enable-admission-plugins,
	// --disable-admission-plugins, --admission-control-config-file) over the
	// nucleus' plugin registry.
	Plugins *genericoptions.AdmissionOptions
	// Audit is upstream's audit flags (--audit-policy-file,
	// --audit-log-path, --audit-log-maxage …).
	Audit *genericoptions.AuditOptions
	// EncryptionProviderConfig is an EncryptionConfiguration file
	// (--encryption-provider-config); empty stores data as is.
	EncryptionProviderConfig string
	// EncryptionProviderConfigAutomaticReload reloads that file when it
	// changes.
	EncryptionProviderConfigAutomaticReload bool

	// requireDefaultServiceAccount is read by the ServiceAccount plugin when
	// the chain is built: pods need their namespace's `default`
	// ServiceAccount only when the serviceaccount controller runs to create
	// it (it always does upstream).
	requireDefaultServiceAccount *bool
}

// NewAdmissionOptions returns the defaults: every plugin of the chain on.
func NewAdmissionOptions() AdmissionOptions {
	plugins := genericoptions.NewAdmissionOptions()
	requireDefaultServiceAccount := true
	serviceaccount.Register(plugins.Plugins, func() bool { return requireDefaultServiceAccount })
	noderestriction.Register(plugins.Plugins)
	limitranger.Register(plugins.Plugins)
	defaulttolerationseconds.Register(plugins.Plugins)
	resourcequota.Register(plugins.Plugins)
	plugins.RecommendedPluginOrder = slices.Clone(AdmissionPluginOrder)
	audit := genericoptions.NewAuditOptions()
	return AdmissionOptions{Plugins: plugins, Audit: audit, requireDefaultServiceAccount: &requireDefaultServiceAccount}
}

// AddFlags registers the flags.
func (a *AdmissionOptions) AddFlags(fs *pflag.FlagSet) {
	a.Plugins.AddFlags(fs)
	a.Audit.AddFlags(fs)
	fs.StringVar(&a.EncryptionProviderConfig, "encryption-provider-config", a.EncryptionProviderConfig,
		"The file containing configuration for encryption providers to be used for storing secrets in etcd (upstream EncryptionConfiguration: aesgcm, aescbc, secretbox, identity).")
	fs.BoolVar(&a.EncryptionProviderConfigAutomaticReload, "encryption-provider-config-automatic-reload", a.EncryptionProviderConfigAutomaticReload,
		"Reload the file set by --encryption-provider-config when it changes.")
}

// Validate checks the flags.
func (a *AdmissionOptions) Validate() error {
	errs := append(a.Plugins.Validate(), a.Audit.Validate()...)
	if a.EncryptionProviderConfigAutomaticReload && a.EncryptionProviderConfig == "" {
		errs = append(errs, fmt.Errorf("--encryption-provider-config-automatic-reload requires --encryption-provider-config"))
	}
	return errors.Join(errs...)
}

// applyEncryption points the etcd options at the encryption configuration;
// ApplyWithStorageFactoryTo then builds the transformers the core server's
// storage and (through the copied config) the custom resource server use.
func (a *AdmissionOptions) applyEncryption(etcd *genericoptions.EtcdOptions) {
	etcd.EncryptionProviderConfigFilepath = a.EncryptionProviderConfig
	etcd.EncryptionProviderConfigAutomaticReload = a.EncryptionProviderConfigAutomaticReload
}

// applyAdmission sets the admission chain and the audit backend of c.
// Webhooks named by a Service are called at one of its ready endpoints
// (nucleus/serviceresolver) with TLS server name <service>.<namespace>.svc.
func (o *Options) applyAdmission(c *genericapiserver.RecommendedConfig, client kubernetes.Interface, dynamicClient dynamic.Interface) error {
	a := o.Admission
	*a.requireDefaultServiceAccount = controllers.Enabled("serviceaccount", o.Controllers)
	if err := a.Audit.ApplyTo(&c.Config); err != nil {
		return fmt.Errorf("configuring audit: %w", err)
	}
	informers := c.SharedInformerFactory
	resolver := &serviceresolver.Resolver{
		Services:  informers.Core().V1().Services().Lister(),
		Slices:    informers.Discovery().V1().EndpointSlices().Lister(),
		Endpoints: informers.Core().V1().Endpoints().Lister(),
	}
	authWrapper := webhook.NewDefaultAuthenticationInfoResolverWrapper(nil, nil, c.LoopbackClientConfig, c.TracerProvider)
	initializers := []admission.PluginInitializer{
		webhookinitializer.NewPluginInitializer(authWrapper, resolver),
		// Admission only charges the object at hand; it lists nothing.
		quota.Initializer{Configuration: quota.NewConfiguration(nil)},
	}
	if err := a.Plugins.ApplyTo(&c.Config, informers, client, dynamicClient, utilfeature.DefaultFeatureGate, c.EffectiveVersion, initializers...); err != nil {
		return fmt.Errorf("configuring admission: %w", err)
	}
	return nil
}
