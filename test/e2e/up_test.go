package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestUpDownResume brings a whole cluster up with `strata up --layers=none`
// (containerd, nucleus, kubelet and proxy in the background, no layers:
// TestMakeUp installs them), runs a pod, stops everything with
// `strata down`, and checks that `strata up` again resumes the same
// cluster: the objects are there and the pod's container kept running.
func TestUpDownResume(t *testing.T) {
	requireRealNode(t)
	dir, err := os.MkdirTemp("", "strata-up-")
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	kubeletPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	// Apart from `make up` (10.88.0.0/16 on strata0) and the real node
	// test (10.89.0.0/16).
	network := []string{"--data-dir", dir, "--pod-subnet", "10.91.0.0/16", "--bridge", "strata-up"}
	// The user's kubeconfig, which --merge-kubeconfig writes into: the first
	// file of $KUBECONFIG, holding another cluster, current.
	userDir := t.TempDir()
	userConfig := filepath.Join(userDir, "config")
	if err := os.WriteFile(userConfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443"}
users:
- name: prod
  user: {token: abc}
contexts:
- name: prod
  context: {cluster: prod, user: prod}
current-context: prod
`), 0o600); err != nil {
		t.Fatal(err)
	}
	strata := func(t *testing.T, args ...string) string {
		t.Helper()
		cmd := exec.Command(strataBin, args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+userConfig+string(os.PathListSeparator)+filepath.Join(userDir, "other"))
		t.Logf("$ strata %s", strings.Join(args, " "))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("strata %s: %v\n%s\nlogs in %s", strings.Join(args, " "), err, out, filepath.Join(dir, "logs"))
		}
		return string(out)
	}
	upArgs := append([]string{"up", "--secure-port", fmt.Sprint(port), "--kubelet-port", fmt.Sprint(kubeletPort),
		"--node-name", "e2e-up", "--images-dir", imagesDir(), "--layers=none"}, network...)
	t.Cleanup(func() {
		out, err := exec.Command(strataBin, append([]string{"reset"}, network...)...).CombinedOutput()
		if err != nil {
			t.Errorf("strata reset: %v\n%s", err, out)
		}
	})

	out := strata(t, upArgs...)
	mustContain(t, out, "✓ Checking the host", "✓ Starting containerd", "✓ Starting nucleus", "✓ Starting kubelet",
		"no layers (--layers=none)", "export KUBECONFIG="+filepath.Join(dir, "admin.kubeconfig"), "kubectl get nodes")
	if strings.Contains(out, "Installing layer") {
		t.Errorf("strata up --layers=none installed layers:\n%s", out)
	}
	k := kubectl{env: []string{"KUBECONFIG=" + filepath.Join(dir, "admin.kubeconfig")}}
	mustContain(t, k.run(t, "get", "nodes"), "e2e-up", "Ready")

	k.run(t, "create", "configmap", "kept", "--from-literal=a=b")
	k.run(t, "run", "sleeper", "--image="+busyboxImage, "--", "sleep", "3600")
	before := waitPodWith(t, k, "sleeper", podRunning)

	out = strata(t, append([]string{"down"}, network...)...)
	mustContain(t, out, "✓ Stopping kubelet", "✓ Stopping nucleus", "✓ Stopping containerd")
	if _, _, err := k.try(t, "get", "nodes"); err == nil {
		t.Fatalf("the nucleus still answers after strata down")
	}

	out = strata(t, append(upArgs, "--merge-kubeconfig")...)
	mustContain(t, out, "✓ Starting kubelet", "✓ Merging context strata into "+userConfig,
		"The context strata is in "+userConfig+" (the current one stays prod)", "kubectl --context strata get nodes")
	user := kubectl{env: []string{"KUBECONFIG=" + userConfig}}
	mustContain(t, user.run(t, "--context", "strata", "get", "nodes"), "e2e-up", "Ready")
	if got := strings.TrimSpace(user.run(t, "config", "current-context")); got != "prod" {
		t.Errorf("current context after --merge-kubeconfig: %q, want prod (kept)", got)
	}
	mustContain(t, user.run(t, "config", "get-contexts", "-o", "name"), "prod", "strata")
	if _, err := os.Stat(filepath.Join(userDir, "other")); err == nil {
		t.Errorf("--merge-kubeconfig wrote the second file of $KUBECONFIG too")
	}
	mustContain(t, k.run(t, "get", "configmap", "kept", "-o", "jsonpath={.data.a}"), "b")
	time.Sleep(3 * time.Second) // a few syncs of the resumed kubelet
	after := waitPodWith(t, k, "sleeper", podRunning)
	b, a := before.Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]
	if a.ContainerID != b.ContainerID || a.RestartCount != 0 {
		t.Errorf("the pod's container changed across strata down/up: %s → %s, restarts %d", b.ContainerID, a.ContainerID, a.RestartCount)
	}
}

// waitPodWith waits for a pod of the default namespace through k.
func waitPodWith(t *testing.T, k kubectl, name string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	waitUntil(t, "pod "+name, 90*time.Second, func() (bool, string) {
		out, _, err := k.try(t, "get", "pod", name, "-o", "json")
		if err != nil {
			return false, err.Error()
		}
		pod = &corev1.Pod{}
		if err := json.Unmarshal([]byte(out), pod); err != nil {
			return false, err.Error()
		}
		return cond(pod), string(pod.Status.Phase)
	})
	return pod
}
