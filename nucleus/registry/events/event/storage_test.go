package event

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/strata-dev/strata/nucleus/etcd"
	coreevent "github.com/strata-dev/strata/nucleus/registry/core/event"
	"github.com/strata-dev/strata/nucleus/registry/store"
	"github.com/strata-dev/strata/nucleus/scheme"
)

// eventsJSON is an Event as an events.k8s.io/v1 client sends it.
const eventsJSON = `{
  "apiVersion": "events.k8s.io/v1", "kind": "Event",
  "metadata": {"name": "web.1", "namespace": "ns"},
  "eventTime": "2026-01-02T03:04:05.000000Z",
  "reportingController": "example.com/scheduler", "reportingInstance": "scheduler-1",
  "action": "Binding", "reason": "Scheduled", "type": "Normal", "note": "assigned ns/web to node-1",
  "regarding": {"kind": "Pod", "namespace": "ns", "name": "web"}
}`

// startStorage serves core and events.k8s.io Events from an embedded etcd,
// sharing one prefix as the nucleus does.
func startStorage(t *testing.T) (core, events *store.REST) {
	t.Helper()
	member, err := etcd.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(member.Close)
	opts := genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig("/registry", nil))
	opts.StorageConfig.Transport.ServerList = []string{member.ClientURL}
	opts.EnableWatchCache = false
	enabled := serverstorage.NewResourceConfig()
	enabled.EnableVersions(corev1.SchemeGroupVersion, eventsv1.SchemeGroupVersion)
	factory := serverstorage.NewDefaultStorageFactory(opts.StorageConfig, runtime.ContentTypeJSON, scheme.Codecs,
		serverstorage.NewDefaultResourceEncodingConfig(scheme.Scheme), enabled, nil)
	factory.AddCohabitatingResources(schema.GroupResource{Resource: "events"}, eventsv1.Resource("events"))
	getter := &genericoptions.StorageFactoryRestOptionsFactory{Options: *opts, StorageFactory: factory}

	install := func(gv schema.GroupVersion, fn func(store.Resources, store.Deps) error) *store.REST {
		r := store.Resources{}
		if err := fn(r, store.Deps{OptsGetter: getter, Typer: scheme.Scheme, GroupVersion: gv}); err != nil {
			t.Fatal(err)
		}
		s := r["events"].(*store.REST)
		t.Cleanup(s.Destroy)
		return s
	}
	return install(corev1.SchemeGroupVersion, coreevent.Install), install(eventsv1.SchemeGroupVersion, Install)
}

func TestSharedStorage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	core, events := startStorage(t)
	ctx := genericapirequest.WithNamespace(context.Background(), "ns")

	// Create through events.k8s.io, decoded as the handler does.
	obj, _, err := scheme.Codecs.UniversalDecoder().Decode([]byte(eventsJSON), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Create(ctx, obj, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating through events.k8s.io: %v", err)
	}
	got, err := core.Get(ctx, "web.1", &metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading through core: %v", err)
	}
	if e := got.(*corev1.Event); e.Message != "assigned ns/web to node-1" || e.InvolvedObject.Name != "web" {
		t.Errorf("core view of the event: message %q, involved object %+v", e.Message, e.InvolvedObject)
	}

	// And back, encoded as an events.k8s.io/v1 client reads it.
	watcher, err := events.Watch(ctx, &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.name", "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	old := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "db.1", Namespace: "ns"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "db"},
		Reason:         "Killing", Message: "stopping", Source: corev1.EventSource{Component: "kubelet"}, Count: 2,
	}
	if _, err := core.Create(ctx, old, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating through core: %v", err)
	}
	select {
	case ev := <-watcher.ResultChan():
		if ev.Type != watch.Added {
			t.Fatalf("watch event %s, want ADDED", ev.Type)
		}
		wire := &eventsv1.Event{}
		if err := scheme.Scheme.Convert(ev.Object, wire, nil); err != nil {
			t.Fatal(err)
		}
		if wire.Note != "stopping" || wire.Regarding.Name != "db" || wire.DeprecatedCount != 2 || wire.DeprecatedSource.Component != "kubelet" {
			t.Errorf("events.k8s.io view of the event: %+v", wire)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event through events.k8s.io")
	}

	list, err := events.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.(*corev1.EventList).Items); n != 2 {
		t.Errorf("events.k8s.io lists %d events, want 2", n)
	}
}

func TestCreateValidation(t *testing.T) {
	old := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e", Namespace: "ns"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p"},
		Reason:         "Started",
	}
	ctx := genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{Verb: "create"})
	if errs := Definition.Validate(ctx, old); len(errs) == 0 {
		t.Error("an old-style event was accepted through events.k8s.io")
	}
	update := genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{Verb: "update"})
	if errs := Definition.Validate(update, old); len(errs) != 0 {
		t.Errorf("an update of an old-style event failed the creation rules: %v", errs)
	}
	if errs := coreevent.Definition.Validate(ctx, old); len(errs) != 0 {
		t.Errorf("an old-style event was refused through core: %v", errs)
	}
}
