/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package manager runs Strata's upper layers: one controller-runtime manager
// with the controllers and webhooks of the layers selected, leader election
// through a Lease, metrics, health probes, and webhook certificates it
// creates and rotates itself (package webhookcerts).
package manager

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/strata-dev/strata/apis/scheme"
	"github.com/strata-dev/strata/config"
	"github.com/strata-dev/strata/manager/webhookcerts"
)

// Options configure a manager. The zero values of the addresses turn the
// servers off; Defaults gives the command's defaults.
type Options struct {
	// Layers to run, by name (see Known).
	Layers []string
	// Namespace holds the leader election Lease, the webhook certificate
	// Secret and the webhook Service (strata-system).
	Namespace string

	LeaderElect bool
	// MetricsBindAddress and HealthProbeBindAddress are host:port; "0" or
	// empty turns the server off.
	MetricsBindAddress     string
	HealthProbeBindAddress string

	// WebhookHost and WebhookPort are where the webhook server listens.
	WebhookHost string
	WebhookPort int
	// WebhookService is the name of the webhook Service in Namespace,
	// which the webhook configurations point at in cluster.
	WebhookService string
	// WebhookURL, when set, points the webhook configurations at this
	// base URL instead of the Service, for a manager running outside the
	// cluster (`make run`); its host goes into the serving certificate.
	WebhookURL string
	// CertDir receives the webhook serving certificate.
	CertDir string
	// CertLifetimes override the certificates' lifetimes (tests).
	CertLifetimes webhookcerts.Lifetimes
	// CertCheckInterval is how often certificates and webhook
	// configurations are checked (one minute by default).
	CertCheckInterval time.Duration
	// SkipControllerNameValidation lets one process build several managers
	// with the same controllers one after the other (tests restarting the
	// manager in process); controller-runtime refuses that by default.
	SkipControllerNameValidation bool
}

// Defaults are the command's defaults for the apps layer.
func Defaults() Options {
	return Options{
		Layers:                 []string{"apps"},
		Namespace:              "strata-system",
		LeaderElect:            false,
		MetricsBindAddress:     ":8080",
		HealthProbeBindAddress: ":8081",
		WebhookPort:            9443,
		WebhookService:         "strata-apps-webhook",
	}
}

// Name is the manager's name for its Lease, Secret and logs:
// strata-<layer>[-<layer>…].
func (o Options) Name() string { return "strata-" + strings.Join(o.Layers, "-") }

// The manager's own rights; the layers' controllers declare theirs.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups="",namespace=strata-system,resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=strata-system,resources=leases,verbs=get;list;watch;create;update;patch;delete

// New builds the manager of o's layers against the cluster of cfg. Before it
// returns, the webhook certificate is in CertDir and the layers' webhook
// configurations point at this manager, so Start serves at once.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	ls, err := selected(o.Layers)
	if err != nil {
		return nil, err
	}
	if err := waitForCRDs(ctx, cfg, ls, 30*time.Second); err != nil {
		return nil, err
	}
	s := scheme.New()
	for _, l := range ls {
		if l.AddToScheme == nil {
			continue
		}
		if err := l.AddToScheme(s); err != nil {
			return nil, fmt.Errorf("adding the kinds of layer %s to the scheme: %w", l.Name, err)
		}
	}
	// Custom resources have no protobuf encoding: controller-runtime's
	// typed client must speak JSON to them.
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	if o.CertDir == "" {
		o.CertDir = filepath.Join(os.TempDir(), o.Name()+"-webhook-certs")
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        s,
		Metrics:                       metricsserver.Options{BindAddress: orOff(o.MetricsBindAddress)},
		HealthProbeBindAddress:        orOff(o.HealthProbeBindAddress),
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              o.Name() + "-manager",
		LeaderElectionNamespace:       o.Namespace,
		LeaderElectionReleaseOnCancel: true,
		Controller:                    ctrlconfig.Controller{SkipNameValidation: ptr.To(o.SkipControllerNameValidation)},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:    o.WebhookHost,
			Port:    o.WebhookPort,
			CertDir: o.CertDir,
		}),
		Logger: klog.FromContext(ctx),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}

	rotator, err := newRotator(mgr, ls, o)
	if err != nil {
		return nil, err
	}
	direct, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return nil, err
	}
	rotator.Client = direct
	if err := ensureNamespace(ctx, direct, o.Namespace); err != nil {
		return nil, err
	}
	if err := rotator.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("preparing the webhook certificates: %w", err)
	}
	if err := mgr.Add(rotator); err != nil {
		return nil, err
	}

	for _, l := range ls {
		if err := l.Setup(mgr); err != nil {
			return nil, fmt.Errorf("setting up layer %s: %w", l.Name, err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return nil, err
	}
	return mgr, nil
}

// Run runs the manager until ctx ends.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	mgr, err := New(ctx, cfg, o)
	if err != nil {
		return err
	}
	klog.FromContext(ctx).Info("Starting manager", "layers", o.Layers, "namespace", o.Namespace, "leaderElection", o.LeaderElect)
	return mgr.Start(ctx)
}

