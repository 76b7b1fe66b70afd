package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/describe"

	"github.com/strata-dev/strata/kubelet/simulated"
	"github.com/strata-dev/strata/nucleus/testenv"
)

// startSimulatedNodes runs simulated nodes until the test ends and waits
// for them to be registered.
func startSimulatedNodes(t *testing.T, client kubernetes.Interface, cfg simulated.Config) {
	t.Helper()
	sim, err := simulated.New(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := sim.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("simulated nodes: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	for _, name := range sim.NodeNames() {
		poll(t, 30*time.Second, "node "+name+" to be Ready", func(ctx context.Context) (bool, error) {
			n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady {
					return c.Status == corev1.ConditionTrue && len(n.Status.Allocatable) > 0, nil
				}
			}
			return false, nil
		})
	}
}

func simConfig(prefix string, cpu string) simulated.Config {
	cfg := simulated.DefaultConfig()
	cfg.NamePrefix = prefix
	cfg.CPU = resource.MustParse(cpu)
	cfg.Memory = resource.MustParse("8Gi")
	cfg.RenewInterval = time.Second
	return cfg
}

func schedPod(name, cpu string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func podCondition(p *corev1.Pod, ct corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == ct {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// The in-process scheduler places pods on simulated nodes, which run them:
// taints, tolerations and nodeSelectors are honoured; a pod too big for
// every node stays Pending with upstream's condition, event and message,
// and is placed once a big enough node joins.
func TestSchedulerOnSimulatedNodes(t *testing.T) {
	ctx := context.Background()
	e := testenv.Start(t)
	c, err := newClients(e)
	if err != nil {
		t.Fatal(err)
	}
	cfg := simConfig("sim-small-", "4")
	cfg.Count = 3
	startSimulatedNodes(t, c.kube, cfg)
	tainted := simConfig("sim-gpu-", "4")
	tainted.FirstIndex = 10
	tainted.Labels = map[string]string{"pool": "gpu"}
	tainted.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	startSimulatedNodes(t, c.kube, tainted)

	ns := "it-scheduler"
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := c.kube.CoreV1().Pods(ns)
	create := func(p *corev1.Pod) {
		t.Helper()
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating pod %s: %v", p.Name, err)
		}
	}
	waitRunning := func(name string) *corev1.Pod {
		t.Helper()
		var got *corev1.Pod
		poll(t, 30*time.Second, "pod "+name+" to run", func(ctx context.Context) (bool, error) {
			p, err := pods.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			got = p
			ready := podCondition(p, corev1.PodReady)
			return p.Status.Phase == corev1.PodRunning && ready != nil && ready.Status == corev1.ConditionTrue, nil
		})
		return got
	}

	// Ten ordinary pods land on the untainted nodes and run.
	for i := range 10 {
		create(schedPod(fmt.Sprintf("web-%d", i), "100m"))
	}
	for i := range 10 {
		p := waitRunning(fmt.Sprintf("web-%d", i))
		if !strings.HasPrefix(p.Spec.NodeName, "sim-small-") {
			t.Errorf("pod %s runs on %q, want an untainted sim-small- node", p.Name, p.Spec.NodeName)
		}
		if !strings.HasPrefix(p.Status.PodIP, "10.244.") || p.Status.HostIP == "" || p.Status.StartTime == nil {
			t.Errorf("pod %s status: podIP %q hostIP %q startTime %v", p.Name, p.Status.PodIP, p.Status.HostIP, p.Status.StartTime)
		}
		for _, ct := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
			if cond := podCondition(p, ct); cond == nil || cond.Status != corev1.ConditionTrue {
				t.Errorf("pod %s condition %s = %v, want True", p.Name, ct, cond)
			}
		}
		if len(p.Status.ContainerStatuses) != 1 || !p.Status.ContainerStatuses[0].Ready || p.Status.ContainerStatuses[0].State.Running == nil {
			t.Errorf("pod %s container statuses = %+v, want one running and ready", p.Name, p.Status.ContainerStatuses)
		}
	}

	// A pod tolerating the taint and selecting the pool lands on the
	// tainted node.
	create(schedPod("gpu-job", "100m", func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{"pool": "gpu"}
		p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
	}))
	if p := waitRunning("gpu-job"); p.Spec.NodeName != "sim-gpu-10" {
		t.Errorf("gpu-job runs on %q, want sim-gpu-10", p.Spec.NodeName)
	}

	// A pod too big for every node, and one selecting a label no node has,
	// stay Pending with upstream's explanation.
	create(schedPod("huge", "100"))
	create(schedPod("wants-ssd", "100m", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }))
	wantMessages := map[string]string{
		"huge":      "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient cpu. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
		"wants-ssd": "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
	}
	for name, want := range wantMessages {
		poll(t, 30*time.Second, "the PodScheduled=False condition of "+name, func(ctx context.Context) (bool, error) {
			p, err := pods.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			cond := podCondition(p, corev1.PodScheduled)
			return cond != nil && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable && cond.Message == want, nil
		})
		poll(t, 30*time.Second, "the FailedScheduling event of "+name, func(ctx context.Context) (bool, error) {
			list, err := c.kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			for _, ev := range list.Items {
				if ev.Regarding.Name == name && ev.Reason == "FailedScheduling" {
					if ev.Type != corev1.EventTypeWarning || ev.Note != want || ev.ReportingController != "default-scheduler" || ev.Action != "Scheduling" {
						return false, fmt.Errorf("event %+v, want a Warning from default-scheduler with note %q", ev, want)
					}
					return true, nil
				}
			}
			return false, nil
		})
	}
	// kubectl describe shows it.
	out, err := (&describe.PodDescriber{Interface: c.kube}).Describe(ns, "huge", describe.DescriberSettings{ShowEvents: true, ChunkSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "FailedScheduling") || !strings.Contains(out, "default-scheduler") || !strings.Contains(out, "3 Insufficient cpu") {
		t.Errorf("kubectl describe pod huge does not show the FailedScheduling event:\n%s", out)
	}
	// A successful binding has its Scheduled event.
	poll(t, 30*time.Second, "the Scheduled event of web-0", func(ctx context.Context) (bool, error) {
		list, err := c.kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, ev := range list.Items {
			if ev.Regarding.Name == "web-0" && ev.Reason == "Scheduled" {
				p, err := pods.Get(ctx, "web-0", metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				want := fmt.Sprintf("Successfully assigned %s/web-0 to %s", ns, p.Spec.NodeName)
				if ev.Note != want || ev.Type != corev1.EventTypeNormal {
					return false, fmt.Errorf("Scheduled event %q (%s), want %q (Normal)", ev.Note, ev.Type, want)
				}
				return true, nil
			}
		}
		return false, nil
	})

	// Pods with required anti-affinity by hostname spread over the three
	// untainted nodes; a fourth has nowhere to go.
	antiAffinity := func(p *corev1.Pod) {
		p.Labels = map[string]string{"app": "spread"}
		p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				TopologyKey:   corev1.LabelHostname,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "spread"}},
			}},
		}}
	}
	spreadNodes := map[string]bool{}
	for i := range 3 {
		create(schedPod(fmt.Sprintf("spread-%d", i), "100m", antiAffinity))
		spreadNodes[waitRunning(fmt.Sprintf("spread-%d", i)).Spec.NodeName] = true
	}
	if len(spreadNodes) != 3 {
		t.Errorf("anti-affine pods share nodes: %v", spreadNodes)
	}
	create(schedPod("spread-3", "100m", antiAffinity))
	wantMessages["spread-3"] = "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't match pod anti-affinity rules. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod."
	poll(t, 30*time.Second, "the PodScheduled=False condition of spread-3", func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, "spread-3", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cond := podCondition(p, corev1.PodScheduled)
		return cond != nil && cond.Status == corev1.ConditionFalse && cond.Message == wantMessages["spread-3"], nil
	})

	// No pod without the toleration ever went to the tainted node.
	list, err := pods.List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=sim-gpu-10"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.Name != "gpu-job" {
			t.Errorf("pod %s without the toleration was placed on the tainted node", p.Name)
		}
	}

	// A big node with the ssd label joins: the pending pods are retried and
	// placed on it.
	big := simConfig("sim-big-", "128")
	big.FirstIndex = 20
	big.Labels = map[string]string{"disk": "ssd"}
	startSimulatedNodes(t, c.kube, big)
	for _, name := range []string{"huge", "wants-ssd", "spread-3"} {
		if p := waitRunning(name); p.Spec.NodeName != "sim-big-20" {
			t.Errorf("pod %s runs on %q, want sim-big-20", name, p.Spec.NodeName)
		}
	}

	// Deleting a running pod: the simulated kubelet finalizes it.
	if err := pods.Delete(ctx, "web-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "pod web-0 to be gone", func(ctx context.Context) (bool, error) {
		_, err := pods.Get(ctx, "web-0", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})

	// The nodes' Leases are renewed.
	lease, err := c.kube.CoordinationV1().Leases(simulated.LeaseNamespace).Get(ctx, "sim-small-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := lease.Spec.RenewTime.Time
	poll(t, 10*time.Second, "the lease of sim-small-0 to be renewed", func(ctx context.Context) (bool, error) {
		l, err := c.kube.CoordinationV1().Leases(simulated.LeaseNamespace).Get(ctx, "sim-small-0", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return l.Spec.RenewTime.After(first), nil
	})
}

// Restarting the nucleus right after a burst of creations loses nothing:
// every pod is bound and runs, without a failed binding. (The restart is
// graceful — testenv cannot SIGKILL an in-process server — and ends the
// clients' watches as `strata up` does, so some bindings land before it.)
// The restarted scheduler places the rest only once its cache holds the
// nodes: no FailedScheduling "no nodes available".
func TestSchedulerSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	e := testenv.Start(t)
	c, err := newClients(e)
	if err != nil {
		t.Fatal(err)
	}
	cfg := simConfig("sim-restart-", "8")
	cfg.Count = 10
	// The simulated kubelet writes through the restart and may see the
	// server's 503 "shutting down" answers, as a real kubelet would: its
	// client does not count them as server errors.
	simClient, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	startSimulatedNodes(t, simClient, cfg)
	ns := "it-scheduler-restart"
	if _, err := c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := c.kube.CoreV1().Pods(ns)
	const total = 200
	for i := range total {
		if _, err := pods.Create(ctx, schedPod(fmt.Sprintf("burst-%03d", i), "10m"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := e.Restart(); err != nil {
		t.Fatalf("restarting the nucleus: %v", err)
	}
	t.Logf("restarted in %s", time.Since(start))
	start = time.Now()
	defer func() { t.Logf("all pods ran %s after the restart", time.Since(start)) }()
	poll(t, 2*time.Minute, "every pod to run after the restart", func(ctx context.Context) (bool, error) {
		list, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil // the server may still be coming back
		}
		running := 0
		for _, p := range list.Items {
			if p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == total, nil
	})
	list, err := c.kube.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range list.Items {
		if ev.Reason == "FailedScheduling" {
			t.Errorf("unexpected FailedScheduling event for %s: %s", ev.Regarding.Name, ev.Note)
		}
	}
}
