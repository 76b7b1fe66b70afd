package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
)

// LayersNamespace is the namespace of the layers' releases: the nucleus'
// --layers-namespace, whose ServiceAccounts its layer bootstrap rule
// authorizes until an RBAC layer exists (docs/authorization.md).
const LayersNamespace = "strata-system"

// maxHistory is the number of revisions kept per release, as `helm upgrade
// --history-max` keeps by default.
const maxHistory = 10

// Layer is a layer above the nucleus that `strata up` installs as a Helm
// release of the same name, from the chart of that name in the charts
// directory, running an image of the images directory.
type Layer struct {
	Name string
	// Archive is the image archive (in the images directory) holding the
	// image the chart runs; Repository is that image's repository, whose
	// tag in the archive becomes the chart's image.tag.
	Archive, Repository string
	// Values are set on top of the chart's own, each only if the chart's
	// values.yaml has it (so that a chart without it still validates).
	Values map[string]any
}

// Layers are the layers `strata up` knows, in the order it installs them:
// apps first, since charts/dns runs CoreDNS as a Deployment only when the
// cluster serves apps/v1 Deployments (workload: auto).
var Layers = []Layer{
	// The repositories are those of `make images` (images.StrataRepo,
	// images.CoreDNSRepo; a test checks they agree), written out so that
	// the strata binary does not link the image builder.
	{Name: "apps", Archive: "strata.tar", Repository: "strata.local/strata", Values: map[string]any{
		// One manager on one machine, without leader election: a manager
		// holding the Lease loses it while `strata down` has stopped the
		// nucleus, and exits (as upstream's controllers do), so its
		// container would not survive `strata down` and `strata up`.
		"replicas":       1,
		"leaderElection": false,
	}},
	{Name: "dns", Archive: "coredns.tar", Repository: "strata.local/coredns"},
}

// NoLayers is the --layers value that installs none.
const NoLayers = "none"

// LayerNames are the names of Layers.
func LayerNames() []string {
	names := make([]string, len(Layers))
	for i, l := range Layers {
		names[i] = l.Name
	}
	return names
}

// ParseLayers returns the layers named, in install order and each once:
// nil means every layer, "none" no layer.
func ParseLayers(names []string) ([]Layer, error) {
	if names == nil {
		return slices.Clone(Layers), nil
	}
	want := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == NoLayers:
			if len(names) > 1 {
				return nil, fmt.Errorf("--layers=%s cannot be combined with other layers (%s)", NoLayers, strings.Join(names, ","))
			}
			return nil, nil
		case n == "":
			return nil, fmt.Errorf("empty layer name in --layers=%s: name layers among %s, or %s", strings.Join(names, ","), strings.Join(LayerNames(), ", "), NoLayers)
		case !slices.Contains(LayerNames(), n):
			return nil, fmt.Errorf("unknown layer %q: the layers are %s, or %s for no layer", n, strings.Join(LayerNames(), ", "), NoLayers)
		}
		want[n] = true
	}
	var layers []Layer
	for _, l := range Layers {
		if want[l.Name] {
			layers = append(layers, l)
		}
	}
	return layers, nil
}

// imageTag returns the tag refs (the image names an archive carries) give
// repository: the first one other than latest.
func imageTag(refs []string, repository string) (string, bool) {
	for _, ref := range refs {
		tag, ok := strings.CutPrefix(ref, repository+":")
		if ok && tag != "" && tag != "latest" && !strings.ContainsAny(tag, ":/@") {
			return tag, true
		}
	}
	return "", false
}

// layerValues are the values a layer's chart is installed with: its image,
// as imported into containerd from the images directory, and those of the
// layer's Values that the chart has (chartValues are its defaults).
func layerValues(l Layer, tag string, chartValues map[string]any) map[string]any {
	values := map[string]any{
		"image": map[string]any{
			"repository": l.Repository,
			"tag":        tag,
		},
	}
	for k, v := range l.Values {
		if _, ok := chartValues[k]; ok {
			values[k] = v
		}
	}
	return values
}

// layerPlan is what installing one layer needs, checked before anything
// starts.
type layerPlan struct {
	Layer
	chartDir string
	chart    *chart.Chart
	values   map[string]any
}

