package quota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

func rl(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return l
}

type podBuilder struct{ p *corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}}
}

func (b *podBuilder) Container(req, lim corev1.ResourceList) *podBuilder {
	b.p.Spec.Containers = append(b.p.Spec.Containers, corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}})
	return b
}

func (b *podBuilder) Init(req corev1.ResourceList, sidecar bool) *podBuilder {
	c := corev1.Container{Name: "i", Resources: corev1.ResourceRequirements{Requests: req}}
	if sidecar {
		c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
	}
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, c)
	return b
}

func (b *podBuilder) Phase(p corev1.PodPhase) *podBuilder { b.p.Status.Phase = p; return b }
func (b *podBuilder) Obj() *corev1.Pod                    { return b.p }

func TestPodUsage(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	deleting := makePod("gone").Container(rl("cpu", "1"), nil).Obj()
	deleting.DeletionTimestamp = &metav1.Time{Time: now.Add(-time.Minute)}
	deleting.DeletionGracePeriodSeconds = ptr.To[int64](30)
	tests := []struct {
		name string
		pod  *corev1.Pod
		want corev1.ResourceList
	}{
		{
			name: "requests and limits",
			pod:  makePod("p").Container(rl("cpu", "250m", "memory", "64Mi"), rl("cpu", "500m", "memory", "128Mi")).Container(rl("cpu", "250m"), nil).Obj(),
			want: rl("pods", "1", "count/pods", "1", "cpu", "500m", "requests.cpu", "500m", "memory", "64Mi", "requests.memory", "64Mi",
				"limits.cpu", "500m", "limits.memory", "128Mi"),
		},
		{
			name: "largest init container wins",
			pod:  makePod("p").Container(rl("cpu", "100m"), nil).Init(rl("cpu", "2"), false).Obj(),
			want: rl("pods", "1", "count/pods", "1", "cpu", "2", "requests.cpu", "2"),
		},
		{
			name: "sidecars add up",
			pod:  makePod("p").Container(rl("cpu", "100m"), nil).Init(rl("cpu", "100m"), true).Obj(),
			want: rl("pods", "1", "count/pods", "1", "cpu", "200m", "requests.cpu", "200m"),
		},
		{
			name: "finished pods are only counted as objects",
			pod:  makePod("p").Container(rl("cpu", "1"), nil).Phase(corev1.PodSucceeded).Obj(),
			want: rl("count/pods", "1"),
		},
		{
			name: "failed pods too",
			pod:  makePod("p").Container(rl("cpu", "1"), nil).Phase(corev1.PodFailed).Obj(),
			want: rl("count/pods", "1"),
		},
		{
			name: "past the deletion grace period",
			pod:  deleting,
			want: rl("count/pods", "1"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PodUsage(tc.pod, testingclock.NewFakeClock(now))
			if !quota.Equals(tc.want, got) {
				t.Errorf("usage\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestPodUsageStats(t *testing.T) {
	pods := []runtime.Object{
		makePod("a").Container(rl("cpu", "100m"), nil).Obj(),
		makePod("b").Container(rl("cpu", "200m"), nil).Obj(),
		makePod("c").Container(rl("cpu", "1"), nil).Phase(corev1.PodSucceeded).Obj(),
		makePod("d").Obj(), // best effort
	}
	e := NewPodEvaluator(func(string) ([]runtime.Object, error) { return pods, nil }, clock.RealClock{})
	tests := []struct {
		name   string
		scopes []corev1.ResourceQuotaScope
		want   corev1.ResourceList
	}{
		{name: "all", want: rl("pods", "3", "requests.cpu", "300m")},
		{name: "best effort", scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}, want: rl("pods", "1", "requests.cpu", "0")},
		{name: "not best effort", scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotBestEffort}, want: rl("pods", "2", "requests.cpu", "300m")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stats, err := e.UsageStats(quota.UsageStatsOptions{Namespace: "ns", Scopes: tc.scopes, Resources: []corev1.ResourceName{"pods", "requests.cpu"}})
			if err != nil {
				t.Fatal(err)
			}
			if used := quota.Mask(stats.Used, []corev1.ResourceName{"pods", "requests.cpu"}); !quota.Equals(tc.want, used) {
				t.Errorf("used\n got %v\nwant %v", stats.Used, tc.want)
			}
		})
	}
}

func TestPodConstraints(t *testing.T) {
	e := NewPodEvaluator(nil, clock.RealClock{})
	tests := []struct {
		name     string
		required []corev1.ResourceName
		pod      *corev1.Pod
		want     string
	}{
		{name: "nothing required", pod: makePod("p").Container(nil, nil).Obj()},
		{name: "request present", required: []corev1.ResourceName{"requests.cpu"}, pod: makePod("p").Container(rl("cpu", "1"), nil).Obj()},
		{name: "request missing", required: []corev1.ResourceName{"requests.cpu", "limits.memory"}, pod: makePod("p").Container(rl("cpu", "1"), nil).Obj(),
			want: "must specify limits.memory for: c"},
		{name: "extended resources are not required", required: []corev1.ResourceName{"requests.example.com/gpu"}, pod: makePod("p").Container(nil, nil).Obj()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Constraints(tc.required, tc.pod)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceUsage(t *testing.T) {
	np := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}, {Port: 443}}}}
	lb := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}}
	if got, want := ServiceUsage(np), rl("services", "1", "count/services", "1", "services.nodeports", "2", "services.loadbalancers", "0"); !quota.Equals(got, want) {
		t.Errorf("node port service: %v, want %v", got, want)
	}
	if got, want := ServiceUsage(lb), rl("services", "1", "count/services", "1", "services.nodeports", "1", "services.loadbalancers", "1"); !quota.Equals(got, want) {
		t.Errorf("load balancer: %v, want %v", got, want)
	}
}
