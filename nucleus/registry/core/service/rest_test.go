package service

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	netutils "k8s.io/utils/net"
	"k8s.io/utils/ptr"
)

func TestCreateAllocatesClusterIP(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	got := s.mustCreate(t, newService("web", nil))
	ip := netutils.ParseIPSloppy(got.Spec.ClusterIP)
	if ip == nil || !s.deps.ServiceIPRange.Contains(ip) {
		t.Fatalf("clusterIP %q is not in the range", got.Spec.ClusterIP)
	}
	if err := s.alloc.ips.DryRun().Allocate(context.Background(), ip, ownerOf(got)); err != nil {
		t.Errorf("allocated IP %s not held by the service: %v", ip, err)
	}
	want := corev1.ServiceSpec{
		ClusterIP: got.Spec.ClusterIP, ClusterIPs: []string{got.Spec.ClusterIP},
		IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicySingleStack),
	}
	gotFields := corev1.ServiceSpec{ClusterIP: got.Spec.ClusterIP, ClusterIPs: got.Spec.ClusterIPs,
		IPFamilies: got.Spec.IPFamilies, IPFamilyPolicy: got.Spec.IPFamilyPolicy}
	if diff := cmp.Diff(want, gotFields); diff != "" {
		t.Errorf("IP fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{got.Spec.ClusterIP: "web"}, s.keys(t, "clusterips")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestCreateClusterIPErrors(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	s.mustCreate(t, newService("dns", func(svc *corev1.Service) { svc.Spec.ClusterIP = "10.96.0.10" }))
	tests := []struct {
		name, ip, want string
	}{
		{name: "taken", ip: "10.96.0.10",
			want: `Service "taken" is invalid: spec.clusterIPs: Invalid value: "10.96.0.10": failed to allocate IP 10.96.0.10: provided IP is already allocated`},
		{name: "outside", ip: "10.200.0.1",
			want: `Service "outside" is invalid: spec.clusterIPs: Invalid value: "10.200.0.1": failed to allocate IP 10.200.0.1: the provided IP (10.200.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12`},
		{name: "network", ip: "10.96.0.0",
			want: `Service "network" is invalid: spec.clusterIPs: Invalid value: "10.96.0.0": failed to allocate IP 10.96.0.0: the provided IP (10.96.0.0) is not in the valid range. The range of valid IPs is 10.96.0.0/12`},
		{name: "garbage", ip: "not-an-ip",
			want: `Service "garbage" is invalid: spec.clusterIPs[0]: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.create(t, newService(tt.name, func(svc *corev1.Service) { svc.Spec.ClusterIP = tt.ip }))
			if !apierrors.IsInvalid(err) || err.Error() != tt.want {
				t.Errorf("error = %v\nwant   %s", err, tt.want)
			}
		})
	}
	if diff := cmp.Diff(map[string]string{"10.96.0.10": "dns"}, s.keys(t, "clusterips")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestCreateWithoutClusterIP(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	headless := s.mustCreate(t, newService("headless", func(svc *corev1.Service) { svc.Spec.ClusterIP = corev1.ClusterIPNone }))
	external := s.mustCreate(t, newService("external", func(svc *corev1.Service) {
		svc.Spec.Type = corev1.ServiceTypeExternalName
		svc.Spec.ExternalName = "example.com"
		svc.Spec.Selector = nil
	}))
	if diff := cmp.Diff([]string{corev1.ClusterIPNone}, headless.Spec.ClusterIPs); diff != "" {
		t.Errorf("headless clusterIPs (-want +got):\n%s", diff)
	}
	if external.Spec.ClusterIP != "" || len(external.Spec.ClusterIPs) != 0 || external.Spec.IPFamilyPolicy != nil {
		t.Errorf("ExternalName service got IP fields: %+v", external.Spec)
	}
	if keys := s.keys(t, "clusterips"); len(keys) != 0 {
		t.Errorf("records = %v, want none", keys)
	}
}

func TestCreateExistingReportsAlreadyExists(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	kubernetes := func(svc *corev1.Service) { svc.Spec.ClusterIP = "10.96.0.1" }
	s.mustCreate(t, newService("kubernetes", kubernetes))
	if _, err := s.create(t, newService("kubernetes", kubernetes)); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v, want AlreadyExists", err)
	}
}

func TestCreateRollsBackOnFailure(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	reject := func(context.Context, runtime.Object) error { return errors.New("denied by admission") }
	svc := newService("np", func(svc *corev1.Service) { svc.Spec.Type = corev1.ServiceTypeNodePort })
	if _, err := s.rest.Create(nsContext(), svc, reject, &metav1.CreateOptions{}); err == nil {
		t.Fatal("create succeeded despite the rejecting validation")
	}
	if ips, ports := s.keys(t, "clusterips"), s.keys(t, "nodeports"); len(ips)+len(ports) != 0 {
		t.Errorf("records left after a failed create: %v %v", ips, ports)
	}
}

func TestCreateDryRunAllocatesNothing(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	svc := newService("np", func(svc *corev1.Service) { svc.Spec.Type = corev1.ServiceTypeNodePort })
	out, err := s.rest.Create(nsContext(), svc, nil, &metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Service)
	if got.Spec.ClusterIP == "" || got.Spec.Ports[0].NodePort == 0 {
		t.Errorf("dry run did not show the allocations: %+v", got.Spec)
	}
	if ips, ports := s.keys(t, "clusterips"), s.keys(t, "nodeports"); len(ips)+len(ports) != 0 {
		t.Errorf("records after a dry run: %v %v", ips, ports)
	}
}

func TestNodePorts(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	nodePort := func(ports ...corev1.ServicePort) func(*corev1.Service) {
		return func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeNodePort
			svc.Spec.Ports = ports
		}
	}
	first := s.mustCreate(t, newService("first", nodePort(corev1.ServicePort{Name: "http", Port: 80, NodePort: 30080})))
	if first.Spec.Ports[0].NodePort != 30080 {
		t.Errorf("requested nodePort not kept: %d", first.Spec.Ports[0].NodePort)
	}
	_, err := s.create(t, newService("second", nodePort(corev1.ServicePort{Name: "http", Port: 80, NodePort: 30080})))
	want := `Service "second" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated`
	if err == nil || err.Error() != want {
		t.Errorf("taken nodePort: %v\nwant %s", err, want)
	}
	_, err = s.create(t, newService("third", nodePort(corev1.ServicePort{Name: "http", Port: 80, NodePort: 8080})))
	want = `Service "third" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767`
	if err == nil || err.Error() != want {
		t.Errorf("out of range nodePort: %v\nwant %s", err, want)
	}

	// Ports sharing a number (DNS over TCP and UDP) share a node port.
	dns := s.mustCreate(t, newService("dns", nodePort(
		corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
		corev1.ServicePort{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "metrics", Port: 9153},
	)))
	p := dns.Spec.Ports
	if p[0].NodePort < 30000 || p[0].NodePort > 32767 || p[0].NodePort != p[1].NodePort || p[2].NodePort == p[0].NodePort || p[2].NodePort == 0 {
		t.Errorf("node ports = %d, %d, %d; want one shared by port 53 and another for 9153", p[0].NodePort, p[1].NodePort, p[2].NodePort)
	}
	if got := len(s.keys(t, "nodeports")); got != 3 {
		t.Errorf("%d node port records, want 3", got)
	}
}

func TestUpdate(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	ctx := nsContext()
	update := func(svc *corev1.Service) (*corev1.Service, error) {
		out, _, err := s.rest.Update(ctx, svc.Name, rest.DefaultUpdatedObjectInfo(svc), nil, nil, false, &metav1.UpdateOptions{})
		if err != nil {
			return nil, err
		}
		return out.(*corev1.Service), nil
	}
	svc := s.mustCreate(t, newService("web", nil))
	clusterIP := svc.Spec.ClusterIP

	// ClusterIP -> NodePort allocates node ports.
	svc.Spec.Type = corev1.ServiceTypeNodePort
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	svc, err := update(svc)
	if err != nil {
		t.Fatal(err)
	}
	np := svc.Spec.Ports[0].NodePort
	if np == 0 || svc.Spec.ClusterIP != clusterIP {
		t.Fatalf("after the change to NodePort: nodePort %d, clusterIP %s (was %s)", np, svc.Spec.ClusterIP, clusterIP)
	}

	// A client omitting the allocated values keeps them; a new port gets
	// a new node port.
	next := newService("web", func(n *corev1.Service) {
		n.Spec.Type = corev1.ServiceTypeNodePort
		n.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "https", Port: 443}}
	})
	next.ResourceVersion = svc.ResourceVersion
	svc, err = update(next)
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != clusterIP || svc.Spec.Ports[0].NodePort != np || svc.Spec.Ports[1].NodePort == 0 {
		t.Fatalf("omitted values not kept: clusterIP %s, ports %+v", svc.Spec.ClusterIP, svc.Spec.Ports)
	}
	if got := len(s.keys(t, "nodeports")); got != 2 {
		t.Errorf("%d node port records, want 2", got)
	}

	// Dropping a port releases its node port.
	svc.Spec.Ports = svc.Spec.Ports[:1]
	if svc, err = update(svc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{itoa(np): "web"}, s.keys(t, "nodeports")); diff != "" {
		t.Errorf("node port records (-want +got):\n%s", diff)
	}

	// The cluster IP may not change.
	changed := svc.DeepCopy()
	changed.Spec.ClusterIP, changed.Spec.ClusterIPs = "10.96.0.50", []string{"10.96.0.50"}
	_, err = update(changed)
	want := `Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.50"]: may not change once set`
	if err == nil || err.Error() != want {
		t.Errorf("changing the clusterIP: %v\nwant %s", err, want)
	}

	// NodePort -> ClusterIP releases the node ports.
	svc.Spec.Type = corev1.ServiceTypeClusterIP
	if svc, err = update(svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Ports[0].NodePort != 0 || svc.Spec.ExternalTrafficPolicy != "" {
		t.Errorf("node port fields kept on ClusterIP: %+v", svc.Spec)
	}
	if keys := s.keys(t, "nodeports"); len(keys) != 0 {
		t.Errorf("node port records after the change to ClusterIP: %v", keys)
	}

	// ClusterIP -> ExternalName releases the IP; back allocates a new one.
	svc.Spec.Type = corev1.ServiceTypeExternalName
	svc.Spec.ExternalName = "example.com"
	if svc, err = update(svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "" || len(s.keys(t, "clusterips")) != 0 {
		t.Errorf("after the change to ExternalName: clusterIP %q, records %v", svc.Spec.ClusterIP, s.keys(t, "clusterips"))
	}
	svc.Spec.Type = corev1.ServiceTypeClusterIP
	svc.Spec.ExternalName = ""
	if svc, err = update(svc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{svc.Spec.ClusterIP: "web"}, s.keys(t, "clusterips")); svc.Spec.ClusterIP == "" || diff != "" {
		t.Errorf("after the change back to ClusterIP: clusterIP %q, records (-want +got):\n%s", svc.Spec.ClusterIP, diff)
	}
}

func TestDeleteReleases(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	s.mustCreate(t, newService("np", func(svc *corev1.Service) { svc.Spec.Type = corev1.ServiceTypeNodePort }))
	if _, _, err := s.rest.Delete(nsContext(), "np", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if ips, ports := s.keys(t, "clusterips"), s.keys(t, "nodeports"); len(ips)+len(ports) != 0 {
		t.Errorf("records left after delete: %v %v", ips, ports)
	}
}

func TestRepair(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	ctx := context.Background()
	live := s.mustCreate(t, newService("live", func(svc *corev1.Service) { svc.Spec.Type = corev1.ServiceTypeNodePort }))
	// A record whose Service is gone, and a Service whose record is lost.
	leaked := netutils.ParseIPSloppy("10.96.0.99")
	if err := s.alloc.ips.Allocate(ctx, leaked, ownerOf(newService("gone", nil))); err != nil {
		t.Fatal(err)
	}
	if err := s.alloc.ports.Release(ctx, int(live.Spec.Ports[0].NodePort), ownerOf(live)); err != nil {
		t.Fatal(err)
	}

	r := &repairer{alloc: s.alloc, list: listServices(s.rest.Store)}
	if err := r.repair(ctx); err != nil {
		t.Fatal(err)
	}
	wantIPs := map[string]string{live.Spec.ClusterIP: "live", "10.96.0.99": "gone"}
	wantPorts := map[string]string{itoa(live.Spec.Ports[0].NodePort): "live"}
	if diff := cmp.Diff(wantIPs, s.keys(t, "clusterips")); diff != "" {
		t.Errorf("IP records after the first pass (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantPorts, s.keys(t, "nodeports")); diff != "" {
		t.Errorf("port records after the first pass (-want +got):\n%s", diff)
	}
	if err := r.repair(ctx); err != nil {
		t.Fatal(err)
	}
	delete(wantIPs, "10.96.0.99")
	if diff := cmp.Diff(wantIPs, s.keys(t, "clusterips")); diff != "" {
		t.Errorf("IP records after the second pass (-want +got):\n%s", diff)
	}
}

func itoa(p int32) string {
	return strconv.Itoa(int(p))
}

func TestHealthCheckNodePort(t *testing.T) {
	s := newTestServer(t, "10.96.0.0/12", "30000-32767")
	svc := s.mustCreate(t, newService("lb", func(svc *corev1.Service) {
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}))
	hc := svc.Spec.HealthCheckNodePort
	if hc == 0 || hc == svc.Spec.Ports[0].NodePort {
		t.Fatalf("healthCheckNodePort = %d (port's nodePort %d), want a distinct allocated port", hc, svc.Spec.Ports[0].NodePort)
	}
	if got := len(s.keys(t, "nodeports")); got != 2 {
		t.Errorf("%d node port records, want 2", got)
	}

	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	out, _, err := s.rest.Update(nsContext(), svc.Name, rest.DefaultUpdatedObjectInfo(svc), nil, nil, false, &metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*corev1.Service); got.Spec.HealthCheckNodePort != 0 {
		t.Errorf("healthCheckNodePort kept after the change to Cluster: %d", got.Spec.HealthCheckNodePort)
	}
	if diff := cmp.Diff(map[string]string{itoa(svc.Spec.Ports[0].NodePort): "lb"}, s.keys(t, "nodeports")); diff != "" {
		t.Errorf("node port records (-want +got):\n%s", diff)
	}
}
