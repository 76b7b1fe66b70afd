package containerdenv_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/strata-dev/strata/images"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv/containerdtest"
)

// TestPodOnRealContainerd runs a busybox pod through CRI on a real
// containerd: the sandbox gets an address of the pod network, the
// container's output reaches its log file, ExecSync runs in it, and
// tearing down leaves no process behind.
func TestPodOnRealContainerd(t *testing.T) {
	start := time.Now()
	inst := containerdtest.Start(t, containerdtest.Options{})
	t.Logf("containerd %s ready with images in %s", inst.RuntimeVersion, time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	rs, err := inst.RuntimeService(ctx)
	if err != nil {
		t.Fatal(err)
	}
	is, err := inst.ImageService(ctx)
	if err != nil {
		t.Fatal(err)
	}
	busybox := images.BusyboxRepo + ":latest"
	for _, ref := range []string{images.PauseRef, busybox} {
		st, err := is.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
		if err != nil || st.GetImage() == nil {
			t.Fatalf("Image %s not in CRI after import: %v", ref, err)
		}
	}

	logDir := t.TempDir()
	sandboxConfig := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "hello", Uid: "0b8f1c9e-hello", Namespace: "default"},
		Hostname:     "hello",
		LogDirectory: logDir,
		Labels:       map[string]string{"app": "hello"},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{
					Network: runtimeapi.NamespaceMode_POD,
					Pid:     runtimeapi.NamespaceMode_CONTAINER,
					Ipc:     runtimeapi.NamespaceMode_POD,
				},
			},
		},
	}
	sandboxID, err := rs.RunPodSandbox(ctx, sandboxConfig, "")
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	status, err := rs.PodSandboxStatus(ctx, sandboxID, false)
	if err != nil {
		t.Fatalf("PodSandboxStatus: %v", err)
	}
	ip, err := netip.ParseAddr(status.GetStatus().GetNetwork().GetIp())
	if err != nil {
		t.Fatalf("Pod sandbox has no IP: %v (network status %v)", err, status.GetStatus().GetNetwork())
	}
	if subnet := netip.MustParsePrefix(inst.Config.Subnet); !subnet.Contains(ip) {
		t.Errorf("Pod IP %s is not in the pod subnet %s", ip, subnet)
	}
	if _, err := net.InterfaceByName(inst.Config.BridgeName); err != nil {
		t.Errorf("Bridge %s: %v", inst.Config.BridgeName, err)
	}

	containerConfig := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "main"},
		Image:    &runtimeapi.ImageSpec{Image: busybox},
		Command:  []string{"sh", "-c", "echo hello; sleep 30"},
		LogPath:  "main/0.log",
		Linux:    &runtimeapi.LinuxContainerConfig{},
	}
	containerID, err := rs.CreateContainer(ctx, sandboxID, containerConfig, sandboxConfig)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := rs.StartContainer(ctx, containerID); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	logPath := filepath.Join(logDir, "main", "0.log")
	var logData []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		logData, _ = os.ReadFile(logPath) //nolint:gosec // the test's log
		if strings.Contains(string(logData), "stdout F hello") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Container log %s has no line with hello: %q", logPath, logData)
		}
		time.Sleep(50 * time.Millisecond)
	}

	stdout, stderr, err := rs.ExecSync(ctx, containerID, []string{"echo", "hi"}, 10*time.Second)
	if err != nil || string(stdout) != "hi\n" {
		t.Errorf("ExecSync echo hi = %q, %q, %v; want hi", stdout, stderr, err)
	}
	stdout, _, err = rs.ExecSync(ctx, containerID, []string{"hostname"}, 10*time.Second)
	if err != nil || strings.TrimSpace(string(stdout)) != "hello" {
		t.Errorf("ExecSync hostname = %q, %v; want hello", stdout, err)
	}

	if err := rs.StopContainer(ctx, containerID, 1); err != nil {
		t.Errorf("StopContainer: %v", err)
	}
	cs, err := rs.ContainerStatus(ctx, containerID, false)
	if err != nil {
		t.Errorf("ContainerStatus: %v", err)
	} else if st := cs.GetStatus().GetState(); st != runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Errorf("Container state after stop = %s, want CONTAINER_EXITED", st)
	}
	if err := rs.RemoveContainer(ctx, containerID); err != nil {
		t.Errorf("RemoveContainer: %v", err)
	}
	if err := rs.StopPodSandbox(ctx, sandboxID); err != nil {
		t.Errorf("StopPodSandbox: %v", err)
	}
	if err := rs.RemovePodSandbox(ctx, sandboxID); err != nil {
		t.Errorf("RemovePodSandbox: %v", err)
	}

	// Teardown (also run by the cleanup, where it then finds nothing to do)
	// must leave no containerd, shim or container process.
	pid := inst.PID()
	if err := inst.Teardown(ctx); err != nil {
		t.Errorf("Teardown: %v", err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("containerd (pid %d) still runs after Teardown: kill -0 = %v", pid, err)
	}
	if pids := containerdenv.ShimPIDs(inst.Layout.Socket); len(pids) > 0 {
		t.Errorf("Shims still run after Teardown: %v", pids)
	}
	if _, err := net.InterfaceByName(inst.Config.BridgeName); err == nil {
		t.Errorf("Bridge %s still exists after Teardown", inst.Config.BridgeName)
	}
	t.Logf("Whole test took %s", time.Since(start).Round(time.Millisecond))
}
