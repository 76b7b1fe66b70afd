package pods

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeVolumes is a VolumeSetUpper and VolumeCleaner whose set-up fails
// while err is set.
type fakeVolumes struct {
	err      error
	setUps   int
	cleaned  []types.UID
	cleanErr error
}

func (f *fakeVolumes) SetUpVolumes(context.Context, *corev1.Pod) error {
	f.setUps++
	return f.err
}

func (f *fakeVolumes) Mounts(context.Context, *corev1.Pod, *corev1.Container) ([]*runtimeapi.Mount, error) {
	return []*runtimeapi.Mount{{HostPath: "/var/lib/kubelet/pods/uid/volumes/kubernetes.io~empty-dir/data", ContainerPath: "/data"}}, nil
}

func (f *fakeVolumes) CleanupVolumes(_ context.Context, uid types.UID) error {
	f.cleaned = append(f.cleaned, uid)
	return f.cleanErr
}

func TestWorkerWaitsForVolumes(t *testing.T) {
	e := newTestEnv(t)
	volumes := &fakeVolumes{err: errors.Join(
		errors.New(`MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found`),
		errors.New(`MountVolume.SetUp failed for volume "creds" : secret "missing" not found`),
	)}
	e.cfg.Volumes = volumes
	pod := makePod("web").Containers("app").Obj()
	w := e.worker(pod)

	res, err := w.Sync(e.ctx, pod)
	if err == nil {
		t.Fatal("Sync succeeded, want the volumes' error")
	}
	diff(t, "runtime calls", []string(nil), e.calls())
	diff(t, "phase", corev1.PodPending, res.Status.Phase)
	diff(t, "containers", []string{"app: waiting(ContainerCreating) restarts=0"}, containerSummary(res.Status.ContainerStatuses))
	diff(t, "PodReadyToStartContainers", "PodReadyToStartContainers=False", conditionSummary(res.Status.Conditions)[0])
	diff(t, "events", []string{
		`Warning FailedMount MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found`,
		`Warning FailedMount MountVolume.SetUp failed for volume "creds" : secret "missing" not found`,
	}, e.events())

	// Once the volumes are there, the pod runs with them.
	volumes.err = nil
	res = e.sync(w, pod)
	diff(t, "phase", corev1.PodRunning, res.Status.Phase)
	config := e.runtime.ContainerConfig(e.runtime.ContainerID("default", "web", "app"))
	if len(config.Mounts) == 0 || config.Mounts[0].ContainerPath != "/data" {
		t.Errorf("mounts = %v, want the volume first", config.Mounts)
	}
	if volumes.setUps != 2 {
		t.Errorf("SetUpVolumes called %d times, want 2", volumes.setUps)
	}

	// A deleted pod does not wait for its volumes.
	volumes.err = errors.New("boom")
	res = e.sync(w, makePod("web").Containers("app").Deleted(30).Obj())
	if !res.Stopped {
		t.Error("deleted pod not stopped")
	}
	if volumes.setUps != 2 {
		t.Errorf("SetUpVolumes called %d times on a deleted pod", volumes.setUps-2)
	}
}

func TestWorkerCleanupTearsVolumesDown(t *testing.T) {
	e := newTestEnv(t)
	volumes := &fakeVolumes{cleanErr: errors.New("device or resource busy")}
	e.cfg.Volumes = volumes
	pod := makePod("web").Containers("app").Obj()
	w := e.worker(pod)
	e.sync(w, pod)
	e.sync(w, makePod("web").Containers("app").Deleted(30).Obj())
	podDir := filepath.Join(e.cfg.PodsDir, string(pod.UID))
	if _, err := os.Stat(podDir); err != nil {
		t.Fatalf("pod directory: %v", err)
	}

	// The pod's directory stays while its volumes cannot be torn down.
	if err := w.Cleanup(e.ctx, pod.Namespace, pod.Name); err == nil {
		t.Fatal("Cleanup succeeded, want the volumes' error")
	}
	if _, err := os.Stat(podDir); err != nil {
		t.Errorf("pod directory removed before its volumes: %v", err)
	}
	volumes.cleanErr = nil
	if err := w.Cleanup(e.ctx, pod.Namespace, pod.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(podDir); !os.IsNotExist(err) {
		t.Errorf("pod directory left after cleanup: %v", err)
	}
	diff(t, "cleaned", []types.UID{pod.UID, pod.UID}, volumes.cleaned)
}
