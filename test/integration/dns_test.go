package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/strata-dev/strata/charts"
)

// The cluster DNS: upstream CoreDNS (bin/coredns, `make coredns`) with the
// Corefile charts/dns renders, run on loopback ports against the shared
// nucleus as the chart's ServiceAccount strata-system/coredns, asked with a
// DNS client. Containers are the end-to-end tests' business.

// corednsBinary is $COREDNS_BIN, or bin/coredns of this checkout; the test
// skips when neither is set and bin/coredns was not built.
func corednsBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("COREDNS_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("COREDNS_BIN: %v", err)
		}
		return bin
	}
	bin, err := filepath.Abs("../../bin/coredns")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("bin/coredns is not built: run make coredns, or set COREDNS_BIN")
	}
	return bin
}

const dnsNamespace = "strata-system"

var (
	svcGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	saGVR  = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	cmGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

func TestClusterDNS(t *testing.T) {
	bin := corednsBinary(t)
	ctx := t.Context()

	upstream := startFakeUpstream(t, map[string]string{"www.example.test.": "192.0.2.1"})
	dnsPort, healthPort, readyPort, metricsPort := freeTestPort(t), freeTestPort(t), freeTestPort(t), freeTestPort(t)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "coredns.kubeconfig")

	// The chart's objects but its pod: the ServiceAccount CoreDNS runs as,
	// the ConfigMap with the Corefile, the Service kube-dns at 10.96.0.10.
	rendered, err := charts.Render("../../charts/dns", charts.Options{Release: "dns", Namespace: dnsNamespace, Values: map[string]any{
		"upstreams":             []any{upstream},
		"ports":                 map[string]any{"dns": dnsPort, "health": healthPort, "ready": readyPort, "metrics": metricsPort},
		"extraKubernetesConfig": "kubeconfig " + kubeconfig,
		"extraConfig":           "bind 127.0.0.1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := charts.Objects(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dnsNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, kind := range []struct {
		kind string
		gvr  schema.GroupVersionResource
	}{{"ServiceAccount", saGVR}, {"ConfigMap", cmGVR}, {"Service", svcGVR}} {
		for _, o := range objs {
			if o.GetKind() != kind.kind {
				continue
			}
			if _, err := c.dynamic.Resource(kind.gvr).Namespace(dnsNamespace).Create(ctx, o, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating the chart's %s %s: %v", o.GetKind(), o.GetName(), err)
			}
		}
	}
	t.Cleanup(func() {
		for _, o := range objs {
			gvr := map[string]schema.GroupVersionResource{"ServiceAccount": saGVR, "ConfigMap": cmGVR, "Service": svcGVR}[o.GetKind()]
			if gvr.Resource != "" {
				_ = c.dynamic.Resource(gvr).Namespace(dnsNamespace).Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
			}
		}
	})
	kubeDNS, err := c.kube.CoreV1().Services(dnsNamespace).Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"10.96.0.10"}, kubeDNS.Spec.ClusterIPs); diff != "" {
		t.Fatalf("kube-dns cluster IPs (-want +got):\n%s", diff)
	}
	// The fixed address is the chart's alone.
	other := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "not-dns"}, Spec: corev1.ServiceSpec{
		ClusterIP: "10.96.0.10", Ports: []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}},
	}}
	if _, err := c.kube.CoreV1().Services("default").Create(ctx, other, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("a second Service at 10.96.0.10: got %v, want 422 (already allocated)", err)
	}

	// What CoreDNS reads, the ServiceAccount of strata-system may read
	// (the layer bootstrap rule); the same account in kube-system may not.
	checkDNSAccess(t, "strata-system", true)
	checkDNSAccess(t, "kube-system", false)
	writeServiceAccountKubeconfig(t, kubeconfig, dnsNamespace, "coredns")

	cm := charts.Find(objs, "ConfigMap", "coredns")
	corefile, _, _ := unstructured.NestedString(cm.Object, "data", "Corefile")
	corefilePath := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(corefilePath, []byte(corefile), 0o600); err != nil {
		t.Fatal(err)
	}

	// The cluster's names.
	ns := newNamespace(t)
	web := createService(t, ns, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
			{Name: "syslog", Port: 514, Protocol: corev1.ProtocolUDP},
		},
	}})
	createService(t, ns, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: corev1.ServiceSpec{
		ClusterIP: corev1.ClusterIPNone,
		Selector:  map[string]string{"app": "db"},
		Ports:     []corev1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}},
	}})
	createService(t, ns, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeExternalName, ExternalName: "www.example.test",
	}})
	dnsPod(t, ns, "web-a", "", "web", "10.244.1.5", true)
	dnsPod(t, ns, "db-0", "db-0", "db", "10.244.2.10", true)
	dnsPod(t, ns, "db-1", "db-1", "db", "10.244.2.11", true)
	late := dnsPod(t, ns, "db-2", "db-2", "db", "10.244.2.12", false)

	var out syncBuffer
	cmd := exec.CommandContext(ctx, bin, "-conf", corefilePath) //nolint:gosec // the test's own binary
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("coredns output:\n%s", out.String())
		}
	})
	// ready answers 200 once the kubernetes plugin has synced its informers.
	eventually(t, "coredns is ready", func() (bool, error) {
		if cmd.ProcessState != nil {
			return false, fmt.Errorf("coredns exited: %s", cmd.ProcessState)
		}
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(readyPort) + "/ready")
		if err != nil {
			return false, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("/ready: %s", resp.Status)
	})

	server := "127.0.0.1:" + strconv.Itoa(dnsPort)
	zone := ns + ".svc.cluster.local."
	// CoreDNS may report ready a moment before its UDP socket serves.
	for _, network := range []string{"udp", "tcp"} {
		eventually(t, "coredns answers over "+network, func() (bool, error) {
			_, _, err := lookup(network, server, "kube-dns.strata-system.svc.cluster.local.", dns.TypeA)
			return err == nil, err
		})
	}
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string
	}{
		{"a ClusterIP Service", "web." + zone, dns.TypeA, dns.RcodeSuccess, []string{"A " + web.Spec.ClusterIP}},
		{"no IPv6 address", "web." + zone, dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"a named TCP port", "_http._tcp.web." + zone, dns.TypeSRV, dns.RcodeSuccess, []string{"SRV 80 web." + zone}},
		{"a named UDP port", "_syslog._udp.web." + zone, dns.TypeSRV, dns.RcodeSuccess, []string{"SRV 514 web." + zone}},
		{"the fixed cluster IP of kube-dns", "kube-dns.strata-system.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.0.10"}},
		{"a headless Service: its ready pods", "db." + zone, dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.2.10", "A 10.244.2.11"}},
		{"a pod of a headless Service by hostname", "db-0.db." + zone, dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.2.10"}},
		{"a headless Service's port: one target per pod", "_pg._tcp.db." + zone, dns.TypeSRV, dns.RcodeSuccess, []string{"SRV 5432 db-0.db." + zone, "SRV 5432 db-1.db." + zone}},
		{"an ExternalName Service", "ext." + zone, dns.TypeA, dns.RcodeSuccess, []string{"A 192.0.2.1", "CNAME www.example.test."}},
		{"a pod by its address", "10-244-1-5." + ns + ".pod.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.244.1.5"}},
		{"a Service's reverse name", reverse(t, web.Spec.ClusterIP), dns.TypePTR, dns.RcodeSuccess, []string{"PTR web." + zone}},
		{"no such Service", "nothere." + zone, dns.TypeA, dns.RcodeNameError, nil},
		{"no such namespace", "web.nothere.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"a name outside the cluster: forwarded", "www.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"A 192.0.2.1"}},
		{"forwarded and unknown", "nothere.example.test.", dns.TypeA, dns.RcodeNameError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				rcode, answer, err := lookup(network, server, tt.qname, tt.qtype)
				if err != nil {
					t.Fatalf("%s %s over %s: %v", dns.TypeToString[tt.qtype], tt.qname, network, err)
				}
				if rcode != tt.rcode {
					t.Errorf("%s %s over %s: rcode %s, want %s", dns.TypeToString[tt.qtype], tt.qname, network, dns.RcodeToString[rcode], dns.RcodeToString[tt.rcode])
				}
				if diff := cmp.Diff(tt.answer, answer); diff != "" {
					t.Errorf("%s %s over %s: answer (-want +got):\n%s", dns.TypeToString[tt.qtype], tt.qname, network, diff)
				}
			}
		})
	}

	// Changes arrive through the watch: a pod turning ready joins the
	// headless Service.
	setPodReady(t, late, "10.244.2.12", true)
	want := []string{"A 10.244.2.10", "A 10.244.2.11", "A 10.244.2.12"}
	eventually(t, "the pod turned ready is in the headless Service's answer", func() (bool, error) {
		_, answer, err := lookup("udp", server, "db."+zone, dns.TypeA)
		if err != nil {
			return false, err
		}
		return cmp.Equal(want, answer), fmt.Errorf("answer %v", answer)
	})
}

