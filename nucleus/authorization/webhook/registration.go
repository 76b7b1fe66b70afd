// Package webhook runs the webhook authorizers layers register while the
// nucleus runs. A registration is a ConfigMap in kube-system labelled
// authorization.strata.io/webhook: "true"; its data says where the
// authorizer is (a URL or a Service reference), which CA signs its serving
// certificate, how long to wait for it, what to decide when it fails, and its
// place in the chain. The nucleus watches these ConfigMaps: creating,
// changing or deleting one takes effect without a restart. See
// docs/authorization.md.
package webhook

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	certutil "k8s.io/client-go/util/cert"
)

const (
	// Namespace holds the registrations.
	Namespace = "kube-system"
	// Label marks a ConfigMap of Namespace as a registration when "true".
	Label = "authorization.strata.io/webhook"

	// The keys of a registration's data.
	KeyURL                   = "url"
	KeyService               = "service"
	KeyPath                  = "path"
	KeyCABundle              = "caBundle"
	KeyTimeout               = "timeout"
	KeyFailurePolicy         = "failurePolicy"
	KeyOrder                 = "order"
	KeyExemptServiceAccounts = "exemptServiceAccounts"

	// DefaultTimeout is how long a webhook may take when the registration
	// does not say; MaxTimeout is the most it may ask for.
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = 30 * time.Second
)

// ServiceReference names the Service an authorizer is reached through.
type ServiceReference struct {
	Namespace string
	Name      string
	Port      int32
	// Path is the HTTP path requests are posted to.
	Path string
}

// Host is the name the authorizer's serving certificate must be valid for.
func (s ServiceReference) Host() string { return s.Name + "." + s.Namespace + ".svc" }

// Registration is a parsed registration ConfigMap.
type Registration struct {
	// Name is the ConfigMap's name.
	Name string
	// URL is where SubjectAccessReviews are posted, or nil when Service is
	// set.
	URL     *url.URL
	Service *ServiceReference
	// CABundle verifies the authorizer's serving certificate; empty means
	// the system's roots.
	CABundle []byte
	Timeout  time.Duration
	// FailurePolicy is the decision when the authorizer cannot be reached
	// or answers an error: DecisionNoOpinion or DecisionDeny.
	FailurePolicy authorizer.Decision
	// Order places the authorizer in the chain: lower first, then by Name.
	Order int
	// ExemptServiceAccounts are ServiceAccounts of the layers' namespace
	// that keep the layer bootstrap grant while this authorizer is
	// registered, so the authorizer can always read its own policy.
	ExemptServiceAccounts []string
}

// IsRegistration reports whether cm is meant as a registration.
func IsRegistration(cm *corev1.ConfigMap) bool {
	return cm.Namespace == Namespace && cm.Labels[Label] == "true"
}

