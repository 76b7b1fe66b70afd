// Package options holds the flags of `strata nucleus` and turns them into a
// server.Config.
package options

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	apiextensionsoptions "k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	apiextensionsopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/sets"
	apimachineryversion "k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/kube-openapi/pkg/common"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/nucleus/controllers"
	"github.com/strata-dev/strata/nucleus/generated/openapi"
	"github.com/strata-dev/strata/nucleus/kubeletclient"
	"github.com/strata-dev/strata/nucleus/pki"
	"github.com/strata-dev/strata/nucleus/scheme"
	"github.com/strata-dev/strata/nucleus/server"
	"github.com/strata-dev/strata/nucleus/version"
)

// Options are the nucleus' flags.
type Options struct {
	// DataDir holds the embedded etcd data, the PKI and admin.kubeconfig.
	DataDir string
	// BindAddress and SecurePort are where the API is served.
	BindAddress string
	SecurePort  int
	// AdvertiseAddress is the address written into admin.kubeconfig.
	AdvertiseAddress string
	// EtcdServers switches from the embedded etcd to an external cluster.
	EtcdServers []string
	// EtcdPrefix is the key prefix of all objects.
	EtcdPrefix string
	// ServiceClusterIPRange is where Service cluster IPs come from.
	ServiceClusterIPRange string
	// ServiceNodePortRange is where Service node ports come from.
	ServiceNodePortRange string
	// ExtraSANs are additional names for the serving certificate.
	ExtraSANs []string
	// Controllers selects the control loops run inside the nucleus.
	Controllers []string
	// NodeMonitorGracePeriod is how long a node may go without a heartbeat
	// before it is marked unreachable.
	NodeMonitorGracePeriod time.Duration
	// Authentication configures the authenticators.
	Authentication AuthenticationOptions
	// Authorization configures the authorization chain.
	Authorization AuthorizationOptions
	// Admission holds the admission chain, audit and encryption flags.
	Admission AdmissionOptions
	// KubeletPreferredAddressTypes orders the Node address types used to
	// reach kubelets.
	KubeletPreferredAddressTypes []string
	// ShutdownWatchTerminationGracePeriod is kube-apiserver's flag of that
	// name: when positive, watches end as soon as shutdown starts and the
	// server waits at most this long for them to drain. Zero (upstream's
	// default) leaves them open, and the server waits for their
	// connections up to the 60s request timeout.
	ShutdownWatchTerminationGracePeriod time.Duration
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		DataDir:                      "/var/lib/strata",
		BindAddress:                  "0.0.0.0",
		SecurePort:                   6443,
		AdvertiseAddress:             "127.0.0.1",
		EtcdPrefix:                   "/registry",
		ServiceClusterIPRange:        "10.96.0.0/12",
		ServiceNodePortRange:         "30000-32767",
		Controllers:                  []string{"*"},
		NodeMonitorGracePeriod:       40 * time.Second,
		Authentication:               NewAuthenticationOptions(),
		Authorization:                NewAuthorizationOptions(),
		Admission:                    NewAdmissionOptions(),
		KubeletPreferredAddressTypes: addressTypeNames(kubeletclient.DefaultPreferredAddressTypes),
	}
}

