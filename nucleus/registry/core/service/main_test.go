package service

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	netutils "k8s.io/utils/net"

	"github.com/strata-dev/strata/nucleus/defaults"
	"github.com/strata-dev/strata/nucleus/etcd"
	"github.com/strata-dev/strata/nucleus/registry/store"
	"github.com/strata-dev/strata/nucleus/scheme"
)

// etcdURL is the client URL of the member shared by the package's tests.
var etcdURL string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "service-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := etcd.Start(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting etcd:", err)
		os.Exit(1)
	}
	etcdURL = e.ClientURL
	code := m.Run()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testServer is the services storage of one test, on its own etcd prefix.
type testServer struct {
	rest  *REST
	etcd  *clientv3.Client
	deps  store.Deps
	alloc *allocators
}

// newTestServer installs the services storage with the given ranges.
func newTestServer(t *testing.T, cidr, ports string) *testServer {
	t.Helper()
	client, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	_, ipNet, err := netutils.ParseCIDRSloppy(cidr)
	if err != nil {
		t.Fatal(err)
	}
	portRange, err := utilnet.ParsePortRange(ports)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	cfg := storagebackend.NewDefaultConfig(prefix, scheme.Codecs.LegacyCodec(corev1.SchemeGroupVersion))
	cfg.Transport.ServerList = []string{etcdURL}
	d := store.Deps{
		OptsGetter: generic.RESTOptions{
			StorageConfig:           cfg.ForResource(corev1.Resource("services")),
			Decorator:               generic.UndecoratedStorage,
			ResourcePrefix:          "services",
			DeleteCollectionWorkers: 1,
		},
		Typer:          scheme.Scheme,
		GroupVersion:   corev1.SchemeGroupVersion,
		Etcd:           client,
		EtcdPrefix:     prefix,
		ServiceIPRange: *ipNet,
		NodePortRange:  *portRange,
	}
	r := store.Resources{}
	if err := Install(r, d); err != nil {
		t.Fatal(err)
	}
	rest := r["services"].(*REST)
	t.Cleanup(rest.Destroy)
	alloc, err := newAllocators(d)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{rest: rest, etcd: client, deps: d, alloc: alloc}
}

func nsContext() context.Context {
	return genericapirequest.WithNamespace(context.Background(), metav1.NamespaceDefault)
}

// newService returns a defaulted Service as the API decodes it.
func newService(name string, mutate func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	if mutate != nil {
		mutate(svc)
	}
	defaults.Service(svc)
	return svc
}

func (s *testServer) create(t *testing.T, svc *corev1.Service) (*corev1.Service, error) {
	t.Helper()
	out, err := s.rest.Create(nsContext(), svc, nil, &metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return out.(*corev1.Service), nil
}

func (s *testServer) mustCreate(t *testing.T, svc *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := s.create(t, svc)
	if err != nil {
		t.Fatalf("creating %s: %v", svc.Name, err)
	}
	return out
}

func (s *testServer) get(t *testing.T, name string) *corev1.Service {
	t.Helper()
	out, err := s.rest.Get(nsContext(), name, &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out.(*corev1.Service)
}

// keys lists the recorded allocations of a kind ("clusterips" or
// "nodeports") as value -> owner name.
func (s *testServer) keys(t *testing.T, kind string) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch kind {
	case "clusterips":
		list, _, err := s.alloc.ips.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			out[a.Value.String()] = a.Owner.Name
		}
	case "nodeports":
		list, _, err := s.alloc.ports.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			out[fmt.Sprint(a.Value)] = a.Owner.Name
		}
	}
	return out
}
