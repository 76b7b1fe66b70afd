package service

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestRow(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []interface{}
	}{
		{name: "cluster IP", mutate: func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.0.10"}
		}, want: []interface{}{"web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "<unknown>", "app=web"}},
		{name: "external IPs and several ports", mutate: func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.0.10"}
			s.Spec.ExternalIPs = []string{"1.2.3.4", "5.6.7.8"}
			s.Spec.Ports = []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 53, Protocol: corev1.ProtocolUDP}}
		}, want: []interface{}{"web", "ClusterIP", "10.96.0.10", "1.2.3.4,5.6.7.8", "80/TCP,53/UDP", "<unknown>", "app=web"}},
		{name: "node port", mutate: func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ClusterIPs = []string{"10.96.0.10"}
			s.Spec.Ports[0].NodePort = 30080
		}, want: []interface{}{"web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP", "<unknown>", "app=web"}},
		{name: "pending load balancer", mutate: func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ClusterIPs = []string{"10.96.0.10"}
			s.Spec.Ports[0].NodePort = 30080
		}, want: []interface{}{"web", "LoadBalancer", "10.96.0.10", "<pending>", "80:30080/TCP", "<unknown>", "app=web"}},
		{name: "load balancer with ingress", mutate: func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.ClusterIPs = []string{"10.96.0.10"}
			s.Spec.ExternalIPs = []string{"1.2.3.4"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}, {Hostname: "lb.example.com"}}
		}, want: []interface{}{"web", "LoadBalancer", "10.96.0.10", "203.0.113.7,lb.example.com,1.2.3.4", "80/TCP", "<unknown>", "app=web"}},
		{name: "external name", mutate: func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "db.example.com"
			s.Spec.Ports = nil
			s.Spec.Selector = nil
		}, want: []interface{}{"web", "ExternalName", "<none>", "db.example.com", "<none>", "<unknown>", "<none>"}},
		{name: "headless", mutate: func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"None"}
		}, want: []interface{}{"web", "ClusterIP", "None", "<none>", "80/TCP", "<unknown>", "app=web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &corev1.Service{}
			svc.Name = "web"
			svc.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app": "web"},
				Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}
			tt.mutate(svc)
			if diff := cmp.Diff(tt.want, row(svc)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
			if len(tt.want) != len(columns) {
				t.Errorf("row has %d cells for %d columns", len(tt.want), len(columns))
			}
		})
	}
}
