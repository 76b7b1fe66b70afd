package resourcequota

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/utils/clock"

	nucleusquota "github.com/strata-dev/strata/nucleus/quota"
)

func rl(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return l
}

func TestComputeStatus(t *testing.T) {
	pods := []runtime.Object{
		&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{Requests: rl("cpu", "500m")}}}}},
		&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
	}
	configmaps := []runtime.Object{&corev1.ConfigMap{}, &corev1.ConfigMap{}}
	registry := generic.NewRegistry([]quota.Evaluator{
		nucleusquota.NewPodEvaluator(func(string) ([]runtime.Object, error) { return pods, nil }, clock.RealClock{}),
		generic.NewObjectCountEvaluator(schema.GroupResource{Resource: "configmaps"}, func(string) ([]runtime.Object, error) { return configmaps, nil }, corev1.ResourceConfigMaps),
	})
	q := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"},
		Spec:       corev1.ResourceQuotaSpec{Hard: rl("pods", "10", "requests.cpu", "2", "count/configmaps", "5")},
	}
	status, err := ComputeStatus(q, registry)
	if err != nil {
		t.Fatal(err)
	}
	if !quota.Equals(status.Hard, q.Spec.Hard) {
		t.Errorf("hard %v, want %v", status.Hard, q.Spec.Hard)
	}
	if want := rl("pods", "1", "requests.cpu", "500m", "count/configmaps", "2"); !quota.Equals(status.Used, want) {
		t.Errorf("used %v, want %v", status.Used, want)
	}
}

func TestNeedsSync(t *testing.T) {
	synced := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "2")}, Status: corev1.ResourceQuotaStatus{Hard: rl("pods", "2"), Used: rl("pods", "1")}}
	charged := synced.DeepCopy()
	charged.Status.Used = rl("pods", "2")
	raised := synced.DeepCopy()
	raised.Spec.Hard = rl("pods", "3")
	fresh := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "2")}}
	tests := []struct {
		name     string
		old, cur *corev1.ResourceQuota
		want     bool
	}{
		{name: "admission charged usage", old: synced, cur: charged, want: false},
		{name: "spec changed", old: synced, cur: raised, want: true},
		{name: "status never computed", old: fresh, cur: fresh, want: true},
	}
	for _, tc := range tests {
		if got := NeedsSync(tc.old, tc.cur); got != tc.want {
			t.Errorf("%s: NeedsSync = %v, want %v", tc.name, got, tc.want)
		}
	}
}
