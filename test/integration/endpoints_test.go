package integration

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// runningPod creates a pod with a named container port and gives it an IP
// and a Ready condition through pods/status, as a kubelet would.
func runningPod(t *testing.T, ns, name, ip string, containerPort int32, ready bool) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	// A Node of the namespace's own: the pod garbage collector deletes
	// pods bound to a node that does not exist.
	node := "endpoints-" + ns
	_, err := c.kube.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, metav1.CreateOptions{})
	switch {
	case err == nil:
		t.Cleanup(func() { _ = c.kube.CoreV1().Nodes().Delete(context.Background(), node, metav1.DeleteOptions{}) })
	case !apierrors.IsAlreadyExists(err):
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: containerPort}},
		}}},
	}
	created, err := c.kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return setPodReady(t, created, ip, ready)
}

func setPodReady(t *testing.T, pod *corev1.Pod, ip string, ready bool) *corev1.Pod {
	t.Helper()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = ip
	pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	updated, err := c.kube.CoreV1().Pods(pod.Namespace).UpdateStatus(context.Background(), pod, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return updated
}

// sliceSummary is "ip:port ready" for every endpoint of the service's slices.
func sliceSummary(ctx context.Context, ns, svc string) ([]string, error) {
	list, err := c.kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range list.Items {
		for _, e := range s.Endpoints {
			for _, p := range s.Ports {
				out = append(out, fmt.Sprintf("%s:%d ready=%v", e.Addresses[0], *p.Port, *e.Conditions.Ready))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func TestEndpointsFollowPods(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
	if _, err := c.kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	runningPod(t, ns, "a", "10.244.0.10", 8080, true)
	b := runningPod(t, ns, "b", "10.244.0.11", 9090, false)

	waitSlices := func(what string, want []string) {
		t.Helper()
		var got []string
		err := pollErr(90*time.Second, func(ctx context.Context) (bool, error) {
			var err error
			got, err = sliceSummary(ctx, ns, "web")
			return cmp.Equal(want, got), err
		})
		if err != nil {
			t.Fatalf("%s: slices hold %v, want %v (%v)", what, got, want, err)
		}
	}
	// The named target port resolves to each pod's own container port.
	waitSlices("two pods", []string{"10.244.0.10:8080 ready=true", "10.244.0.11:9090 ready=false"})

	var ready, notReady []string
	err := pollErr(30*time.Second, func(ctx context.Context) (bool, error) {
		ep, err := c.kube.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		ready, notReady = nil, nil
		for _, s := range ep.Subsets {
			for _, a := range s.Addresses {
				ready = append(ready, fmt.Sprintf("%s:%d", a.IP, s.Ports[0].Port))
			}
			for _, a := range s.NotReadyAddresses {
				notReady = append(notReady, fmt.Sprintf("%s:%d", a.IP, s.Ports[0].Port))
			}
		}
		return cmp.Equal([]string{"10.244.0.10:8080"}, ready) && cmp.Equal([]string{"10.244.0.11:9090"}, notReady), nil
	})
	if err != nil {
		t.Errorf("Endpoints: addresses %v, notReadyAddresses %v, want [10.244.0.10:8080] and [10.244.0.11:9090]", ready, notReady)
	}

	setPodReady(t, b, "10.244.0.11", true)
	waitSlices("b ready", []string{"10.244.0.10:8080 ready=true", "10.244.0.11:9090 ready=true"})

	if err := c.kube.CoreV1().Pods(ns).Delete(ctx, "a", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	waitSlices("a deleted", []string{"10.244.0.11:9090 ready=true"})

	// Deleting the Service removes its Endpoints and, through the garbage
	// collector, its slices.
	if err := c.kube.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSlices("service deleted", nil)
	poll(t, 30*time.Second, "the Endpoints to go", func(ctx context.Context) (bool, error) {
		_, err := c.kube.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

func TestHandMadeEndpointsAreLeftAlone(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "external"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromInt32(8443)}}},
	}
	if _, err := c.kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "external"},
		Subsets:    []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.10"}}, Ports: []corev1.EndpointPort{{Port: 8443}}}},
	}
	created, err := c.kube.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A pod that would match an empty selector changes nothing either.
	runningPod(t, ns, "bystander", "10.244.0.20", 8443, true)
	time.Sleep(2 * time.Second)
	got, err := c.kube.CoreV1().Endpoints(ns).Get(ctx, "external", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created.Subsets, got.Subsets); diff != "" || got.ResourceVersion != created.ResourceVersion {
		t.Errorf("hand-made Endpoints changed (-want +got)\n%s", diff)
	}
}