// Parse reads a registration ConfigMap. Every problem is reported, with the
// data key it is about.
func Parse(cm *corev1.ConfigMap) (*Registration, error) {
	data := field.NewPath("data")
	var errs field.ErrorList
	r := &Registration{Name: cm.Name, Timeout: DefaultTimeout, FailurePolicy: authorizer.DecisionNoOpinion}
	d := cm.Data

	rawURL, rawSvc := strings.TrimSpace(d[KeyURL]), strings.TrimSpace(d[KeyService])
	switch {
	case rawURL != "" && rawSvc != "":
		errs = append(errs, field.Invalid(data.Key(KeyService), rawSvc, "exactly one of url or service must be set"))
	case rawURL == "" && rawSvc == "":
		errs = append(errs, field.Required(data.Key(KeyURL), "exactly one of url or service must be set"))
	case rawURL != "":
		u, err := parseURL(rawURL)
		if err != nil {
			errs = append(errs, field.Invalid(data.Key(KeyURL), rawURL, err.Error()))
		}
		r.URL = u
		if d[KeyPath] != "" {
			errs = append(errs, field.Invalid(data.Key(KeyPath), d[KeyPath], "only with service; put the path in url"))
		}
	default:
		svc, err := parseService(rawSvc)
		if err != nil {
			errs = append(errs, field.Invalid(data.Key(KeyService), rawSvc, err.Error()))
		} else {
			svc.Path = d[KeyPath]
			if svc.Path != "" && !strings.HasPrefix(svc.Path, "/") {
				errs = append(errs, field.Invalid(data.Key(KeyPath), svc.Path, "must start with /"))
			}
			r.Service = svc
		}
	}

	if ca := d[KeyCABundle]; strings.TrimSpace(ca) != "" {
		if _, err := certutil.ParseCertsPEM([]byte(ca)); err != nil {
			errs = append(errs, field.Invalid(data.Key(KeyCABundle), "<PEM>", fmt.Sprintf("not a PEM certificate bundle: %v", err)))
		} else if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM([]byte(ca)) {
			errs = append(errs, field.Invalid(data.Key(KeyCABundle), "<PEM>", "no certificate found"))
		}
		r.CABundle = []byte(ca)
	}

	if t := strings.TrimSpace(d[KeyTimeout]); t != "" {
		timeout, err := time.ParseDuration(t)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(data.Key(KeyTimeout), t, "must be a duration such as 5s"))
		case timeout <= 0 || timeout > MaxTimeout:
			errs = append(errs, field.Invalid(data.Key(KeyTimeout), t, fmt.Sprintf("must be more than 0s and at most %s", MaxTimeout)))
		default:
			r.Timeout = timeout
		}
	}

	switch p := strings.TrimSpace(d[KeyFailurePolicy]); p {
	case "", "NoOpinion":
	case "Deny":
		r.FailurePolicy = authorizer.DecisionDeny
	default:
		errs = append(errs, field.NotSupported(data.Key(KeyFailurePolicy), p, []string{"NoOpinion", "Deny"}))
	}

	if o := strings.TrimSpace(d[KeyOrder]); o != "" {
		order, err := strconv.Atoi(o)
		if err != nil {
			errs = append(errs, field.Invalid(data.Key(KeyOrder), o, "must be an integer"))
		}
		r.Order = order
	}

	for _, sa := range splitList(d[KeyExemptServiceAccounts]) {
		for _, msg := range validation.IsDNS1123Subdomain(sa) {
			errs = append(errs, field.Invalid(data.Key(KeyExemptServiceAccounts), sa, msg))
		}
		r.ExemptServiceAccounts = append(r.ExemptServiceAccounts, sa)
	}

	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return r, nil
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme != "https":
		return nil, fmt.Errorf("the scheme must be https")
	case u.Host == "":
		return nil, fmt.Errorf("a host is required")
	case u.User != nil:
		return nil, fmt.Errorf("user information is not allowed")
	case u.Fragment != "" || u.RawQuery != "":
		return nil, fmt.Errorf("query and fragment are not allowed")
	}
	return u, nil
}

// parseService reads namespace/name[:port]; the port defaults to 443.
func parseService(raw string) (*ServiceReference, error) {
	ns, rest, ok := strings.Cut(raw, "/")
	if !ok {
		return nil, fmt.Errorf("must be namespace/name or namespace/name:port")
	}
	name, port := rest, int32(443)
	if n, p, ok := strings.Cut(rest, ":"); ok {
		v, err := strconv.ParseInt(p, 10, 32)
		if err != nil || v < 1 || v > 65535 {
			return nil, fmt.Errorf("port %q must be between 1 and 65535", p)
		}
		name, port = n, int32(v)
	}
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return nil, fmt.Errorf("namespace %q: %s", ns, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1035Label(name); len(msgs) > 0 {
		return nil, fmt.Errorf("name %q: %s", name, strings.Join(msgs, "; "))
	}
	return &ServiceReference{Namespace: ns, Name: name, Port: port}, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		out = append(out, f)
	}
	return out
}

// Sort orders registrations as the chain evaluates them: by Order, then by
// Name.
func Sort(regs []*Registration) {
	sort.SliceStable(regs, func(i, j int) bool {
		if regs[i].Order != regs[j].Order {
			return regs[i].Order < regs[j].Order
		}
		return regs[i].Name < regs[j].Name
	})
}
