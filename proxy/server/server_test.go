package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/testenv"
	"github.com/strata-dev/strata/proxy/internal/netnstest"
)

func TestNodeAddresses(t *testing.T) {
	addr := func(t corev1.NodeAddressType, a string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: t, Address: a}
	}
	for _, tc := range []struct {
		name  string
		addrs []corev1.NodeAddress
		want  []string
	}{
		{"none", nil, nil},
		{"hostname only", []corev1.NodeAddress{addr(corev1.NodeHostName, "n1")}, nil},
		{"internal", []corev1.NodeAddress{addr(corev1.NodeHostName, "n1"), addr(corev1.NodeInternalIP, "192.168.0.2")}, []string{"192.168.0.2"}},
		{"internal before external", []corev1.NodeAddress{addr(corev1.NodeExternalIP, "203.0.113.2"), addr(corev1.NodeInternalIP, "192.168.0.2")}, []string{"192.168.0.2"}},
		{"external only", []corev1.NodeAddress{addr(corev1.NodeExternalIP, "203.0.113.2")}, []string{"203.0.113.2"}},
		{"dual stack", []corev1.NodeAddress{addr(corev1.NodeInternalIP, "fd00::2"), addr(corev1.NodeInternalIP, "192.168.0.3"), addr(corev1.NodeInternalIP, "192.168.0.2")}, []string{"fd00::2", "192.168.0.3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, ip := range NodeAddresses(&corev1.Node{Status: corev1.NodeStatus{Addresses: tc.addrs}}) {
				got = append(got, ip.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(*Options)
		want   string
	}{
		{"defaults", func(*Options) {}, ""},
		{"bad node IP", func(o *Options) { o.NodeIPs = []string{"nope"} }, `--node-ip "nope" is not an IP address`},
		{"bad cluster CIDR", func(o *Options) { o.ClusterCIDRs = []string{"10.0.0.0"} }, `--cluster-cidr "10.0.0.0"`},
		{"primary node ports", func(o *Options) { o.NodePortAddresses = []string{"primary", "10.0.0.0/8"} }, ""},
		{"bad node port CIDR", func(o *Options) { o.NodePortAddresses = []string{"x"} }, `--nodeport-addresses "x"`},
		{"bad bit", func(o *Options) { o.MasqueradeBit = 32 }, "--masquerade-bit 32 is not in [0, 31]"},
		{"zero sync period", func(o *Options) { o.SyncPeriod = 0 }, "--sync-period must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			tc.modify(o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestHostname(t *testing.T) {
	o := NewOptions()
	o.HostnameOverride = " Node-1 "
	if got, err := o.Hostname(); err != nil || got != "node-1" {
		t.Errorf("Hostname() = %q, %v; want node-1", got, err)
	}
}

// writeKubeconfig writes cfg (client certificate files) as a kubeconfig.
func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData, CertificateAuthority: cfg.CAFile}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{ClientCertificate: cfg.CertFile, ClientKey: cfg.KeyFile, ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "c"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestProxyAgainstNucleusInNetns runs `strata proxy`'s Run with a node's
// identity against an in-process nucleus, in a network namespace of its
// own: the node authorizer lets it list and watch what it needs, it finds
// its node IP on the Node, and Services answer through the rules it writes.
func TestProxyAgainstNucleusInNetns(t *testing.T) {
	if !netnstest.Enter(t, "iptables", "iptables-save", "iptables-restore") {
		return
	}
	for _, a := range []string{"192.168.0.2/32", "10.244.0.5/32", "10.244.0.6/32"} {
		netnstest.Run(t, "ip", "addr", "add", a, "dev", "lo")
	}
	netnstest.Run(t, "ip", "route", "add", "10.96.0.0/12", "dev", "lo")
	for _, ep := range []string{"10.244.0.5:8080", "10.244.0.6:8080"} {
		l, err := net.Listen("tcp", ep)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(c, "hello from %s\n", ep)
				c.Close()
			}
		}()
	}

	env := testenv.Start(t)
	admin := kubernetes.NewForConfigOrDie(env.Config)
	ctx := t.Context()

	node, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.0.2"}}
	if _, err := admin.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := admin.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			ClusterIP: "10.96.0.10",
			Type:      corev1.ServiceTypeNodePort,
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{
			discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "test",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints: []discoveryv1.Endpoint{{
			Addresses: []string{"10.244.0.5"}, NodeName: ptr.To("node1"),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		}},
	}
	if slice, err = admin.DiscoveryV1().EndpointSlices("default").Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	nodeCfg, err := env.UserConfig("system:node:node1", "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	o := NewOptions()
	o.Kubeconfig = writeKubeconfig(t, nodeCfg)
	o.HostnameOverride = "node1"
	o.ClusterCIDRs = []string{"10.244.0.0/16"}
	o.MinSyncPeriod = 10 * time.Millisecond
	o.HealthzBindAddress = "127.0.0.1:10256"
	_, logCtx := ktesting.NewTestContext(t)
	runCtx, cancel := context.WithCancel(logCtx)
	done := make(chan error, 1)
	go func() { done <- o.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	dial := func(addr string) (string, error) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line), err
	}
	waitAnswer := func(addr string, want ...string) {
		t.Helper()
		wanted := map[string]bool{}
		for _, w := range want {
			wanted[w] = true
		}
		seen := map[string]bool{}
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			got, err := dial(addr)
			if err == nil {
				seen[got] = true
			}
			for w := range wanted {
				if !seen[w] {
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("%s answered %v, want %v:\n%s", addr, seen, want, netnstest.Run(t, "iptables-save"))
		}
	}
	waitAnswer("10.96.0.10:80", "hello from 10.244.0.5:8080")
	waitAnswer("192.168.0.2:30080", "hello from 10.244.0.5:8080")
	waitAnswer("127.0.0.1:30080", "hello from 10.244.0.5:8080")

	// A second endpoint: both answer.
	slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
		Addresses: []string{"10.244.0.6"}, NodeName: ptr.To("node2"),
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
	})
	if _, err := admin.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAnswer("10.96.0.10:80", "hello from 10.244.0.5:8080", "hello from 10.244.0.6:8080")

	resp, err := http.Get("http://127.0.0.1:10256/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}

	// The Service goes: so do its rules.
	if err := admin.CoreV1().Services("default").Delete(ctx, svc.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return !strings.Contains(netnstest.Run(t, "iptables-save", "-t", "nat"), "KUBE-SVC-"), nil
	}); err != nil {
		t.Fatalf("The deleted Service's chains remain:\n%s", netnstest.Run(t, "iptables-save", "-t", "nat"))
	}

	// The proxy announced itself on its Node.
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		events, err := admin.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.Reason == "Starting" && e.Regarding.Kind == "Node" && e.Regarding.Name == "node1" && e.ReportingController == ReportingController {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("No Starting event for the node: %v", err)
	}

	// --cleanup removes everything.
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	done <- nil
	cleanup := NewOptions()
	cleanup.Cleanup = true
	if err := cleanup.Run(logCtx); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if got := netnstest.Run(t, "iptables-save"); strings.Contains(got, "KUBE-") {
		t.Errorf("Rules remain after --cleanup:\n%s", got)
	}
}
