package kubeletclient

import (
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(labels map[string]string, port int32, addresses ...corev1.NodeAddress) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: labels}}
	n.Status.Addresses = addresses
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
	return n
}

func TestPreferredAddress(t *testing.T) {
	internal := corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}
	hostname := corev1.NodeAddress{Type: corev1.NodeHostName, Address: "host-a"}
	external := corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.1"}
	tests := []struct {
		name    string
		node    *corev1.Node
		want    string
		wantErr string
	}{
		{name: "internal IP first", node: node(nil, 0, hostname, external, internal), want: "10.0.0.1"},
		{name: "then hostname", node: node(nil, 0, external, hostname), want: "host-a"},
		{name: "hostname label stands in", node: node(map[string]string{corev1.LabelHostname: "from-label"}, 0, external), want: "from-label"},
		{name: "external last", node: node(nil, 0, external), want: "203.0.113.1"},
		{name: "none", node: node(nil, 0, corev1.NodeAddress{Type: "Other", Address: "x"}),
			wantErr: "no preferred addresses found; known addresses: [{Other x}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PreferredAddress(tt.node, DefaultPreferredAddressTypes)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("PreferredAddress = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestConnectionPort(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	addr := corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "fd00::1"}
	for _, tt := range []struct {
		port int32
		want string
	}{{0, "https://[fd00::1]:10250/containerLogs/ns/p/c?follow=true"}, {12345, "https://[fd00::1]:12345/containerLogs/ns/p/c?follow=true"}} {
		conn, err := c.Connection(t.Context(), node(nil, tt.port, addr))
		if err != nil {
			t.Fatal(err)
		}
		if got := conn.URL("/containerLogs/ns/p/c", map[string][]string{"follow": {"true"}}).String(); got != tt.want {
			t.Errorf("URL = %s, want %s", got, tt.want)
		}
	}
}

func TestUnavailable(t *testing.T) {
	if Unavailable(nil) != nil {
		t.Error("Unavailable(nil) != nil")
	}
	notFound := apierrors.NewNotFound(corev1.Resource("nodes"), "n1")
	if err := Unavailable(notFound); err != notFound {
		t.Errorf("Unavailable(NotFound) = %v, want it unchanged", err)
	}
	if err := Unavailable(fmt.Errorf("reaching: %w", notFound)); !apierrors.IsNotFound(err) {
		t.Errorf("Unavailable(wrapped NotFound) = %v, want NotFound", err)
	}
	err := Unavailable(errors.New("dial tcp 10.0.0.1:10250: connect: connection refused"))
	if !apierrors.IsServiceUnavailable(err) || err.Error() != "dial tcp 10.0.0.1:10250: connect: connection refused" {
		t.Errorf("Unavailable(dial error) = %v, want a 503 with the cause", err)
	}
}

func TestForNodeWithoutCredentials(t *testing.T) {
	var c *Client
	if _, err := c.ForNode(t.Context(), nil, "n1"); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("ForNode without a client = %v, want 503", err)
	}
}
