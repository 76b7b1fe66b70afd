package fake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/cri"
)

func sandboxConfig(name string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "default", Uid: "uid-" + name},
		LogDirectory: "/var/log/pods/default_" + name,
		Labels:       map[string]string{podNameLabel: name, podNamespaceLabel: "default", "io.kubernetes.pod.uid": "uid-" + name},
	}
}

func containerConfig(pod, name, image string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: image, UserSpecifiedImage: image},
		Labels:   map[string]string{podNameLabel: pod, podNamespaceLabel: "default", containerNameLabel: name},
		LogPath:  name + "/0.log",
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	clock := testingclock.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	r := New(clock)

	sb, err := r.RunPodSandbox(ctx, sandboxConfig("web"), "")
	if err != nil {
		t.Fatal(err)
	}
	status, err := r.PodSandboxStatus(ctx, sb, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := status.Status.Network.Ip; got != "10.88.0.2" {
		t.Errorf("sandbox IP = %q", got)
	}

	if _, err := r.CreateContainer(ctx, sb, containerConfig("web", "app", "busybox:latest"), sandboxConfig("web")); !cri.IsNotFound(err) {
		t.Errorf("creating from an absent image: %v, want not found", err)
	}
	if _, err := r.PullImage(ctx, &runtimeapi.ImageSpec{Image: "busybox:latest"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	id, err := r.CreateContainer(ctx, sb, containerConfig("web", "app", "busybox:latest"), sandboxConfig("web"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"default/web/app"}, r.Running()); diff != "" {
		t.Errorf("running (-want +got):\n%s", diff)
	}

	clock.Step(time.Second)
	if err := r.OOMKill(id); err != nil {
		t.Fatal(err)
	}
	cs, err := r.ContainerStatus(ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	want := &runtimeapi.ContainerStatus{
		State:      runtimeapi.ContainerState_CONTAINER_EXITED,
		ExitCode:   137,
		Reason:     ReasonOOMKilled,
		LogPath:    "/var/log/pods/default_web/app/0.log",
		FinishedAt: clock.Now().UnixNano(),
	}
	got := &runtimeapi.ContainerStatus{State: cs.Status.State, ExitCode: cs.Status.ExitCode, Reason: cs.Status.Reason, LogPath: cs.Status.LogPath, FinishedAt: cs.Status.FinishedAt}
	if diff := cmp.Diff(want.String(), got.String()); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// Statuses are copies.
	cs.Status.State = runtimeapi.ContainerState_CONTAINER_RUNNING
	again, _ := r.ContainerStatus(ctx, id, false)
	if again.Status.State != runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Error("changing a returned status changed the runtime's")
	}

	list, err := r.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{containerNameLabel: "app"}, State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_EXITED}})
	if err != nil || len(list) != 1 {
		t.Errorf("listing exited app containers: %v, %v", list, err)
	}

	if err := r.StopPodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ContainerStatus(ctx, id, false); !cri.IsNotFound(err) {
		t.Errorf("container of a removed sandbox: %v, want not found", err)
	}

	wantCalls := []string{
		"RunPodSandbox default/web attempt=0",
		"CreateContainer default/web/app attempt=0",
		"PullImage busybox:latest",
		"CreateContainer default/web/app attempt=0",
		"StartContainer default/web/app",
		"StopPodSandbox default/web",
		"RemovePodSandbox default/web",
	}
	if diff := cmp.Diff(wantCalls, r.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestBehaviorsAndInjectedErrors(t *testing.T) {
	ctx := context.Background()
	r := New(testingclock.NewFakeClock(time.Now()))
	r.AddImage("busybox")
	r.SetBehavior("crash", Behavior{ExitOnStart: ptr.To[int32](2)})
	r.SetBehavior("graceful", Behavior{StopExitCode: ptr.To[int32](0)})
	sb, _ := r.RunPodSandbox(ctx, sandboxConfig("p"), "")

	crash, _ := r.CreateContainer(ctx, sb, containerConfig("p", "crash", "busybox"), sandboxConfig("p"))
	if err := r.StartContainer(ctx, crash); err != nil {
		t.Fatal(err)
	}
	cs, _ := r.ContainerStatus(ctx, crash, false)
	if cs.Status.State != runtimeapi.ContainerState_CONTAINER_EXITED || cs.Status.ExitCode != 2 || cs.Status.Reason != ReasonError {
		t.Errorf("crashing container: %v %d %s", cs.Status.State, cs.Status.ExitCode, cs.Status.Reason)
	}

	graceful, _ := r.CreateContainer(ctx, sb, containerConfig("p", "graceful", "busybox"), sandboxConfig("p"))
	_ = r.StartContainer(ctx, graceful)
	if err := r.StopContainer(ctx, graceful, 10); err != nil {
		t.Fatal(err)
	}
	cs, _ = r.ContainerStatus(ctx, graceful, false)
	if cs.Status.ExitCode != 0 || cs.Status.Reason != ReasonCompleted {
		t.Errorf("graceful stop: %d %s", cs.Status.ExitCode, cs.Status.Reason)
	}

	boom := errors.New("boom")
	r.InjectError("StartContainer", boom)
	again, _ := r.CreateContainer(ctx, sb, containerConfig("p", "again", "busybox"), sandboxConfig("p"))
	if err := r.StartContainer(ctx, again); !errors.Is(err, boom) {
		t.Errorf("injected error: %v", err)
	}
	if err := r.StartContainer(ctx, again); err != nil {
		t.Errorf("second start after one injected error: %v", err)
	}

	r.SetPullError("private/img", errors.New("unauthorized"))
	if _, err := r.PullImage(ctx, &runtimeapi.ImageSpec{Image: "private/img"}, nil, nil); err == nil || err.Error() != "unauthorized" {
		t.Errorf("pull error: %v", err)
	}

	r.SetExec(func(id string, cmd []string) (string, string, int) { return "out", "err", 3 })
	_, _, err := r.ExecSync(ctx, again, []string{"false"}, time.Second)
	if code, ok := cri.ExitCode(err); !ok || code != 3 {
		t.Errorf("exec exit code = %d, %v (err %v)", code, ok, err)
	}
}
