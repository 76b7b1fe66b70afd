package serviceresolver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

func newResolver(t *testing.T, objs ...interface{}) *Resolver {
	t.Helper()
	svcs := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	slices := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	eps := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		var err error
		switch o.(type) {
		case *corev1.Service:
			err = svcs.Add(o)
		case *discoveryv1.EndpointSlice:
			err = slices.Add(o)
		case *corev1.Endpoints:
			err = eps.Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return &Resolver{
		Services:  corelisters.NewServiceLister(svcs),
		Slices:    discoverylisters.NewEndpointSliceLister(slices),
		Endpoints: corelisters.NewEndpointsLister(eps),
	}
}

func service(name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: corev1.ServiceSpec{Ports: ports}}
}

func TestResolveEndpoint(t *testing.T) {
	web := service("web", corev1.ServicePort{Name: "https", Port: 443, TargetPort: intstr.FromString("https")})
	unnamed := service("plain", corev1.ServicePort{Port: 443, TargetPort: intstr.FromInt32(8443)})
	external := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "ns"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "hooks.example.test"}}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		Ports:      []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](9443)}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
			{Addresses: []string{"10.0.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
		},
	}
	handMade := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "ns"},
		Subsets:    []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "127.0.0.1"}}, Ports: []corev1.EndpointPort{{Port: 8443}}}},
	}
	r := newResolver(t, web, unnamed, external, slice, handMade, service("empty", corev1.ServicePort{Port: 443}))

	tests := []struct {
		name, svc string
		port      int32
		want      string
		wantErr   string
	}{
		{name: "ready slice endpoint, named port", svc: "web", port: 443, want: "https://10.0.0.2:9443"},
		{name: "hand-made endpoints", svc: "plain", port: 443, want: "https://127.0.0.1:8443"},
		{name: "external name", svc: "ext", port: 443, want: "https://hooks.example.test:443"},
		{name: "missing service", svc: "nope", port: 443, wantErr: "service ns/nope not found"},
		{name: "wrong port", svc: "web", port: 80, wantErr: "service ns/web has no port 80"},
		{name: "no endpoints", svc: "empty", port: 443, wantErr: "service ns/empty has no ready endpoints for port 443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := r.ResolveEndpoint("ns", tt.svc, tt.port)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tt.want {
				t.Errorf("url = %s, want %s", u, tt.want)
			}
		})
	}
}