func newRotator(mgr ctrl.Manager, ls []Layer, o Options) (*webhookcerts.Rotator, error) {
	hosts := webhookcerts.Hosts{DNSNames: []string{
		fmt.Sprintf("%s.%s.svc", o.WebhookService, o.Namespace),
		fmt.Sprintf("%s.%s.svc.cluster.local", o.WebhookService, o.Namespace),
	}}
	if o.WebhookURL != "" {
		u, err := url.Parse(o.WebhookURL)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" {
			return nil, fmt.Errorf("--webhook-url %q: must be an https URL with a host, e.g. https://127.0.0.1:9443", o.WebhookURL)
		}
		if ip := net.ParseIP(u.Hostname()); ip != nil {
			hosts.IPs = append(hosts.IPs, ip)
		} else {
			hosts.DNSNames = append(hosts.DNSNames, u.Hostname())
		}
	}
	r := &webhookcerts.Rotator{
		Secret:    types.NamespacedName{Namespace: o.Namespace, Name: o.Name() + "-webhook-cert"},
		CertDir:   o.CertDir,
		Hosts:     hosts,
		Lifetimes: o.CertLifetimes,
		Target:    webhookcerts.Target{ServiceNamespace: o.Namespace, ServiceName: o.WebhookService, URL: o.WebhookURL},
		Interval:  o.CertCheckInterval,
	}
	for _, l := range ls {
		m, v, err := webhookConfigurations(config.WebhookManifests, l)
		if err != nil {
			return nil, err
		}
		r.Mutating = append(r.Mutating, m...)
		r.Validating = append(r.Validating, v...)
	}
	return r, nil
}

// waitForCRDs waits up to timeout for the layers' kinds to be served (a
// chart creates their CRDs just before the manager's pod) and then fails
// with what to do.
func waitForCRDs(ctx context.Context, cfg *rest.Config, ls []Layer, timeout time.Duration) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	var missing []string
	err = wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(context.Context) (bool, error) {
		missing, err = missingKinds(dc, ls)
		if len(missing) > 0 {
			klog.FromContext(ctx).Info("Waiting for the CustomResourceDefinitions of the layers' kinds", "missing", missing)
		}
		return err == nil && len(missing) == 0, err
	})
	if len(missing) > 0 {
		return fmt.Errorf("the kinds %s are not served: install the layer's CRDs with its chart (helm install) or `make install` (kubectl apply --server-side -f config/crd/bases)", strings.Join(missing, ", "))
	}
	return err
}

// missingKinds lists the layers' kinds discovery does not report, as
// "group/version Kind".
func missingKinds(dc discovery.DiscoveryInterface, ls []Layer) ([]string, error) {
	var missing []string
	served := map[schema.GroupVersion]*metav1.APIResourceList{}
	for _, l := range ls {
		for _, gvk := range l.Kinds {
			gv := gvk.GroupVersion()
			list, seen := served[gv]
			if !seen {
				var err error
				list, err = dc.ServerResourcesForGroupVersion(gv.String())
				if err != nil && !apierrors.IsNotFound(err) {
					return nil, fmt.Errorf("discovering %s: %w", gv, err)
				}
				served[gv] = list
			}
			if !servesKind(list, gvk.Kind) {
				missing = append(missing, gv.String()+" "+gvk.Kind)
			}
		}
	}
	return missing, nil
}

// servesKind reports whether list has a resource of kind, subresources
// left out.
func servesKind(list *metav1.APIResourceList, kind string) bool {
	if list == nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Kind == kind && !strings.Contains(r.Name, "/") {
			return true
		}
	}
	return false
}

func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err == nil || apierrors.IsAlreadyExists(err) {
		return nil
	}
	// Without the right to create namespaces the namespace must exist.
	if apierrors.IsForbidden(err) {
		if getErr := c.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{}); getErr == nil {
			return nil
		}
	}
	return fmt.Errorf("ensuring namespace %s: %w", name, err)
}

func orOff(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}
