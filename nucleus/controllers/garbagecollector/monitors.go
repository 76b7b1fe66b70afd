package garbagecollector

import (
	"context"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// ownerIndex indexes objects by the UIDs of their owners.
const ownerIndex = "ownerUID"

// ignoredResources are not collected, as upstream: events are many, short
// lived and expire on their own.
var ignoredResources = []schema.GroupResource{{Resource: "events"}, {Group: "events.k8s.io", Resource: "events"}}

// monitor is a metadata informer over one resource.
type monitor struct {
	gvr      schema.GroupVersionResource
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	// stopped is closed once the monitor is stopped.
	stopped <-chan struct{}
}

// monitors keeps one informer per collectable resource, following discovery
// so that resources of CRDs installed later are picked up without restart.
type monitors struct {
	metadata metadata.Interface
	// handlerFor returns the event handler of a resource's informer.
	handlerFor func(schema.GroupVersionResource) cache.ResourceEventHandler

	mu   sync.RWMutex
	byGR map[schema.GroupVersionResource]*monitor
}

// collectableResources are the resources that can be listed, watched and
// deleted, subresources and ignored resources excluded.
func collectableResources(lists []*metav1.APIResourceList) []schema.GroupVersionResource {
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			gvr := gv.WithResource(r.Name)
			if slices.Contains(ignoredResources, gvr.GroupResource()) || containsSlash(r.Name) {
				continue
			}
			if slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") && slices.Contains(r.Verbs, "delete") {
				out = append(out, gvr)
			}
		}
	}
	return out
}

func containsSlash(s string) bool {
	for i := range len(s) {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// sync starts informers for new resources and stops those of resources that
// are gone. It returns the monitors started, to wait for.
func (m *monitors) sync(ctx context.Context, d discovery.DiscoveryInterface) ([]*monitor, error) {
	lists, err := d.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, err
	}
	want := collectableResources(lists)
	m.mu.Lock()
	defer m.mu.Unlock()
	var started []*monitor
	for _, gvr := range want {
		if _, ok := m.byGR[gvr]; ok {
			continue
		}
		inf := metadatainformer.NewFilteredMetadataInformer(m.metadata, gvr, metav1.NamespaceAll, 0,
			cache.Indexers{ownerIndex: indexByOwner}, nil).Informer()
		if _, err := inf.AddEventHandler(m.handlerFor(gvr)); err != nil {
			return nil, err
		}
		mctx, cancel := context.WithCancel(ctx)
		go inf.RunWithContext(mctx)
		mon := &monitor{gvr: gvr, informer: inf, stop: cancel, stopped: mctx.Done()}
		m.byGR[gvr] = mon
		started = append(started, mon)
		klog.FromContext(ctx).V(1).Info("Monitoring resource", "resource", gvr.String())
	}
	// A failed group keeps its monitors: it may be back on the next pass.
	if err == nil {
		for gvr, mon := range m.byGR {
			if !slices.Contains(want, gvr) {
				mon.stop()
				delete(m.byGR, gvr)
			}
		}
	}
	return started, nil
}

func indexByOwner(obj interface{}) ([]string, error) {
	o, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil
	}
	var uids []string
	for _, ref := range o.GetOwnerReferences() {
		uids = append(uids, string(ref.UID))
	}
	return uids, nil
}

// synced reports whether every informer of mons has listed its resource.
func synced(mons []*monitor) []cache.InformerSynced {
	out := make([]cache.InformerSynced, len(mons))
	for i, mon := range mons {
		out[i] = mon.informer.HasSynced
	}
	return out
}

// ownedBy returns every object, of any monitored resource, with an owner
// reference of the group and kind.
func (m *monitors) ownedBy(gk schema.GroupKind) []node {
	return m.collect(func(mon *monitor) ([]interface{}, error) { return mon.informer.GetStore().List(), nil },
		func(o metav1.Object) bool {
			return slices.ContainsFunc(o.GetOwnerReferences(), func(ref metav1.OwnerReference) bool {
				gv, err := schema.ParseGroupVersion(ref.APIVersion)
				return err == nil && gv.Group == gk.Group && ref.Kind == gk.Kind
			})
		})
}

// dependents returns every object, of any monitored resource, owned by uid.
func (m *monitors) dependents(uid types.UID) []node {
	return m.collect(func(mon *monitor) ([]interface{}, error) {
		return mon.informer.GetIndexer().ByIndex(ownerIndex, string(uid))
	}, nil)
}

// collect returns the objects that objects finds in each monitor's cache,
// those keep accepts (all if keep is nil).
func (m *monitors) collect(objects func(*monitor) ([]interface{}, error), keep func(metav1.Object) bool) []node {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []node
	for gvr, mon := range m.byGR {
		objs, err := objects(mon)
		if err != nil {
			continue
		}
		for _, obj := range objs {
			if o, err := meta.Accessor(obj); err == nil && (keep == nil || keep(o)) {
				out = append(out, nodeOf(gvr, o))
			}
		}
	}
	return out
}

func (m *monitors) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for gvr, mon := range m.byGR {
		mon.stop()
		delete(m.byGR, gvr)
	}
}
