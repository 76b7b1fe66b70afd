package node

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/strata-dev/strata/nucleus/kubeletclient"
)

type nodeGetter map[string]*corev1.Node

func (g nodeGetter) Get(_ context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if n, ok := g[name]; ok {
		return n, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("nodes"), name)
}

func TestProxyLocation(t *testing.T) {
	client, err := kubeletclient.New(kubeletclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	n1 := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	n1.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.10"}}
	n1.Status.DaemonEndpoints.KubeletEndpoint.Port = 10250
	r := newProxyREST(nodeGetter{"n1": n1}, client)
	r.proxyable = func(_ context.Context, host string) error {
		if host == "192.0.2.10" {
			return nil
		}
		return errors.New("address not allowed")
	}

	tests := []struct {
		id            string
		want          string
		wantKubelet   bool
		wantErrStatus int32
	}{
		{id: "n1", want: "https://192.0.2.10:10250", wantKubelet: true},
		{id: "n1:10250", want: "https://192.0.2.10:10250", wantKubelet: true},
		{id: "n1:8080", want: "http://192.0.2.10:8080"},
		{id: "https:n1:8443", want: "https://192.0.2.10:8443"},
		{id: "missing", wantErrStatus: 404},
		{id: "a:b:c:d", wantErrStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			loc, transport, err := r.location(t.Context(), tt.id)
			if tt.wantErrStatus != 0 {
				if status, ok := err.(apierrors.APIStatus); !ok || status.Status().Code != tt.wantErrStatus {
					t.Fatalf("error = %v, want status %d", err, tt.wantErrStatus)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if loc.String() != tt.want {
				t.Errorf("location = %s, want %s", loc, tt.want)
			}
			if (transport != r.transport) != tt.wantKubelet {
				t.Errorf("kubelet transport = %v, want %v", transport != r.transport, tt.wantKubelet)
			}
		})
	}

	n1.Status.Addresses[0].Address = "127.0.0.1"
	if _, _, err := r.location(t.Context(), "n1"); !apierrors.IsBadRequest(err) || err.Error() != "address not allowed" {
		t.Errorf("loopback node: error = %v, want BadRequest address not allowed", err)
	}
}

func TestIsProxyableHostname(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": false, "169.254.1.1": false, "::1": false, "192.0.2.1": true} {
		if got := isProxyableHostname(t.Context(), host) == nil; got != want {
			t.Errorf("isProxyableHostname(%s) = %v, want %v", host, got, want)
		}
	}
}