func addressTypeNames(types []corev1.NodeAddressType) []string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return names
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory for the embedded etcd data, the cluster PKI and admin.kubeconfig.")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "Address to serve the API on.")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "Port to serve HTTPS on.")
	fs.StringVar(&o.AdvertiseAddress, "advertise-address", o.AdvertiseAddress, "Address clients use to reach the API, written into admin.kubeconfig.")
	fs.StringSliceVar(&o.EtcdServers, "etcd-servers", o.EtcdServers, "External etcd servers (scheme://host:port, comma separated). Empty runs an embedded etcd in --data-dir. Several nucleus replicas pointed at the same cluster share one store.")
	fs.StringVar(&o.EtcdPrefix, "etcd-prefix", o.EtcdPrefix, "Key prefix of all objects in etcd.")
	fs.StringVar(&o.ServiceClusterIPRange, "service-cluster-ip-range", o.ServiceClusterIPRange, "CIDR range Service cluster IPs are allocated from.")
	fs.StringVar(&o.ServiceNodePortRange, "service-node-port-range", o.ServiceNodePortRange, "Port range Service node ports are allocated from.")
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers, "Control loops to run inside the nucleus: '*' runs all, 'foo' runs foo, '-foo' turns foo off. Known: "+strings.Join(controllers.Known(), ", ")+".")
	fs.DurationVar(&o.NodeMonitorGracePeriod, "node-monitor-grace-period", o.NodeMonitorGracePeriod, "How long a node may go without renewing its Lease before its Ready condition becomes Unknown and its pods are evicted after their toleration seconds.")
	fs.StringSliceVar(&o.ExtraSANs, "tls-san", o.ExtraSANs, "Extra DNS names or IPs for the serving certificate.")
	fs.StringSliceVar(&o.KubeletPreferredAddressTypes, "kubelet-preferred-address-types", o.KubeletPreferredAddressTypes, "Node address types to reach kubelets by, in order (for logs, exec, attach, port-forward and nodes/proxy).")
	fs.DurationVar(&o.ShutdownWatchTerminationGracePeriod, "shutdown-watch-termination-grace-period", o.ShutdownWatchTerminationGracePeriod, "When positive, watches end as soon as a shutdown starts and the server waits at most this long for them to drain; "+
		"zero (the default, as kube-apiserver's) leaves them open, so a shutdown waits for their clients' connections up to the 60s request timeout.")
	o.Authentication.AddFlags(fs)
	o.Authorization.AddFlags(fs)
	o.Admission.AddFlags(fs)
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if o.DataDir == "" {
		return fmt.Errorf("--data-dir is required")
	}
	if _, _, err := netutils.ParseCIDRSloppy(o.ServiceClusterIPRange); err != nil {
		return fmt.Errorf("--service-cluster-ip-range %q: %w", o.ServiceClusterIPRange, err)
	}
	if _, err := utilnet.ParsePortRange(o.ServiceNodePortRange); err != nil {
		return fmt.Errorf("--service-node-port-range %q: %w", o.ServiceNodePortRange, err)
	}
	if err := controllers.ValidateSelection(o.Controllers); err != nil {
		return fmt.Errorf("--controllers: %w", err)
	}
	if o.ShutdownWatchTerminationGracePeriod < 0 {
		return fmt.Errorf("--shutdown-watch-termination-grace-period %s is negative; use 0 to leave watches open on shutdown", o.ShutdownWatchTerminationGracePeriod)
	}
	if o.SecurePort < 0 || o.SecurePort > 65535 {
		return fmt.Errorf("--secure-port %d is not a port", o.SecurePort)
	}
	for _, t := range o.KubeletPreferredAddressTypes {
		switch corev1.NodeAddressType(t) {
		case corev1.NodeHostName, corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeInternalDNS, corev1.NodeExternalDNS:
		default:
			return fmt.Errorf("--kubelet-preferred-address-types: unknown address type %q", t)
		}
	}
	if err := o.Authentication.Validate(); err != nil {
		return err
	}
	if err := o.Authorization.Validate(); err != nil {
		return err
	}
	if err := o.Admission.Validate(); err != nil {
		return err
	}
	return nil
}

// PKIDir is where the cluster's certificates live.
func (o *Options) PKIDir() pki.Dir { return pki.Dir(filepath.Join(o.DataDir, "pki")) }

// AdminKubeconfig is the path of the admin kubeconfig.
func (o *Options) AdminKubeconfig() string { return filepath.Join(o.DataDir, "admin.kubeconfig") }

// ServerURL is the URL clients use.
func (o *Options) ServerURL(port int) string {
	return "https://" + net.JoinHostPort(o.AdvertiseAddress, strconv.Itoa(port))
}

// KubeletClientCertName names the nucleus' client certificate for kubelets
// in the PKI dir (kubelet-client.crt, kubelet-client.key).
const KubeletClientCertName = "kubelet-client"

// PreparePKI creates the CA, the serving certificate and the admin client
// certificate if they do not exist yet.
func (o *Options) PreparePKI() (*pki.CA, error) {
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir %s: %w", o.DataDir, err)
	}
	dir := o.PKIDir()
	ca, err := dir.EnsureCA()
	if err != nil {
		return nil, err
	}
	hosts := append([]string{"localhost", "127.0.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", o.AdvertiseAddress}, o.ExtraSANs...)
	if _, svcNet, err := netutils.ParseCIDRSloppy(o.ServiceClusterIPRange); err == nil {
		if ip, err := netutils.GetIndexedIP(svcNet, 1); err == nil {
			hosts = append(hosts, ip.String())
		}
	}
	if err := dir.EnsureServingCert(ca, "apiserver", hosts); err != nil {
		return nil, err
	}
	if err := dir.EnsureClientCert(ca, "admin", "strata-admin", []string{"system:masters"}); err != nil {
		return nil, err
	}
	// The nucleus' identity towards kubelets (logs, exec, port-forward).
	if err := dir.EnsureClientCert(ca, KubeletClientCertName, kubeletclient.ClientUser, nil); err != nil {
		return nil, err
	}
	return ca, nil
}