// planLayers checks that the charts and the image archives of the layers
// are there and reads the image tags.
func (o *Options) planLayers() ([]layerPlan, error) {
	var plans []layerPlan
	for _, l := range o.layers {
		dir := filepath.Join(o.ChartsDir, l.Name)
		if !exists(filepath.Join(dir, "Chart.yaml")) {
			return nil, fmt.Errorf("no chart of layer %s in %s: run strata up from the Strata checkout (the directory holding charts/), "+
				"pass --charts-dir, or --layers=%s to start without layers", l.Name, dir, NoLayers)
		}
		archive := filepath.Join(o.ImagesDir, l.Archive)
		refs, err := containerdenv.ArchiveRefs(archive)
		if err != nil {
			return nil, fmt.Errorf("the image of layer %s: %w; build the images with `make images` or pass --images-dir", l.Name, err)
		}
		tag, ok := imageTag(refs, l.Repository)
		if !ok {
			return nil, fmt.Errorf("the image archive %s of layer %s holds no %s:<tag> (it holds %s); rebuild it with `make images`",
				archive, l.Name, l.Repository, strings.Join(refs, ", "))
		}
		chrt, err := loader.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("loading the chart of layer %s: %w", l.Name, err)
		}
		plans = append(plans, layerPlan{Layer: l, chartDir: dir, chart: chrt, values: layerValues(l, tag, chrt.Values)})
	}
	return plans, nil
}

// installLayer installs or upgrades the layer's release, as `helm upgrade
// --install --wait` does, and waits until its resources are ready. It
// returns what it did.
// helmFieldManager is the field manager of the helm command.
const helmFieldManager = "helm"

func (o *Options) installLayer(ctx context.Context, l layerPlan, log io.Writer, status func(string)) (string, error) {
	handler := statusHandler{Handler: slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}), status: status}
	// The releases are shared with the helm command (`helm upgrade apps …`
	// after strata up, or strata up after `helm install apps …`): apply as
	// the same field manager, "helm", or server-side apply reports every
	// field the other one set as a conflict.
	kube.ManagedFieldsManager = helmFieldManager
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(handler))
	getter := newKubeconfigGetter(Kubeconfig(o.DataDir), LayersNamespace, log)
	if err := cfg.Init(getter, LayersNamespace, "secret"); err != nil {
		return "", err
	}
	chrt := l.chart
	history, err := cfg.Releases.History(l.Name)
	if err != nil && !errors.Is(err, driver.ErrReleaseNotFound) {
		return "", fmt.Errorf("reading the history of release %s: %w", l.Name, err)
	}
	last := lastRelease(history)
	if last == nil || last.Info.Status == rcommon.StatusUninstalled {
		install := action.NewInstall(cfg)
		install.ReleaseName = l.Name
		install.Namespace = LayersNamespace
		install.CreateNamespace = true
		install.Replace = last != nil
		install.WaitStrategy = kube.StatusWatcherStrategy
		install.Timeout = o.Timeout
		r, err := install.RunWithContext(ctx, chrt, l.values)
		if err != nil {
			return "", o.layerError(l, err)
		}
		rel, _ := r.(*release.Release)
		if rel == nil {
			return "installed", nil
		}
		return fmt.Sprintf("installed %s %s, revision %d", rel.Chart.Metadata.Name, rel.Chart.Metadata.Version, rel.Version), nil
	}
	if last.Info.Status.IsPending() {
		return "", fmt.Errorf("release %s is %s since %s: another strata up or helm is changing it, or one was killed; "+
			"if none runs, `helm rollback %s -n %s` (or `helm uninstall %[1]s -n %[5]s`) and run strata up again",
			l.Name, last.Info.Status, last.Info.LastDeployed.Format("15:04:05"), l.Name, LayersNamespace)
	}
	upgrade := action.NewUpgrade(cfg)
	upgrade.Install = true
	upgrade.Namespace = LayersNamespace
	upgrade.WaitStrategy = kube.StatusWatcherStrategy
	upgrade.Timeout = o.Timeout
	upgrade.MaxHistory = maxHistory
	r, err := upgrade.RunWithContext(ctx, l.Name, chrt, l.values)
	if err != nil {
		return "", o.layerError(l, err)
	}
	rel, _ := r.(*release.Release)
	if rel == nil {
		return "upgraded", nil
	}
	if rel.Manifest == last.Manifest && last.Info.Status == rcommon.StatusDeployed {
		return fmt.Sprintf("%s %s, revision %d, unchanged", rel.Chart.Metadata.Name, rel.Chart.Metadata.Version, rel.Version), nil
	}
	return fmt.Sprintf("upgraded %s %s to revision %d", rel.Chart.Metadata.Name, rel.Chart.Metadata.Version, rel.Version), nil
}

