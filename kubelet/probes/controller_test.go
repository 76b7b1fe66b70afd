package probes_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clientfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/clock"

	"github.com/strata-dev/strata/kubelet/cri/fake"
	"github.com/strata-dev/strata/kubelet/pods"
	"github.com/strata-dev/strata/kubelet/probes"
)

// events keeps events as "<type> <reason> <message>".
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) Eventf(_, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, fmt.Sprintf("%s %s %s", eventtype, reason, fmt.Sprintf(note, args...)))
}

func (e *events) has(event string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.list, event)
}

// TestControllerRestartsAContainerThatFailsLiveness runs the pods
// controller with the probe manager as the kubelet wires them: a container
// whose liveness probe fails is killed and restarted, its replacement is
// probed afresh and becomes ready.
func TestControllerRestartsAContainerThatFailsLiveness(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	client := clientfake.NewClientset()
	rt := fake.New(clock.RealClock{})
	rec := &events{}
	var first string
	var mu sync.Mutex
	rt.SetExec(func(containerID string, cmd []string) (string, string, int) {
		mu.Lock()
		defer mu.Unlock()
		if cmd[0] != "live" {
			return "", "", 0
		}
		if first == "" {
			first = containerID
		}
		if containerID == first {
			return "", "deadlock detected", 1
		}
		return "", "", 0
	})

	var ctrl *pods.Controller
	pm := probes.New(probes.Config{
		Runtime:  rt,
		Recorder: rec,
		OnChange: func(uid types.UID) { ctrl.Notify(uid) },
	})
	defer pm.Stop()
	dir := t.TempDir()
	ctrl, err := pods.NewController(pods.ControllerConfig{
		Client:   client,
		NodeName: "node-1",
		Worker: pods.Config{
			Runtime:    rt,
			Recorder:   rec,
			PodLogsDir: filepath.Join(dir, "logs"),
			PodsDir:    filepath.Join(dir, "pods"),
		},
		Probes:         pm,
		ResyncInterval: time.Minute, // probe results must wake the pod up
		RelistInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- ctrl.Run(ctx) }()

	exec := func(word string, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{word}}},
			TimeoutSeconds:   1,
			PeriodSeconds:    1,
			SuccessThreshold: 1,
			FailureThreshold: failures,
		}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-web"},
		Spec: corev1.PodSpec{
			NodeName:      "node-1",
			RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{
				Name:                     "app",
				Image:                    "busybox",
				ImagePullPolicy:          corev1.PullIfNotPresent,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				LivenessProbe:            exec("live", 1),
				ReadinessProbe:           exec("ready", 3),
			}},
		},
	}
	podClient := client.CoreV1().Pods("default")
	if _, err := podClient.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	err = wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := podClient.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if len(p.Status.ContainerStatuses) != 1 {
			return false, nil
		}
		s := p.Status.ContainerStatuses[0]
		return s.RestartCount == 1 && s.State.Running != nil && s.Ready &&
			p.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		t.Fatalf("waiting for the container to be restarted and ready: %v", err)
	}
	for _, want := range []string{
		"Warning Unhealthy Liveness probe failed: deadlock detected",
		"Normal Killing Container app failed liveness probe, will be restarted",
	} {
		if !rec.has(want) {
			t.Errorf("no event %q in %q", want, rec.list)
		}
	}
	mu.Lock()
	killed := first
	mu.Unlock()
	if _, ok := pm.Get(pods.Liveness, killed); ok {
		t.Errorf("the killed container's liveness result is still kept")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
