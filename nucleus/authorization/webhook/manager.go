package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	webhookauthorizer "k8s.io/apiserver/plugin/pkg/authorizer/webhook"
	webhookmetrics "k8s.io/apiserver/plugin/pkg/authorizer/webhook/metrics"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/nucleus/serviceresolver"
)

// Options tune the webhook authorizers.
type Options struct {
	// AuthorizedTTL and UnauthorizedTTL are how long allowed and not
	// allowed answers are cached.
	AuthorizedTTL   time.Duration
	UnauthorizedTTL time.Duration
	// Recorder, if set, records a Warning event on registrations that are
	// invalid.
	Recorder record.EventRecorder
}

// Manager keeps one webhook authorizer per valid registration, in chain
// order, and follows the registrations as they change.
type Manager struct {
	opts       Options
	configMaps corelisters.ConfigMapLister
	resolver   *serviceresolver.Resolver
	synced     []cache.InformerSynced

	mu      sync.Mutex // serializes syncs
	current atomic.Pointer[state]
	// reported are the generations of invalid registrations already
	// reported with an event.
	reported map[string]string
}

// state is the set of running webhooks.
type state struct {
	webhooks []*entry
	exempt   sets.Set[string]
}

// entry is one running webhook, with the registration it was built from.
type entry struct {
	reg        *Registration
	generation string // the ConfigMap's UID and resourceVersion
	authorizer authorizer.Authorizer
}

// NewManager watches registrations with f's ConfigMap informer and resolves
// Service references from f's Service, EndpointSlice and Endpoints
// informers. Call it before f is started.
func NewManager(f informers.SharedInformerFactory, opts Options) (*Manager, error) {
	cms := f.Core().V1().ConfigMaps()
	svcs := f.Core().V1().Services()
	slices := f.Discovery().V1().EndpointSlices()
	eps := f.Core().V1().Endpoints()
	m := &Manager{
		opts:       opts,
		configMaps: cms.Lister(),
		resolver:   &serviceresolver.Resolver{Services: svcs.Lister(), Slices: slices.Lister(), Endpoints: eps.Lister()},
		synced:     []cache.InformerSynced{cms.Informer().HasSynced, svcs.Informer().HasSynced, slices.Informer().HasSynced, eps.Informer().HasSynced},
		reported:   map[string]string{},
	}
	m.current.Store(&state{exempt: sets.New[string]()})
	onChange := func(obj interface{}) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Namespace == Namespace {
			m.sync()
		}
	}
	_, err := cms.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    onChange,
		UpdateFunc: func(_, obj interface{}) { onChange(obj) },
		DeleteFunc: onChange,
	})
	if err != nil {
		return nil, fmt.Errorf("watching webhook authorizer registrations: %w", err)
	}
	return m, nil
}

// Synced reports whether the registrations have been read at least once.
func (m *Manager) Synced() bool {
	for _, s := range m.synced {
		if !s() {
			return false
		}
	}
	return true
}

// Registered reports whether any webhook authorizer is registered.
func (m *Manager) Registered() bool { return len(m.current.Load().webhooks) > 0 }

// Exempt reports whether a registration names the ServiceAccount name of
// the layers' namespace as exempt.
func (m *Manager) Exempt(name string) bool { return m.current.Load().exempt.Has(name) }

// Names lists the running webhooks in chain order.
func (m *Manager) Names() []string {
	var names []string
	for _, e := range m.current.Load().webhooks {
		names = append(names, e.reg.Name)
	}
	return names
}