// checkDNSAccess asks whether the ServiceAccount coredns of namespace may
// list and watch what CoreDNS's kubernetes plugin reads.
func checkDNSAccess(t *testing.T, namespace string, want bool) {
	t.Helper()
	user := "system:serviceaccount:" + namespace + ":coredns"
	for _, ra := range []authorizationv1.ResourceAttributes{
		{Verb: "list", Resource: "services"},
		{Verb: "watch", Resource: "services"},
		{Verb: "list", Resource: "namespaces"},
		{Verb: "watch", Resource: "namespaces"},
		{Verb: "list", Group: "discovery.k8s.io", Resource: "endpointslices"},
		{Verb: "watch", Group: "discovery.k8s.io", Resource: "endpointslices"},
	} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &ra,
		}}
		var got bool
		eventually(t, "the access review of "+user, func() (bool, error) {
			res, err := c.kube.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
			if err != nil {
				return false, err
			}
			got = res.Status.Allowed
			return got == want, nil
		})
		if got != want {
			t.Errorf("%s may %s %s: %v, want %v", user, ra.Verb, ra.Resource, got, want)
		}
	}
}

// writeServiceAccountKubeconfig writes a kubeconfig with a token of the
// ServiceAccount, what CoreDNS finds in its pod.
func writeServiceAccountKubeconfig(t *testing.T, file, namespace, name string) {
	t.Helper()
	expiration := int64(3600)
	tr, err := c.kube.CoreV1().ServiceAccounts(namespace).CreateToken(t.Context(), name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiration},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a token of %s/%s: %v", namespace, name, err)
	}
	ca := env.Config.CAData
	if len(ca) == 0 {
		if ca, err = os.ReadFile(env.Config.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["strata"] = &clientcmdapi.Cluster{Server: env.URL, CertificateAuthorityData: ca}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["strata"] = &clientcmdapi.Context{Cluster: "strata", AuthInfo: name}
	cfg.CurrentContext = "strata"
	if err := clientcmd.WriteToFile(*cfg, file); err != nil {
		t.Fatal(err)
	}
}

func createService(t *testing.T, ns string, svc *corev1.Service) *corev1.Service {
	t.Helper()
	created, err := c.kube.CoreV1().Services(ns).Create(t.Context(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Service %s: %v", svc.Name, err)
	}
	return created
}

// dnsPod creates a pod labelled app=<app>, with a hostname and the
// subdomain <app> when hostname is set, and gives it an IP and a Ready
// condition as a kubelet would.
func dnsPod(t *testing.T, ns, name, hostname, app, ip string, ready bool) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	if hostname != "" {
		pod.Spec.Hostname, pod.Spec.Subdomain = hostname, app
	}
	created, err := c.kube.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return setPodReady(t, created, ip, ready)
}

// lookup asks server for qname and returns the rcode and the answer as
// sorted "TYPE data" strings: A and AAAA addresses, CNAME and PTR targets,
// SRV port and target.
func lookup(network, server, qname string, qtype uint16) (int, []string, error) {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	cl := &dns.Client{Net: network, Timeout: 3 * time.Second}
	r, _, err := cl.Exchange(m, server)
	if err != nil {
		return 0, nil, err
	}
	var answer []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			answer = append(answer, "A "+rr.A.String())
		case *dns.AAAA:
			answer = append(answer, "AAAA "+rr.AAAA.String())
		case *dns.CNAME:
			answer = append(answer, "CNAME "+rr.Target)
		case *dns.PTR:
			answer = append(answer, "PTR "+rr.Ptr)
		case *dns.SRV:
			answer = append(answer, fmt.Sprintf("SRV %d %s", rr.Port, rr.Target))
		default:
			answer = append(answer, rr.String())
		}
	}
	slices.Sort(answer)
	return r.Rcode, answer, nil
}

