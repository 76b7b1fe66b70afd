package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/strata-dev/strata/kubelet/cri"
	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
)

// The real node's pod network, apart from `make up`'s 10.88.0.0/16 on
// strata0 so both can run on one machine.
const (
	realNodeName   = "e2e-node"
	realNodeSubnet = "10.89.0.0/16"
	realNodeBridge = "strata-e2e"
	busyboxImage   = "strata.local/busybox:1.35.0"
)

// realNode is a node of real containers: `strata containerd` with the
// images of `make images` imported, and `strata kubelet` on it, with its
// credentials issued from the e2e nucleus' CA.
type realNode struct {
	dir        string
	containerd *process
	kubelet    *process
	proxy      *process
	port       int
	client     kubernetes.Interface
	// images are the archives of imagesDir() imported into containerd.
	images []string
}

// requireRealNode skips t when containerd cannot run here, unless
// STRATA_E2E_CONTAINERD=require (as `make test-e2e` sets), which makes it
// a failure: CI must run these tests.
func requireRealNode(t *testing.T) {
	t.Helper()
	why := ""
	if err := containerdenv.CheckHost(containerdenv.Config{}); err != nil {
		why = err.Error() + " (run `make deps` as root)"
	} else if _, err := os.Stat(filepath.Join(imagesDir(), "coredns.tar")); err != nil {
		why = "no image archives in " + imagesDir() + " (run `make images`)"
	}
	if why == "" {
		return
	}
	if os.Getenv("STRATA_E2E_CONTAINERD") == "require" {
		t.Fatalf("A real node cannot run: %s", why)
	}
	t.Skipf("SKIP: a real node cannot run: %s", why)
}

func imagesDir() string {
	if d := os.Getenv("STRATA_IMAGES_DIR"); d != "" {
		return d
	}
	return "../../bin/images"
}

// startRealNode starts containerd and the kubelet and waits for the Node
// to be Ready. containerd has the pause, busybox and coredns images, and
// extraImages (archives of imagesDir(), e.g. strata.tar). Cleanups stop
// both, remove every container, and delete the Node.
func startRealNode(t *testing.T, extraImages ...string) *realNode {
	t.Helper()
	requireRealNode(t)
	images := append([]string{"pause.tar", "busybox.tar", "coredns.tar"}, extraImages...)
	for _, image := range extraImages {
		if _, err := os.Stat(filepath.Join(imagesDir(), image)); err != nil {
			t.Fatalf("No image archive %s in %s (run `make images`): %v", image, imagesDir(), err)
		}
	}
	dir, err := os.MkdirTemp("", "strata-node-")
	if err != nil {
		t.Fatal(err)
	}
	n := &realNode{dir: dir, images: images}
	if n.port, err = freePort(); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", cluster.kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	n.client = kubernetes.NewForConfigOrDie(cfg)

	// Cleanups run last first: the Node goes after the containers.
	t.Cleanup(func() {
		run(t, "delete", "node", realNodeName, "--ignore-not-found")
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	t.Cleanup(func() {
		// Teardown starts the instance again and removes what runs on it.
		out, err := exec.Command(strataBin, n.containerdArgs("--teardown")...).CombinedOutput()
		if err != nil {
			t.Errorf("strata containerd --teardown: %v\n%s", err, out)
		}
	})
	t.Cleanup(func() {
		// The proxy's rules go once it stopped (cleanups run last first).
		out, err := exec.Command(strataBin, "proxy", "--cleanup").CombinedOutput()
		if err != nil {
			t.Errorf("strata proxy --cleanup: %v\n%s", err, out)
		}
	})
	if err := os.MkdirAll(n.manifestDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	n.containerd = startProcess(t, "containerd", n.containerdArgs()...)
	waitForLog(t, n.containerd, "containerd is ready", 2*time.Minute)
	n.startKubelet(t)
	waitUntil(t, "the node to be Ready", 90*time.Second, func() (bool, string) {
		out, _, err := kubectl{}.try(t, "get", "node", realNodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return err == nil && out == "True", out
	})
	// The service proxy, as the node (the kubelet's credentials).
	n.proxy = startProcess(t, "proxy", "proxy",
		"--kubeconfig", filepath.Join(n.dir, "kubelet", "kubelet.kubeconfig"),
		"--hostname-override", realNodeName,
		"--cluster-cidr", realNodeSubnet,
		"--healthz-bind-address", "")
	return n
}

func (n *realNode) containerdArgs(extra ...string) []string {
	args := []string{"containerd", "--data-dir", filepath.Join(n.dir, "containerd"),
		"--subnet", realNodeSubnet, "--bridge", realNodeBridge}
	for _, image := range n.images {
		args = append(args, "--image", filepath.Join(imagesDir(), image))
	}
	return append(args, extra...)
}

// startKubelet starts the kubelet (again).
func (n *realNode) startKubelet(t *testing.T) {
	t.Helper()
	n.kubelet = startProcess(t, "kubelet", "kubelet",
		"--nucleus-data-dir", cluster.dataDir,
		"--hostname-override", realNodeName,
		"--container-runtime-endpoint", "unix://"+filepath.Join(n.dir, "containerd", "containerd.sock"),
		"--root-dir", filepath.Join(n.dir, "kubelet"),
		"--pod-logs-dir", filepath.Join(n.dir, "logs"),
		"--pod-cidr", realNodeSubnet,
		"--cluster-dns", "10.96.0.10",
		"--pod-manifest-path", n.manifestDir(),
		"--port", fmt.Sprint(n.port),
		"-v", "2")
}

// manifestDir is the kubelet's --pod-manifest-path: static pods' manifests.
func (n *realNode) manifestDir() string { return filepath.Join(n.dir, "manifests") }

// waitForLog waits until a process logged line.
func waitForLog(t *testing.T, p *process, line string, timeout time.Duration) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%s to log %q", p.name, line), timeout, func() (bool, string) {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("strata %s exited: %v; log %s:\n%s", p.name, err, p.log, tailFile(p.log, 30))
		default:
		}
		data, _ := os.ReadFile(p.log)
		if int64(len(data)) < p.logStart {
			return false, ""
		}
		return strings.Contains(string(data[p.logStart:]), line), ""
	})
}