// sync rebuilds the list of webhooks from the registrations, keeping the
// authorizers (and their decision caches) of unchanged ones.
func (m *Manager) sync() {
	m.mu.Lock()
	defer m.mu.Unlock()
	cms, err := m.configMaps.ConfigMaps(Namespace).List(labels.SelectorFromSet(labels.Set{Label: "true"}))
	if err != nil {
		klog.ErrorS(err, "Listing webhook authorizer registrations")
		return
	}
	old := map[string]*entry{}
	for _, e := range m.current.Load().webhooks {
		old[e.reg.Name] = e
	}
	var regs []*Registration
	generations := map[string]string{}
	for _, cm := range cms {
		reg, err := Parse(cm)
		if err != nil {
			m.reportInvalid(cm, err)
			continue
		}
		regs = append(regs, reg)
		generations[reg.Name] = string(cm.UID) + "/" + cm.ResourceVersion
	}
	Sort(regs)
	next := &state{exempt: sets.New[string]()}
	for _, reg := range regs {
		gen := generations[reg.Name]
		if e, ok := old[reg.Name]; ok && e.generation == gen {
			next.webhooks = append(next.webhooks, e)
			next.exempt.Insert(reg.ExemptServiceAccounts...)
			continue
		}
		a, err := m.build(reg)
		if err != nil {
			klog.ErrorS(err, "Ignoring webhook authorizer registration", "configMap", klog.KRef(Namespace, reg.Name))
			continue
		}
		klog.InfoS("Registered webhook authorizer", "configMap", klog.KRef(Namespace, reg.Name), "order", reg.Order)
		next.webhooks = append(next.webhooks, &entry{reg: reg, generation: gen, authorizer: a})
		next.exempt.Insert(reg.ExemptServiceAccounts...)
	}
	for name := range old {
		if _, ok := generations[name]; !ok {
			klog.InfoS("Removed webhook authorizer", "configMap", klog.KRef(Namespace, name))
		}
	}
	m.current.Store(next)
}

// reportInvalid logs, and records an event on, an invalid registration,
// once per version of it.
func (m *Manager) reportInvalid(cm *corev1.ConfigMap, err error) {
	gen := string(cm.UID) + "/" + cm.ResourceVersion
	if m.reported[cm.Name] == gen {
		return
	}
	m.reported[cm.Name] = gen
	klog.ErrorS(err, "Ignoring invalid webhook authorizer registration", "configMap", klog.KObj(cm))
	if m.opts.Recorder != nil {
		m.opts.Recorder.Eventf(cm, corev1.EventTypeWarning, "InvalidRegistration", "Ignoring invalid webhook authorizer registration: %v", err)
	}
}

// retryBackoff retries a failing webhook once, briefly: a request waits for
// an unreachable authorizer at most about twice its timeout.
var retryBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 2}

// build makes the authorizer of reg.
func (m *Manager) build(reg *Registration) (authorizer.Authorizer, error) {
	cfg := &rest.Config{
		Timeout:         reg.Timeout,
		TLSClientConfig: rest.TLSClientConfig{CAData: reg.CABundle},
		// Webhooks are dialled directly, never through a proxy from the
		// environment.
		Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
	}
	if reg.URL != nil {
		cfg.Host = reg.URL.String()
	} else {
		svc := *reg.Service
		cfg.Host = (&url.URL{Scheme: "https", Host: net.JoinHostPort(svc.Host(), strconv.Itoa(int(svc.Port))), Path: svc.Path}).String()
		// The TLS server name stays <name>.<namespace>.svc; the connection
		// goes to a ready endpoint of the Service, looked up at each dial.
		cfg.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			u, err := m.resolver.ResolveEndpoint(svc.Namespace, svc.Name, svc.Port)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, u.Host)
		}
	}
	return webhookauthorizer.New(cfg, "v1", m.opts.AuthorizedTTL, m.opts.UnauthorizedTTL, retryBackoff,
		reg.FailurePolicy, nil, reg.Name, webhookmetrics.NoopAuthorizerMetrics{}, nil)
}

// Authorize asks the webhooks in order; the first that allows or denies
// decides. A webhook that fails decides its failure policy: with NoOpinion
// the next one is asked, with Deny the request is refused (with a 403 and a
// reason naming the webhook, not a 500).
func (m *Manager) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	for _, e := range m.current.Load().webhooks {
		decision, reason, err := e.authorizer.Authorize(ctx, a)
		if err != nil {
			klog.FromContext(ctx).Error(err, "Webhook authorizer failed", "configMap", klog.KRef(Namespace, e.reg.Name), "failurePolicy", policyName(e.reg.FailurePolicy))
			if e.reg.FailurePolicy == authorizer.DecisionDeny {
				return authorizer.DecisionDeny, fmt.Sprintf("authorization webhook %q is unavailable", e.reg.Name), nil
			}
			continue
		}
		if decision != authorizer.DecisionNoOpinion {
			return decision, reason, nil
		}
	}
	return authorizer.DecisionNoOpinion, "", nil
}

func policyName(d authorizer.Decision) string {
	if d == authorizer.DecisionDeny {
		return "Deny"
	}
	return "NoOpinion"
}