func (o *Options) layerError(l layerPlan, err error) error {
	return fmt.Errorf("layer %s (chart %s, release %s in %s): %w; see %s and `kubectl get pods -n %[4]s`",
		l.Name, l.chartDir, l.Name, LayersNamespace, err, o.layersLog())
}

// layersLog is where Helm's log of the layers' installs goes.
func (o *Options) layersLog() string { return filepath.Join(o.DataDir, "logs", "layers.log") }

// lastRelease is the release of the highest revision, or nil.
func lastRelease(history []ri.Releaser) *release.Release {
	var last *release.Release
	for _, r := range history {
		if rel, ok := r.(*release.Release); ok && (last == nil || rel.Version > last.Version) {
			last = rel
		}
	}
	return last
}

// openLayersLog opens the layers' log for appending.
func (o *Options) openLayersLog() (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(o.layersLog()), 0o750); err != nil {
		return nil, err
	}
	return os.OpenFile(o.layersLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
}

// statusHandler passes Helm's log on and tells status what Helm is doing.
type statusHandler struct {
	slog.Handler
	status func(string)
}

func (h statusHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	if s := helmStatus(r.Message, attrs); s != "" {
		h.status(s)
	}
	return h.Handler.Handle(ctx, r)
}

func (h statusHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return statusHandler{Handler: h.Handler.WithAttrs(attrs), status: h.status}
}

func (h statusHandler) WithGroup(name string) slog.Handler {
	return statusHandler{Handler: h.Handler.WithGroup(name), status: h.status}
}

// helmStatus turns one of Helm's log messages into what a person waiting
// for it wants to know, or "".
func helmStatus(msg string, attrs map[string]string) string {
	plural := func(n string) string {
		if n == "1" {
			return n + " object"
		}
		return n + " objects"
	}
	switch msg {
	case "creating resource(s)":
		return "creating " + plural(attrs["resources"])
	case "checking resources for changes":
		return "updating " + plural(attrs["resources"])
	case "waiting for resources":
		return "waiting for " + plural(attrs["count"]) + " to be ready"
	case "waiting for resource":
		s := "waiting for " + attrs["kind"] + " " + attrs["name"]
		if st := attrs["actualStatus"]; st != "" {
			s += " (" + st + ")"
		}
		return s
	}
	return ""
}

// kubeconfigGetter is Helm's RESTClientGetter for a kubeconfig file: one
// discovery client cached in memory (not in ~/.kube/cache, as kubectl's
// flags would), invalidated by Helm when it needs fresh capabilities.
type kubeconfigGetter struct {
	path, namespace string
	// warnings receives the API server's warnings, which would otherwise
	// interrupt the progress on the terminal.
	warnings io.Writer

	once      sync.Once
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.RESTMapper
	err       error
}

var _ genericclioptions.RESTClientGetter = &kubeconfigGetter{}

func newKubeconfigGetter(path, namespace string, warnings io.Writer) *kubeconfigGetter {
	return &kubeconfigGetter{path: path, namespace: namespace, warnings: warnings}
}

func (g *kubeconfigGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: g.path},
		&clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.namespace}})
}

func (g *kubeconfigGetter) ToRESTConfig() (*rest.Config, error) {
	rc, err := g.ToRawKubeConfigLoader().ClientConfig()
	if err != nil {
		return nil, err
	}
	// A local cluster: no need to throttle Helm's reads while it waits.
	rc.QPS, rc.Burst = 50, 100
	rc.WarningHandler = rest.NewWarningWriter(g.warnings, rest.WarningWriterOptions{Deduplicate: true})
	return rc, nil
}

func (g *kubeconfigGetter) init() {
	g.once.Do(func() {
		rc, err := g.ToRESTConfig()
		if err != nil {
			g.err = err
			return
		}
		dc, err := discovery.NewDiscoveryClientForConfig(rc)
		if err != nil {
			g.err = err
			return
		}
		g.discovery = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(g.discovery), g.discovery, nil)
	})
}

func (g *kubeconfigGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.init()
	return g.discovery, g.err
}

func (g *kubeconfigGetter) ToRESTMapper() (meta.RESTMapper, error) {
	g.init()
	return g.mapper, g.err
}