// Config builds the server configuration. etcdServers are the client URLs of
// the store (the embedded member's or --etcd-servers).
func (o *Options) Config(ctx context.Context, etcdServers []string) (*server.Config, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if _, err := o.PreparePKI(); err != nil {
		return nil, err
	}
	dir := o.PKIDir()
	rootCA, err := os.ReadFile(dir.CACertFile())
	if err != nil {
		return nil, err
	}

	genericConfig := genericapiserver.NewRecommendedConfig(scheme.Codecs)
	genericConfig.EffectiveVersion = effectiveVersion()
	genericConfig.FeatureGate = utilfeature.DefaultFeatureGate
	genericConfig.MergedResourceConfig = resourceConfig()
	genericConfig.ShutdownWatchTerminationGracePeriod = o.ShutdownWatchTerminationGracePeriod
	// Watches, proxies and the streams to kubelets outlive the request
	// timeout and the in-flight limits, as in kube-apiserver.
	genericConfig.LongRunningFunc = genericfilters.BasicLongRunningRequestCheck(
		sets.NewString("watch", "proxy"),
		sets.NewString("attach", "exec", "proxy", "log", "portforward"),
	)

	serving := genericoptions.NewSecureServingOptions().WithLoopback()
	serving.BindAddress = netutils.ParseIPSloppy(o.BindAddress)
	serving.BindPort = o.SecurePort
	serving.ServerCert.CertKey = genericoptions.CertKey{CertFile: dir.CertFile("apiserver"), KeyFile: dir.KeyFile("apiserver")}
	if err := serving.ApplyTo(&genericConfig.SecureServing, &genericConfig.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("configuring serving on %s:%d: %w", o.BindAddress, o.SecurePort, err)
	}

	// Clients of the server itself, through the privileged loopback
	// connection: informers for authenticators, authorizers and admission.
	client, err := kubernetes.NewForConfig(genericConfig.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	dynamicClient, err := dynamic.NewForConfig(genericConfig.LoopbackClientConfig)
	if err != nil {
		return nil, err
	}
	genericConfig.SharedInformerFactory = informers.NewSharedInformerFactory(client, 10*time.Minute)

	clientCA, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca", dir.CACertFile())
	if err != nil {
		return nil, err
	}
	genericConfig.SecureServing.ClientCA = clientCA
	authn, err := o.applyAuthentication(ctx, genericConfig, clientCA, client)
	if err != nil {
		return nil, err
	}
	if err := o.applyAuthorization(genericConfig); err != nil {
		return nil, err
	}
	genericapiserver.AuthorizeClientBearerToken(genericConfig.LoopbackClientConfig, &genericConfig.Authentication, &genericConfig.Authorization)

	namer := openapinamer.NewDefinitionNamer(scheme.External)
	genericConfig.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(definitions, namer)
	genericConfig.OpenAPIConfig.Info.Title = "Kubernetes"
	genericConfig.OpenAPIConfig.Info.Version = version.Kubernetes
	genericConfig.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(definitions, namer)
	genericConfig.OpenAPIV3Config.Info.Title = "Kubernetes"
	genericConfig.OpenAPIV3Config.Info.Version = version.Kubernetes
	genericConfig.AggregatedDiscoveryGroupManager = aggregated.NewResourceManager("apis")

	etcdOptions := genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig(o.EtcdPrefix, nil))
	etcdOptions.StorageConfig.Transport.ServerList = etcdServers
	etcdOptions.DefaultStorageMediaType = runtime.ContentTypeProtobuf
	o.Admission.applyEncryption(etcdOptions)
	storageFactory := serverstorage.NewDefaultStorageFactory(
		etcdOptions.StorageConfig, etcdOptions.DefaultStorageMediaType, scheme.Codecs,
		serverstorage.NewDefaultResourceEncodingConfig(scheme.Scheme), genericConfig.MergedResourceConfig, nil)
	storageFactory.AddCohabitatingResources(eventsGroupResources()...)
	if err := etcdOptions.ApplyWithStorageFactoryTo(storageFactory, &genericConfig.Config); err != nil {
		return nil, err
	}

	if err := o.applyAdmission(genericConfig, client, dynamicClient); err != nil {
		return nil, err
	}

	extensions, err := o.apiExtensionsConfig(genericConfig, etcdOptions)
	if err != nil {
		return nil, err
	}

	_, serviceNet, _ := netutils.ParseCIDRSloppy(o.ServiceClusterIPRange)
	portRange, _ := utilnet.ParsePortRange(o.ServiceNodePortRange)
	etcdClient, err := clientv3.New(clientv3.Config{Endpoints: etcdServers, DialTimeout: 20 * time.Second, Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %v: %w", etcdServers, err)
	}
	return &server.Config{
		GenericConfig: genericConfig,
		ExtraConfig: server.ExtraConfig{
			ServiceIPRange:   *serviceNet,
			NodePortRange:    *portRange,
			SecurePort:       o.SecurePort,
			AdvertiseAddress: o.AdvertiseAddress,
			Etcd:             etcdClient,
			EtcdPrefix:       o.EtcdPrefix,
			APIExtensions:    extensions,
			Controllers:      o.Controllers,
			RootCA:           rootCA,

			NodeMonitorGracePeriod: o.NodeMonitorGracePeriod,
			Authentication:         authn,
			Kubelet:                o.kubeletConfig(),
		},
	}, nil
}

// kubeletConfig reaches kubelets with the nucleus' kubelet client
// certificate, trusting kubelet serving certificates signed by the cluster
// CA.
func (o *Options) kubeletConfig() *kubeletclient.Config {
	dir := o.PKIDir()
	types := make([]corev1.NodeAddressType, len(o.KubeletPreferredAddressTypes))
	for i, t := range o.KubeletPreferredAddressTypes {
		types[i] = corev1.NodeAddressType(t)
	}
	return &kubeletclient.Config{
		PreferredAddressTypes: types,
		CAFile:                dir.CACertFile(),
		CertFile:              dir.CertFile(KubeletClientCertName),
		KeyFile:               dir.KeyFile(KubeletClientCertName),
	}
}

// apiExtensionsConfig derives the custom resource server's configuration
// from the core server's: same serving, authentication, authorization and
// admission, its own storage for custom resources.
func (o *Options) apiExtensionsConfig(core *genericapiserver.RecommendedConfig, etcdOptions *genericoptions.EtcdOptions) (*apiextensionsapiserver.Config, error) {
	c := *core
	c.RESTOptionsGetter = nil
	// Hooks registered on the core server run once, there.
	c.PostStartHooks = map[string]genericapiserver.PostStartHookConfigEntry{}
	// The core server publishes OpenAPI for everything, custom resources
	// included, and lists every group.
	c.SkipOpenAPIInstallation = true
	// The apiextensions server's own CRD endpoint is shadowed by the core
	// server's (see registry/apiextensions); it needs no watch cache.
	crdEtcd := *etcdOptions
	crdEtcd.EnableWatchCache = false
	crdEtcd.SkipHealthEndpoints = true
	if err := crdEtcd.ApplyTo(&c.Config); err != nil {
		return nil, err
	}
	return &apiextensionsapiserver.Config{
		GenericConfig: &c,
		ExtraConfig: apiextensionsapiserver.ExtraConfig{
			CRDRESTOptionsGetter: apiextensionsoptions.NewCRDRESTOptionsGetter(*etcdOptions, c.ResourceTransformers, c.StorageObjectCountTracker),
			MasterCount:          1,
		},
	}, nil
}

// definitions are the OpenAPI definitions of every type the nucleus serves.
func definitions(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
	defs := openapi.GetOpenAPIDefinitions(ref)
	for k, v := range apiextensionsopenapi.GetOpenAPIDefinitions(ref) {
		if _, ok := defs[k]; !ok {
			defs[k] = v
		}
	}
	return defs
}

// nucleusVersion reports the Kubernetes version with Strata's build metadata.
type nucleusVersion struct {
	basecompatibility.EffectiveVersion
}

func (nucleusVersion) Info() *apimachineryversion.Info {
	info := version.Info()
	return &info
}

func effectiveVersion() basecompatibility.EffectiveVersion {
	return nucleusVersion{basecompatibility.NewEffectiveVersionFromString(version.Kubernetes[1:], "", "")}
}

// eventsGroupResources share one etcd prefix: events.k8s.io/v1 Events are
// core Events in another shape.
func eventsGroupResources() []schema.GroupResource {
	return []schema.GroupResource{{Resource: "events"}, {Group: "events.k8s.io", Resource: "events"}}
}

// resourceConfig enables every group version the nucleus serves.
func resourceConfig() *serverstorage.ResourceConfig {
	rc := serverstorage.NewResourceConfig()
	for _, gv := range scheme.Scheme.PrioritizedVersionsAllGroups() {
		if gv.Version != runtime.APIVersionInternal {
			rc.EnableVersions(gv)
		}
	}
	rc.EnableVersions(apiextensionsv1.SchemeGroupVersion)
	return rc
}
