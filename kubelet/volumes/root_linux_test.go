package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"golang.org/x/sys/unix"
)

// requireRoot skips tests that mount or change owners.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// mountCount is how many mounts are on dir.
func mountCount(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 && fields[4] == dir {
			n++
		}
	}
	return n
}

func TestManagerTmpfs(t *testing.T) {
	requireRoot(t)
	e := newTestEnv(t, configMap("kube-root-ca.crt", "ca.crt", "CA"))
	cfg := e.m.cfg
	cfg.DisableTmpfs = false
	e.m = New(cfg)
	pod := makePod("web").
		Volume("mem", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: ptr.To(resource.MustParse("16Mi"))}}, "/mem").
		Volume("kube-api-access-x", kubeAPIAccess(), "/sa").
		Obj()
	mem := VolumeDir(e.podsDir, pod.UID, PluginEmptyDir, "mem")
	projected := VolumeDir(e.podsDir, pod.UID, PluginProjected, "kube-api-access-x")
	t.Cleanup(func() {
		// Whatever happened, leave nothing mounted.
		_ = unix.Unmount(mem, 0)
		_ = unix.Unmount(projected, 0)
	})
	if err := e.m.SetUpVolumes(e.ctx, pod); err != nil {
		if strings.Contains(err.Error(), "operation not permitted") {
			t.Skipf("cannot mount here: %v", err)
		}
		t.Fatal(err)
	}

	var st unix.Statfs_t
	if err := unix.Statfs(mem, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TMPFS_MAGIC || st.Blocks*uint64(st.Bsize) != 16<<20 {
		t.Errorf("emptyDir medium Memory: filesystem type %#x of %d bytes, want a tmpfs of 16Mi", st.Type, st.Blocks*uint64(st.Bsize))
	}
	if err := unix.Statfs(projected, &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Errorf("projected volume: filesystem type %#x, %v; want tmpfs", st.Type, err)
	}
	if got := e.read(pod, PluginProjected, "kube-api-access-x", "token"); got != "token-1" {
		t.Errorf("token = %q", got)
	}

	// A restarted kubelet does not mount again over what is there.
	if err := os.WriteFile(filepath.Join(mem, "data"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	again := New(cfg)
	if err := again.SetUpVolumes(e.ctx, pod); err != nil {
		t.Fatal(err)
	}
	if n := mountCount(t, mem); n != 1 {
		t.Errorf("%d mounts on the emptyDir, want 1", n)
	}
	if data, _ := os.ReadFile(filepath.Join(mem, "data")); string(data) != "kept" {
		t.Errorf("emptyDir content after set-up again: %q", data)
	}

	if err := again.Cleanup(e.ctx, pod.UID); err != nil {
		t.Fatal(err)
	}
	if n := mountCount(t, mem) + mountCount(t, projected); n != 0 {
		t.Errorf("%d mounts left after cleanup", n)
	}
	if _, err := os.Stat(PodVolumesDir(e.podsDir, pod.UID)); !os.IsNotExist(err) {
		t.Errorf("volumes left after cleanup: %v", err)
	}
}

func TestRemoveAllOneFilesystem(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	mounted := filepath.Join(dir, "a", "mounted")
	if err := os.MkdirAll(mounted, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mountTmpfs(mounted, 1<<20); err != nil {
		t.Skipf("cannot mount here: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(mounted, 0) })
	if err := os.WriteFile(filepath.Join(mounted, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := removeAllOneFilesystem(dir); err == nil || !strings.Contains(err.Error(), "it is a mount point") {
		t.Errorf("removing a tree with a mount: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(mounted, "precious")); err != nil {
		t.Errorf("the mounted filesystem was emptied: %v", err)
	}
}

func TestManagerFSGroup(t *testing.T) {
	requireRoot(t)
	e := newTestEnv(t, configMap("settings", "a", "1"), configMap("kube-root-ca.crt", "ca.crt", "CA"))
	pod := makePod("web").FSGroup(1234).
		Volume("cache", emptyDirVolume(), "/cache").
		Volume("cfg", configMapVolume("settings"), "/cfg").
		Volume("kube-api-access-x", kubeAPIAccess(), "/sa").
		Obj()
	pod.Spec.SecurityContext.RunAsUser = ptr.To[int64](1000)
	e.setUp(pod)

	check := func(path string, wantUID, wantGID int, wantMode os.FileMode) {
		t.Helper()
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if int(st.Uid) != wantUID || int(st.Gid) != wantGID || info.Mode()&(os.ModePerm|os.ModeSetgid) != wantMode {
			t.Errorf("%s: %d:%d %v, want %d:%d %v", filepath.Base(path), st.Uid, st.Gid, info.Mode(), wantUID, wantGID, wantMode)
		}
	}
	check(VolumeDir(e.podsDir, pod.UID, PluginEmptyDir, "cache"), 0, 1234, os.ModeSetgid|0o777)
	check(filepath.Join(VolumeDir(e.podsDir, pod.UID, PluginConfigMap, "cfg"), "a"), 0, 1234, 0o644)
	// The token is the pod's user's, readable by its group.
	check(filepath.Join(VolumeDir(e.podsDir, pod.UID, PluginProjected, "kube-api-access-x"), "token"), 1000, 1234, 0o640)
	check(filepath.Join(VolumeDir(e.podsDir, pod.UID, PluginProjected, "kube-api-access-x"), "ca.crt"), 0, 1234, 0o644)

	// A restarted kubelet leaves the emptyDir as it is.
	if err := New(e.m.cfg).SetUpVolumes(e.ctx, pod); err != nil {
		t.Fatal(err)
	}
	check(VolumeDir(e.podsDir, pod.UID, PluginEmptyDir, "cache"), 0, 1234, os.ModeSetgid|0o777)
}