func reverse(t *testing.T, ip string) string {
	t.Helper()
	name, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// startFakeUpstream serves the A records of names on a loopback UDP and TCP
// port, NXDOMAIN for every other name, and returns its address.
func startFakeUpstream(t *testing.T, names map[string]string) string {
	t.Helper()
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		ip, ok := names[dns.CanonicalName(q.Name)]
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)})
		}
		_ = w.WriteMsg(m)
	})
	// The UDP port the kernel picks may be taken for TCP (an outgoing
	// connection's ephemeral port, say): try again with another one.
	var (
		pc  net.PacketConn
		l   net.Listener
		err error
	)
	for range 20 {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		_ = pc.Close()
	}
	if err != nil {
		t.Fatalf("no loopback port free for both UDP and TCP: %v", err)
	}
	addr := pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: l, Handler: handler}} {
		go func() { _ = srv.ActivateAndServe() }()
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return addr
}

// freeTestPort returns a loopback port that is free for TCP and UDP now.
func freeTestPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", l.Addr().String())
		_ = l.Close()
		if err == nil {
			_ = pc.Close()
			return port
		}
	}
	t.Fatal(errors.New("no free loopback port for TCP and UDP"))
	return 0
}

// syncBuffer is a bytes.Buffer safe for a process's two output streams.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
