package endpointslice

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
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

func validSlice() *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Hostname: ptr.To("web-0")}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](80), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	s.Name = "web-abcde"
	s.Labels = map[string]string{discoveryv1.LabelServiceName: "web"}
	return s
}

func TestValidate(t *testing.T) {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tests := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []string
	}{
		{name: "valid", mutate: func(*discoveryv1.EndpointSlice) {}},
		{name: "without service label", mutate: func(s *discoveryv1.EndpointSlice) { s.Labels = nil }},
		{name: "missing address type", mutate: func(s *discoveryv1.EndpointSlice) { s.AddressType = "" },
			want: []string{"addressType: Required value"}},
		{name: "unsupported address type", mutate: func(s *discoveryv1.EndpointSlice) { s.AddressType = "IP" },
			want: []string{"addressType: Unsupported value"}},
		{name: "IPv6 address in IPv4 slice", mutate: func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"fd00::1"} },
			want: []string{"endpoints[0].addresses[0]: Invalid value"}},
		{name: "valid IPv6", mutate: func(s *discoveryv1.EndpointSlice) {
			s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeIPv6, []string{"fd00::1"}
		}},
		{name: "IPv4 address in IPv6 slice", mutate: func(s *discoveryv1.EndpointSlice) { s.AddressType = discoveryv1.AddressTypeIPv6 },
			want: []string{"endpoints[0].addresses[0]: Invalid value"}},
		{name: "valid FQDN", mutate: func(s *discoveryv1.EndpointSlice) {
			s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeFQDN, []string{"db.example.com"}
		}},
		{name: "bad FQDN", mutate: func(s *discoveryv1.EndpointSlice) {
			s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeFQDN, []string{"db"}
		}, want: []string{"endpoints[0].addresses[0]: Invalid value"}},
		{name: "loopback", mutate: func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"127.0.0.1"} },
			want: []string{"endpoints[0].addresses[0]: Invalid value"}},
		{name: "no addresses", mutate: func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = nil },
			want: []string{"endpoints[0].addresses: Required value"}},
		{name: "101 addresses", mutate: func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].Addresses = many(101, func(i int) string { return fmt.Sprintf("10.0.%d.%d", i/250, i%250+1) })
		}, want: []string{"endpoints[0].addresses: Too many"}},
		{name: "1001 endpoints", mutate: func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = make([]discoveryv1.Endpoint, 1001)
		}, want: []string{"endpoints: Too many"}},
		{name: "101 ports", mutate: func(s *discoveryv1.EndpointSlice) {
			s.Ports = nil
			for i := 0; i < 101; i++ {
				s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr.To(fmt.Sprint("p", i)), Port: ptr.To(int32(i + 1)), Protocol: ptr.To(corev1.ProtocolTCP)})
			}
		}, want: []string{"ports: Too many"}},
		{name: "duplicate port names", mutate: func(s *discoveryv1.EndpointSlice) { s.Ports = append(s.Ports, s.Ports[0]) },
			want: []string{"ports[1].name: Duplicate value"}},
		{name: "bad port", mutate: func(s *discoveryv1.EndpointSlice) { s.Ports[0].Port = ptr.To[int32](0) },
			want: []string{"ports[0].port: Invalid value"}},
		{name: "bad protocol", mutate: func(s *discoveryv1.EndpointSlice) { s.Ports[0].Protocol = ptr.To(corev1.Protocol("HTTP")) },
			want: []string{"ports[0].protocol: Unsupported value"}},
		{name: "bad hostname", mutate: func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Hostname = ptr.To("Web_0") },
			want: []string{"endpoints[0].hostname: Invalid value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSlice()
			tt.mutate(s)
			if diff := cmp.Diff(tt.want, summary(validate(context.Background(), s))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUpdateAddressTypeImmutable(t *testing.T) {
	old := validSlice()
	s := validSlice()
	if errs := validateUpdate(context.Background(), s, old); len(errs) != 0 {
		t.Errorf("unchanged slice: %v", errs)
	}
	s.AddressType, s.Endpoints[0].Addresses = discoveryv1.AddressTypeIPv6, []string{"fd00::1"}
	want := []string{`addressType: Invalid value: "IPv6": field is immutable`}
	var got []string
	for _, e := range validateUpdate(context.Background(), s, old) {
		got = append(got, e.Error())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []interface{}
	}{
		{name: "simple", mutate: func(*discoveryv1.EndpointSlice) {},
			want: []interface{}{"web-abcde", "IPv4", "80", "10.0.0.1", "<unknown>"}},
		{name: "empty", mutate: func(s *discoveryv1.EndpointSlice) { s.Ports, s.Endpoints = nil, nil },
			want: []interface{}{"web-abcde", "IPv4", "<unset>", "<unset>", "<unknown>"}},
		{name: "many", mutate: func(s *discoveryv1.EndpointSlice) {
			s.Ports = []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}, {Name: ptr.To("metrics")}, {}, {Port: ptr.To[int32](443)}}
			s.Endpoints = []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1", "10.0.0.2"}}, {Addresses: []string{"10.0.0.3"}}, {Addresses: []string{"10.0.0.4"}}}
		}, want: []interface{}{"web-abcde", "IPv4", "80,metrics,* + 1 more...", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "<unknown>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSlice()
			tt.mutate(s)
			if diff := cmp.Diff(tt.want, Definition.Row(s)); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
