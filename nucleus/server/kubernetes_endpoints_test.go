package server

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestEnsureKubernetesEndpoints(t *testing.T) {
	tests := []struct {
		name    string
		address string
		want    string // the endpoint address, "" for none
	}{
		{"advertised address", "192.0.2.2", "192.0.2.2"},
		{"loopback is not advertised", "127.0.0.1", ""},
		{"no address", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			client := fake.NewClientset()
			// Twice: the second run finds everything in place.
			for range 2 {
				if err := ensureKubernetesEndpoints(ctx, client, tt.address, 6443); err != nil {
					t.Fatal(err)
				}
			}
			slice, err := client.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
			if tt.want == "" {
				if err == nil {
					t.Fatalf("an endpoint slice was written for %q: %+v", tt.address, slice)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := slice.Endpoints[0].Addresses[0]; got != tt.want || *slice.Ports[0].Port != 6443 || slice.Labels["kubernetes.io/service-name"] != "kubernetes" {
				t.Errorf("slice = %+v, want %s:6443 for service kubernetes", slice, tt.want)
			}
			ep, err := client.CoreV1().Endpoints(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ep.Subsets[0].Addresses[0].IP; got != tt.want || ep.Subsets[0].Ports[0].Protocol != corev1.ProtocolTCP {
				t.Errorf("endpoints = %+v, want %s", ep.Subsets, tt.want)
			}
		})
	}
}
