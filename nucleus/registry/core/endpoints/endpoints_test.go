package endpoints

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func summary(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+": "+e.Type.String())
	}
	return out
}

func validEndpoints() *corev1.Endpoints {
	e := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}, {IP: "10.0.0.2", Hostname: "web-1", NodeName: ptr.To("node-a")}},
		Ports:     []corev1.EndpointPort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, {Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}},
	}}}
	e.Name = "web"
	return e
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Endpoints)
		want   []string
	}{
		{name: "valid", mutate: func(*corev1.Endpoints) {}},
		{name: "no subsets", mutate: func(e *corev1.Endpoints) { e.Subsets = nil }},
		{name: "single unnamed port", mutate: func(e *corev1.Endpoints) {
			e.Subsets[0].Ports = []corev1.EndpointPort{{Port: 80, Protocol: corev1.ProtocolTCP}}
		}},
		{name: "no addresses", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Addresses = nil },
			want: []string{"subsets[0]: Required value"}},
		{name: "only not ready addresses", mutate: func(e *corev1.Endpoints) {
			e.Subsets[0].NotReadyAddresses, e.Subsets[0].Addresses = e.Subsets[0].Addresses, nil
		}},
		{name: "invalid IP", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Addresses[0].IP = "10.0.0" },
			want: []string{"subsets[0].addresses[0].ip: Invalid value"}},
		{name: "loopback IP", mutate: func(e *corev1.Endpoints) {
			e.Subsets[0].NotReadyAddresses = []corev1.EndpointAddress{{IP: "127.0.0.1"}}
		},
			want: []string{"subsets[0].notReadyAddresses[0].ip: Invalid value"}},
		{name: "bad hostname", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Addresses[0].Hostname = "Web_1" },
			want: []string{"subsets[0].addresses[0].hostname: Invalid value"}},
		{name: "port zero", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Ports[0].Port = 0 },
			want: []string{"subsets[0].ports[0].port: Invalid value"}},
		{name: "port too big", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Ports[1].Port = 65536 },
			want: []string{"subsets[0].ports[1].port: Invalid value"}},
		{name: "duplicate names", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Ports[1].Name = "http" },
			want: []string{"subsets[0].ports[1].name: Duplicate value"}},
		{name: "unnamed among several", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Ports[1].Name = "" },
			want: []string{"subsets[0].ports[1].name: Required value"}},
		{name: "bad protocol", mutate: func(e *corev1.Endpoints) { e.Subsets[0].Ports[0].Protocol = "ICMP" },
			want: []string{"subsets[0].ports[0].protocol: Unsupported value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEndpoints()
			tt.mutate(e)
			if diff := cmp.Diff(tt.want, summary(validate(context.Background(), e))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateNonSpecialIPMessages(t *testing.T) {
	tests := map[string]string{
		"0.0.0.0":     `ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)`,
		"::1":         `ip: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)`,
		"169.254.1.1": `ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`,
		"224.0.0.5":   `ip: Invalid value: "224.0.0.5": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)`,
		"10.1.2.3":    "",
	}
	for ip, want := range tests {
		got := ""
		if errs := ValidateNonSpecialIP(ip, field.NewPath("ip")); len(errs) > 0 {
			got = errs.ToAggregate().Error()
		}
		if got != want {
			t.Errorf("ValidateNonSpecialIP(%s) = %q, want %q", ip, got, want)
		}
	}
}

func TestFormatEndpoints(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		var out []corev1.EndpointAddress
		for _, ip := range ips {
			out = append(out, corev1.EndpointAddress{IP: ip})
		}
		return out
	}
	tests := []struct {
		name    string
		subsets []corev1.EndpointSubset
		want    string
	}{
		{name: "none", want: "<none>"},
		{name: "one", subsets: []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}}},
			want: "10.0.0.1:80"},
		{name: "more than three", subsets: []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2"),
			Ports: []corev1.EndpointPort{{Name: "a", Port: 80}, {Name: "b", Port: 443}}}},
			want: "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."},
		{name: "headless without ports", subsets: []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2")}},
			want: "10.0.0.1,10.0.0.2"},
		{name: "IPv6", subsets: []corev1.EndpointSubset{{Addresses: addrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}}}},
			want: "[fd00::1]:80"},
		{name: "not ready only", subsets: []corev1.EndpointSubset{{NotReadyAddresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}}},
			want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Definition.Row(&corev1.Endpoints{Subsets: tt.subsets})
			if diff := cmp.Diff(tt.want, got[1]); diff != "" {
				t.Errorf("ENDPOINTS (-want +got):\n%s", diff)
			}
		})
	}
}
