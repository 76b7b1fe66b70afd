package service

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// summary renders errors as "field: type" for comparison.
func summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+": "+e.Type.String())
	}
	return out
}

func TestValidateService(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []string
	}{
		{name: "valid", mutate: func(*corev1.Service) {}},
		{name: "valid headless without ports", mutate: func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil
		}},
		{name: "missing ports", mutate: func(s *corev1.Service) { s.Spec.Ports = nil },
			want: []string{"spec.ports: Required value"}},
		{name: "port out of range", mutate: func(s *corev1.Service) { s.Spec.Ports[0].Port = 70000 },
			want: []string{"spec.ports[0].port: Invalid value"}},
		{name: "port zero", mutate: func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 },
			want: []string{"spec.ports[0].port: Invalid value"}},
		{name: "unnamed second port", mutate: func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(443)})
		}, want: []string{"spec.ports[1].name: Required value"}},
		{name: "duplicate port names", mutate: func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "http", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(443)})
		}, want: []string{"spec.ports[1].name: Duplicate value"}},
		{name: "duplicate port and protocol", mutate: func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "other", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)})
		}, want: []string{"spec.ports[1]: Duplicate value"}},
		{name: "bad protocol", mutate: func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "HTTP" },
			want: []string{"spec.ports[0].protocol: Unsupported value"}},
		{name: "bad target port number", mutate: func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromInt32(0) },
			want: []string{"spec.ports[0].targetPort: Invalid value"}},
		{name: "bad target port name", mutate: func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("Not_A_Name") },
			want: []string{"spec.ports[0].targetPort: Invalid value"}},
		{name: "named target port", mutate: func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("http-alt") }},
		{name: "bad type", mutate: func(s *corev1.Service) { s.Spec.Type = "Magic" },
			want: []string{"spec.type: Unsupported value"}},
		{name: "nodePort on ClusterIP", mutate: func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 },
			want: []string{"spec.ports[0].nodePort: Forbidden"}},
		{name: "bad session affinity", mutate: func(s *corev1.Service) { s.Spec.SessionAffinity = "Cookie" },
			want: []string{"spec.sessionAffinity: Unsupported value"}},
		{name: "affinity timeout too long", mutate: func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](86401)}}
		}, want: []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value"}},
		{name: "affinity timeout at the limit", mutate: func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](86400)}}
		}},
		{name: "affinity config with None", mutate: func(s *corev1.Service) {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](10)}}
		}, want: []string{"spec.sessionAffinityConfig: Invalid value"}},
		{name: "bad selector", mutate: func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "bad value!"} },
			want: []string{"spec.selector: Invalid value"}},
		{name: "valid ExternalName", mutate: func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName, s.Spec.Ports = corev1.ServiceTypeExternalName, "db.example.com.", nil
		}},
		{name: "ExternalName not a DNS name", mutate: func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "not a name"
		}, want: []string{"spec.externalName: Invalid value"}},
		{name: "ExternalName missing", mutate: func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeExternalName },
			want: []string{"spec.externalName: Required value"}},
		{name: "ExternalName with clusterIP", mutate: func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "example.com"
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.5", []string{"10.96.0.5"}
		}, want: []string{"spec.clusterIP: Forbidden", "spec.clusterIPs: Forbidden"}},
		{name: "bad clusterIP", mutate: func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "300.1.1.1", []string{"300.1.1.1"} },
			want: []string{"spec.clusterIPs[0]: Invalid value"}},
		{name: "headless NodePort", mutate: func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIP = corev1.ServiceTypeNodePort, corev1.ClusterIPNone
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}, want: []string{"spec.clusterIPs[0]: Invalid value"}},
		{name: "externalTrafficPolicy on ClusterIP", mutate: func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}, want: []string{"spec.externalTrafficPolicy: Invalid value"}},
		{name: "healthCheckNodePort without Local", mutate: func(s *corev1.Service) { s.Spec.HealthCheckNodePort = 31000 },
			want: []string{"spec.healthCheckNodePort: Invalid value"}},
		{name: "bad externalIP", mutate: func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"1.2.3"} },
			want: []string{"spec.externalIPs[0]: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService("web", nil)
			tt.mutate(svc)
			if diff := cmp.Diff(tt.want, summary(validateService(context.Background(), svc))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateServiceUpdate(t *testing.T) {
	old := newService("web", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.5", []string{"10.96.0.5"} })
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []string
	}{
		{name: "unchanged", mutate: func(*corev1.Service) {}},
		{name: "changed clusterIP", mutate: func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.6", []string{"10.96.0.6"} },
			want: []string{`spec.clusterIPs[0]: Invalid value: ["10.96.0.6"]: may not change once set`}},
		{name: "unset clusterIP", mutate: func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil },
			want: []string{`spec.clusterIPs[0]: Invalid value: null: primary clusterIP can not be unset`}},
		{name: "to ExternalName", mutate: func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ServiceTypeExternalName, "", nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := old.DeepCopy()
			tt.mutate(svc)
			var got []string
			for _, e := range validateServiceUpdate(context.Background(), svc, old) {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInitIPFamilyFields(t *testing.T) {
	tests := []struct {
		name         string
		mutate       func(*corev1.Service)
		wantFamilies []corev1.IPFamily
		wantPolicy   *corev1.IPFamilyPolicy
		wantErrs     []string
	}{
		{name: "defaults", mutate: func(*corev1.Service) {},
			wantFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, wantPolicy: ptr.To(corev1.IPFamilyPolicySingleStack)},
		{name: "prefer dual-stack on a single-stack cluster", mutate: func(s *corev1.Service) {
			s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack)
		}, wantFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, wantPolicy: ptr.To(corev1.IPFamilyPolicyPreferDualStack)},
		{name: "require dual-stack", mutate: func(s *corev1.Service) {
			s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		}, wantPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack), wantErrs: []string{"spec.ipFamilyPolicy: Invalid value"}},
		{name: "IPv6 family", mutate: func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} },
			wantFamilies: []corev1.IPFamily{corev1.IPv6Protocol}, wantPolicy: ptr.To(corev1.IPFamilyPolicySingleStack),
			wantErrs: []string{"spec.ipFamilies[0]: Invalid value"}},
		{name: "headless selectorless", mutate: func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Selector = corev1.ClusterIPNone, nil },
			wantFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}, wantPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService("web", nil)
			tt.mutate(svc)
			errs := initIPFamilyFields(svc, nil, corev1.IPv4Protocol)
			if diff := cmp.Diff(tt.wantErrs, summary(errs)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFamilies, svc.Spec.IPFamilies); diff != "" {
				t.Errorf("ipFamilies (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPolicy, svc.Spec.IPFamilyPolicy); diff != "" {
				t.Errorf("ipFamilyPolicy (-want +got):\n%s", diff)
			}
		})
	}
}