// waitUntil polls cond every half second until it holds, failing t after
// timeout with cond's last word.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Timed out after %s waiting for %s; last: %s", timeout, what, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tailFile(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// getPod reads a pod with kubectl.
func getPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	if err := json.Unmarshal([]byte(run(t, "get", "pod", "-n", ns, name, "-o", "json")), &pod); err != nil {
		t.Fatal(err)
	}
	return &pod
}

// waitPod waits until cond holds for the pod, reporting its status
// otherwise.
func waitPod(t *testing.T, ns, name, what string, timeout time.Duration, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	waitUntil(t, fmt.Sprintf("pod %s/%s %s", ns, name, what), timeout, func() (bool, string) {
		out, _, err := kubectl{}.try(t, "get", "pod", "-n", ns, name, "-o", "json")
		if err != nil {
			return false, err.Error()
		}
		pod = &corev1.Pod{}
		if err := json.Unmarshal([]byte(out), pod); err != nil {
			return false, err.Error()
		}
		status, _ := json.Marshal(pod.Status)
		return cond(pod), string(status)
	})
	return pod
}

func podRunning(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning }

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// applyManifest applies a manifest in namespace ns with kubectl.
func applyManifest(t *testing.T, ns, manifest string) {
	t.Helper()
	kubectl{stdin: manifest}.run(t, "apply", "-n", ns, "-f", "-")
}

func contextWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// criRuntime connects to the node's containerd through CRI, as the
// kubelet does, for checks of what really runs; the caller closes it.
func (n *realNode) criRuntime(t *testing.T) (context.Context, *cri.Remote) {
	t.Helper()
	ctx := contextWithTimeout(t, 30*time.Second)
	rt, err := cri.Connect(ctx, cri.RemoteConfig{Endpoint: "unix://" + filepath.Join(n.dir, "containerd", "containerd.sock")})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, rt
}

// countContainers counts the containers in containerd whose labels (the
// kubelet's io.kubernetes.* ones) include labels: the running ones, or all.
func (n *realNode) countContainers(t *testing.T, labels map[string]string, runningOnly bool) int {
	t.Helper()
	ctx, rt := n.criRuntime(t)
	defer rt.Close(ctx)
	filter := &runtimeapi.ContainerFilter{LabelSelector: labels}
	if runningOnly {
		filter.State = &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}
	}
	containers, err := rt.ListContainers(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	return len(containers)
}

// runningContainers counts the running containers named name in pods of
// namespace ns.
func (n *realNode) runningContainers(t *testing.T, ns, name string) int {
	return n.countContainers(t, map[string]string{"io.kubernetes.pod.namespace": ns, "io.kubernetes.container.name": name}, true)
}

// containers counts the containers (in any state) named name of pod ns/pod.
func (n *realNode) containers(t *testing.T, ns, pod, name string) int {
	return n.countContainers(t, map[string]string{"io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.name": pod, "io.kubernetes.container.name": name}, false)
}

// containersOf counts the containers of pod ns/name, the running ones or
// all.
func (n *realNode) containersOf(t *testing.T, ns, name string, runningOnly bool) int {
	return n.countContainers(t, map[string]string{"io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.name": name}, runningOnly)
}
