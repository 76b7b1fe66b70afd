package podenv

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strata-dev/strata/kubelet/pods"
)

// svc builds a Service: ports are "name:port/PROTO", name and protocol
// optional ("443", "http:80", "dns:53/UDP").
func svc(namespace, name, clusterIP string, ports ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: clusterIP}}
	for _, p := range ports {
		var sp corev1.ServicePort
		if name, rest, ok := strings.Cut(p, ":"); ok {
			sp.Name, p = name, rest
		}
		if port, proto, ok := strings.Cut(p, "/"); ok {
			sp.Protocol, p = corev1.Protocol(proto), port
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			panic(err)
		}
		sp.Port = int32(n)
		s.Spec.Ports = append(s.Spec.Ports, sp)
	}
	return s
}

func TestFromServices(t *testing.T) {
	tests := []struct {
		name     string
		services []*corev1.Service
		want     []pods.EnvVar
	}{
		{
			name:     "master service",
			services: []*corev1.Service{svc("default", "kubernetes", "10.96.0.1", "https:443")},
			want: []pods.EnvVar{
				{Name: "KUBERNETES_SERVICE_HOST", Value: "10.96.0.1"},
				{Name: "KUBERNETES_SERVICE_PORT", Value: "443"},
				{Name: "KUBERNETES_SERVICE_PORT_HTTPS", Value: "443"},
				{Name: "KUBERNETES_PORT", Value: "tcp://10.96.0.1:443"},
				{Name: "KUBERNETES_PORT_443_TCP", Value: "tcp://10.96.0.1:443"},
				{Name: "KUBERNETES_PORT_443_TCP_PROTO", Value: "tcp"},
				{Name: "KUBERNETES_PORT_443_TCP_PORT", Value: "443"},
				{Name: "KUBERNETES_PORT_443_TCP_ADDR", Value: "10.96.0.1"},
			},
		},
		{
			name:     "dashes, unnamed first port, several protocols",
			services: []*corev1.Service{svc("ns", "my-dns", "10.96.0.10", "53/UDP", "dns-tcp:53/TCP", "metrics:9153")},
			want: []pods.EnvVar{
				{Name: "MY_DNS_SERVICE_HOST", Value: "10.96.0.10"},
				{Name: "MY_DNS_SERVICE_PORT", Value: "53"},
				{Name: "MY_DNS_SERVICE_PORT_DNS_TCP", Value: "53"},
				{Name: "MY_DNS_SERVICE_PORT_METRICS", Value: "9153"},
				{Name: "MY_DNS_PORT", Value: "udp://10.96.0.10:53"},
				{Name: "MY_DNS_PORT_53_UDP", Value: "udp://10.96.0.10:53"},
				{Name: "MY_DNS_PORT_53_UDP_PROTO", Value: "udp"},
				{Name: "MY_DNS_PORT_53_UDP_PORT", Value: "53"},
				{Name: "MY_DNS_PORT_53_UDP_ADDR", Value: "10.96.0.10"},
				{Name: "MY_DNS_PORT_53_TCP", Value: "tcp://10.96.0.10:53"},
				{Name: "MY_DNS_PORT_53_TCP_PROTO", Value: "tcp"},
				{Name: "MY_DNS_PORT_53_TCP_PORT", Value: "53"},
				{Name: "MY_DNS_PORT_53_TCP_ADDR", Value: "10.96.0.10"},
				{Name: "MY_DNS_PORT_9153_TCP", Value: "tcp://10.96.0.10:9153"},
				{Name: "MY_DNS_PORT_9153_TCP_PROTO", Value: "tcp"},
				{Name: "MY_DNS_PORT_9153_TCP_PORT", Value: "9153"},
				{Name: "MY_DNS_PORT_9153_TCP_ADDR", Value: "10.96.0.10"},
			},
		},
		{
			name:     "IPv6 cluster IP",
			services: []*corev1.Service{svc("ns", "web", "fd00::5", "80")},
			want: []pods.EnvVar{
				{Name: "WEB_SERVICE_HOST", Value: "fd00::5"},
				{Name: "WEB_SERVICE_PORT", Value: "80"},
				{Name: "WEB_PORT", Value: "tcp://[fd00::5]:80"},
				{Name: "WEB_PORT_80_TCP", Value: "tcp://[fd00::5]:80"},
				{Name: "WEB_PORT_80_TCP_PROTO", Value: "tcp"},
				{Name: "WEB_PORT_80_TCP_PORT", Value: "80"},
				{Name: "WEB_PORT_80_TCP_ADDR", Value: "fd00::5"},
			},
		},
		{
			name: "headless and ExternalName have none",
			services: []*corev1.Service{
				svc("ns", "headless", corev1.ClusterIPNone, "80"),
				{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ext"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FromServices(tt.services)); diff != "" {
				t.Errorf("FromServices (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceEnv(t *testing.T) {
	master := svc("default", "kubernetes", "10.96.0.1", "https:443")
	web := svc("shop", "web", "10.96.0.20", "80")
	other := svc("other", "db", "10.96.0.30", "5432")
	defaultWeb := svc("default", "front", "10.96.0.40", "8080")
	headless := svc("shop", "peers", corev1.ClusterIPNone, "7000")
	shadow := svc("shop", "kubernetes", "10.96.0.99", "443")
	all := []*corev1.Service{master, web, other, defaultWeb, headless}

	hosts := func(vars map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range vars {
			if strings.HasSuffix(k, "_SERVICE_HOST") {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name      string
		services  []*corev1.Service
		namespace string
		links     bool
		want      map[string]string // the *_SERVICE_HOST variables
	}{
		{name: "namespace services and the master", services: all, namespace: "shop", links: true,
			want: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "WEB_SERVICE_HOST": "10.96.0.20"}},
		{name: "enableServiceLinks false keeps the master", services: all, namespace: "shop", links: false,
			want: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"}},
		{name: "default namespace", services: all, namespace: "default", links: true,
			want: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "FRONT_SERVICE_HOST": "10.96.0.40"}},
		{name: "a kubernetes service of the namespace wins", services: []*corev1.Service{master, shadow}, namespace: "shop", links: true,
			want: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.99"}},
		{name: "a kubernetes service of the namespace wins in any order", services: []*corev1.Service{shadow, master}, namespace: "shop", links: true,
			want: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.99"}},
		{name: "no services", namespace: "shop", links: true, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ServiceEnv(tt.services, tt.namespace, tt.links)
			if diff := cmp.Diff(tt.want, hosts(got)); diff != "" {
				t.Errorf("ServiceEnv hosts (-want +got):\n%s", diff)
			}
		})
	}
}
