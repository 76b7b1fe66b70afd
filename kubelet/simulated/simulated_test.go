package simulated

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func TestRunningStatus(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{UID: "u"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}, {Name: "sidecar", Image: "envoy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}},
			Containers:     []corev1.Container{{Name: "app", Image: "nginx"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Minute))},
		}},
	}
	st := RunningStatus(pod, "10.96.0.1", "10.244.0.2", now)
	if st.Phase != corev1.PodRunning || st.PodIP != "10.244.0.2" || st.HostIP != "10.96.0.1" || st.StartTime == nil || st.QOSClass != corev1.PodQOSBurstable {
		t.Errorf("status %+v", st)
	}
	var got []corev1.PodConditionType
	for _, c := range st.Conditions {
		if c.Status != corev1.ConditionTrue {
			t.Errorf("condition %s = %s", c.Type, c.Status)
		}
		got = append(got, c.Type)
	}
	want := []corev1.PodConditionType{corev1.PodScheduled, corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	if !st.Conditions[0].LastTransitionTime.Time.Equal(now.Add(-time.Minute)) {
		t.Errorf("PodScheduled transition time changed")
	}
	if len(st.InitContainerStatuses) != 2 || st.InitContainerStatuses[0].State.Terminated == nil || st.InitContainerStatuses[1].State.Running == nil {
		t.Errorf("init container statuses %+v", st.InitContainerStatuses)
	}
	if len(st.ContainerStatuses) != 1 || !st.ContainerStatuses[0].Ready || st.ContainerStatuses[0].State.Running == nil {
		t.Errorf("container statuses %+v", st.ContainerStatuses)
	}
}

func TestPodIPs(t *testing.T) {
	n := &node{cidrPre: "10.244.1.", nextIP: 2, podIPs: map[types.UID]string{}}
	a, b := n.podIP("a"), n.podIP("b")
	if a != "10.244.1.2" || b != "10.244.1.3" || n.podIP("a") != a {
		t.Errorf("ips a=%s b=%s", a, b)
	}
	n.remember("old", "10.244.1.4")
	if c := n.podIP("c"); c != "10.244.1.5" {
		t.Errorf("c = %s, want the address after the remembered one", c)
	}
	n.releaseIP("a")
	n.nextIP = 2
	if d := n.podIP("d"); d != "10.244.1.2" {
		t.Errorf("released address not reused: %s", d)
	}
}

func TestNodeObject(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Count, cfg.Labels = 300, map[string]string{"zone": "a"}
	cfg.Taints = []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}
	s, err := New(nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := s.nodeObject(s.nodes["sim-257"])
	if n.Spec.PodCIDR != "10.245.1.0/24" || n.Labels["zone"] != "a" || n.Labels["type"] != "simulated" || n.Labels[corev1.LabelHostname] != "sim-257" || len(n.Spec.Taints) != 1 {
		t.Errorf("node %+v", n.ObjectMeta)
	}
	if q := n.Status.Allocatable[corev1.ResourcePods]; q.Value() != 110 {
		t.Errorf("pods allocatable %s", q.String())
	}
}
