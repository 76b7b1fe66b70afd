package endpoints

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

type podBuilder struct{ pod *corev1.Pod }

func makePod(name, ip string) podBuilder {
	return podBuilder{&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}}
}

func (b podBuilder) Ready() podBuilder {
	b.pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	return b
}

func (b podBuilder) Terminating() podBuilder {
	now := metav1.Now()
	b.pod.DeletionTimestamp = &now
	return b
}

func (b podBuilder) Phase(p corev1.PodPhase) podBuilder { b.pod.Status.Phase = p; return b }

func (b podBuilder) Port(name string, port int32) podBuilder {
	b.pod.Spec.Containers[0].Ports = append(b.pod.Spec.Containers[0].Ports, corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: corev1.ProtocolTCP})
	return b
}

func (b podBuilder) Hostname(host, subdomain string) podBuilder {
	b.pod.Spec.Hostname, b.pod.Spec.Subdomain = host, subdomain
	return b
}

func (b podBuilder) Obj() *corev1.Pod { return b.pod }

func service(target intstr.IntOrString) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: target}},
		},
	}
}

func port(p int32) []discoveryv1.EndpointPort {
	return []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(p)}}
}

func endpoint(pod *corev1.Pod, ready, serving, terminating bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{pod.Status.PodIP},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		NodeName:   ptr.To("node-1"),
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: pod.Name, UID: pod.UID},
	}
}

func TestDesiredSlices(t *testing.T) {
	ready := makePod("a", "10.0.0.1").Ready().Obj()
	notReady := makePod("b", "10.0.0.2").Obj()
	terminating := makePod("c", "10.0.0.3").Ready().Terminating().Obj()
	noIP := makePod("d", "").Ready().Obj()
	finished := makePod("e", "10.0.0.5").Ready().Phase(corev1.PodSucceeded).Obj()
	named8080 := makePod("f", "10.0.0.6").Ready().Port("web", 8080).Obj()
	named9090 := makePod("g", "10.0.0.7").Ready().Port("web", 9090).Obj()
	unnamed := makePod("h", "10.0.0.8").Ready().Obj()
	withHost := makePod("i", "10.0.0.9").Ready().Hostname("i-0", "web").Obj()

	hostEndpoint := endpoint(withHost, true, true, false)
	hostEndpoint.Hostname = ptr.To("i-0")

	tests := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want []sliceContent
	}{
		{
			name: "ready, not ready and terminating pods; pods without IP or finished left out",
			svc:  service(intstr.FromInt32(8080)),
			pods: []*corev1.Pod{terminating, notReady, ready, noIP, finished},
			want: []sliceContent{{ports: port(8080), endpoints: []discoveryv1.Endpoint{
				endpoint(ready, true, true, false),
				endpoint(notReady, false, false, false),
				endpoint(terminating, false, true, true),
			}}},
		},
		{
			name: "named target port resolved per pod, one slice per port set",
			svc:  service(intstr.FromString("web")),
			pods: []*corev1.Pod{named9090, named8080, unnamed},
			want: []sliceContent{
				{ports: nil, endpoints: []discoveryv1.Endpoint{endpoint(unnamed, true, true, false)}},
				{ports: port(8080), endpoints: []discoveryv1.Endpoint{endpoint(named8080, true, true, false)}},
				{ports: port(9090), endpoints: []discoveryv1.Endpoint{endpoint(named9090, true, true, false)}},
			},
		},
		{
			name: "hostname when the pod's subdomain is the service",
			svc:  service(intstr.FromInt32(80)),
			pods: []*corev1.Pod{withHost},
			want: []sliceContent{{ports: port(80), endpoints: []discoveryv1.Endpoint{hostEndpoint}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := desiredSlices(tt.svc, tt.pods)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(sliceContent{})); diff != "" {
				t.Errorf("slices (-want +got)\n%s", diff)
			}
		})
	}

	t.Run("publishNotReadyAddresses makes every endpoint ready", func(t *testing.T) {
		svc := service(intstr.FromInt32(80))
		svc.Spec.PublishNotReadyAddresses = true
		got := desiredSlices(svc, []*corev1.Pod{notReady})
		if want := []sliceContent{{ports: port(80), endpoints: []discoveryv1.Endpoint{endpoint(notReady, true, true, false)}}}; !cmp.Equal(want, got, cmp.AllowUnexported(sliceContent{})) {
			t.Errorf("slices = %+v", got)
		}
	})

	t.Run("at most 100 endpoints per slice", func(t *testing.T) {
		var pods []*corev1.Pod
		for i := range 250 {
			pods = append(pods, makePod(fmt.Sprintf("p%03d", i), fmt.Sprintf("10.1.%d.%d", i/200, i%200)).Ready().Obj())
		}
		got := desiredSlices(service(intstr.FromInt32(80)), pods)
		var sizes []int
		for _, s := range got {
			sizes = append(sizes, len(s.endpoints))
		}
		if diff := cmp.Diff([]int{100, 100, 50}, sizes); diff != "" {
			t.Errorf("slice sizes (-want +got)\n%s", diff)
		}
	})
}

func TestDesiredSubsets(t *testing.T) {
	ready := makePod("a", "10.0.0.1").Ready().Obj()
	notReady := makePod("b", "10.0.0.2").Obj()
	terminating := makePod("c", "10.0.0.3").Ready().Terminating().Obj()
	addr := func(p *corev1.Pod) corev1.EndpointAddress {
		return corev1.EndpointAddress{IP: p.Status.PodIP, NodeName: ptr.To("node-1"), TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: p.Name, UID: p.UID}}
	}
	got := desiredSubsets(service(intstr.FromInt32(8080)), []*corev1.Pod{ready, notReady, terminating})
	want := []corev1.EndpointSubset{{
		Addresses:         []corev1.EndpointAddress{addr(ready)},
		NotReadyAddresses: []corev1.EndpointAddress{addr(notReady)},
		Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subsets (-want +got)\n%s", diff)
	}
}

func TestServiceLabels(t *testing.T) {
	svc := service(intstr.FromInt32(80))
	svc.Labels = map[string]string{"team": "a"}
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	if diff := cmp.Diff(map[string]string{"team": "a", headlessLabel: ""}, serviceLabels(svc)); diff != "" {
		t.Errorf("labels (-want +got)\n%s", diff)
	}
}
