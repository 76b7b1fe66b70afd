package integration

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// quotaPod is a pod requesting cpu.
func quotaPod(name, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

// waitQuotaUsed waits until the quota's status.used equals want for each
// resource of want.
func waitQuotaUsed(t *testing.T, ns, name string, want map[corev1.ResourceName]string) *corev1.ResourceQuota {
	t.Helper()
	var last *corev1.ResourceQuota
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		q, err := c.kube.CoreV1().ResourceQuotas(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = q
		for r, v := range want {
			got, ok := q.Status.Used[r]
			if !ok || got.Cmp(resource.MustParse(v)) != 0 {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("quota %s/%s: used %v, want %v: %v", ns, name, last.Status.Used, want, err)
	}
	return last
}

func TestResourceQuotaPods(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	rq := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "compute"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods:        resource.MustParse("2"),
			corev1.ResourceRequestsCPU: resource.MustParse("2"),
			corev1.ResourceConfigMaps:  resource.MustParse("10"),
		}},
	}
	if _, err := c.kube.CoreV1().ResourceQuotas(ns).Create(ctx, rq, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The controller copies spec.hard into status and measures usage.
	q := waitQuotaUsed(t, ns, "compute", map[corev1.ResourceName]string{"pods": "0", "requests.cpu": "0", "configmaps": "0"})
	if got := q.Status.Hard[corev1.ResourcePods]; got.Cmp(resource.MustParse("2")) != 0 {
		t.Errorf("status.hard pods = %s, want 2", got.String())
	}

	for i, cpu := range []string{"500m", "250m"} {
		if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, quotaPod(fmt.Sprintf("p%d", i), cpu), metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating pod %d: %v", i, err)
		}
	}
	waitQuotaUsed(t, ns, "compute", map[corev1.ResourceName]string{"pods": "2", "requests.cpu": "750m"})

	_, err := c.kube.CoreV1().Pods(ns).Create(ctx, quotaPod("p2", "100m"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("third pod: got %v, want 403", err)
	}
	want := `pods "p2" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2`
	if err.Error() != want {
		t.Errorf("third pod refused with\n  %s\nwant\n  %s", err, want)
	}
	if code := err.(apierrors.APIStatus).Status().Code; code != http.StatusForbidden {
		t.Errorf("code %d, want 403", code)
	}

	// A pod without cpu request is refused when requests.cpu is limited.
	bare := quotaPod("bare", "1")
	bare.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, bare, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("pod without requests: got %v, want 403", err)
	}

	// Counted objects are charged too.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}
	if _, err := c.kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuotaUsed(t, ns, "compute", map[corev1.ResourceName]string{"configmaps": "1"})

	// Usage drops after deletions.
	if err := c.kube.CoreV1().Pods(ns).Delete(ctx, "p0", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if err := c.kube.CoreV1().ConfigMaps(ns).Delete(ctx, "cm", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuotaUsed(t, ns, "compute", map[corev1.ResourceName]string{"pods": "1", "requests.cpu": "250m", "configmaps": "0"})
	if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, quotaPod("p3", "100m"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("pod after a deletion: %v", err)
	}
}

func TestResourceQuotaTerminalPodsNotCounted(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	rq := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "q"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("5"), "count/pods": resource.MustParse("5")}},
	}
	if _, err := c.kube.CoreV1().ResourceQuotas(ns).Create(ctx, rq, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuotaUsed(t, ns, "q", map[corev1.ResourceName]string{"pods": "0"})
	pod, err := c.kube.CoreV1().Pods(ns).Create(ctx, quotaPod("done", "100m"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitQuotaUsed(t, ns, "q", map[corev1.ResourceName]string{"pods": "1", "count/pods": "1"})
	pod.Status.Phase = corev1.PodSucceeded
	if _, err := c.kube.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A finished pod still exists (count/pods) but uses no pods quota.
	waitQuotaUsed(t, ns, "q", map[corev1.ResourceName]string{"pods": "0", "count/pods": "1"})
}
