package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// makeUpTimeout bounds one make run: the builds are cached in the suite
// (make test-e2e built everything), so it is mostly `strata up`.
const makeUpTimeout = 6 * time.Minute

// TestMakeUp runs the README's bring-up command, `make up`, at the
// repository root, as a person would after cloning: containerd, the
// nucleus, the kubelet and the proxy in .data (Makefile DATA_DIR), on
// the bridge strata0 with 10.88.0.0/16 and port 6443, and the layers
// apps and dns as Helm releases. The node is Ready, helm lists both
// releases deployed, and a Deployment created with kubectl runs. Then
// `make down` and `make up` again resume the same cluster: every object is
// there and every pod runs in the same containers. `make reset` cleans up.
//
// It refuses to run over an existing .data (the cluster of an earlier
// `make up`, which its cleanup would reset) or a busy port 6443.
func TestMakeUp(t *testing.T) {
	requireRealNode(t)
	requireHelm(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(root, ".data")
	if _, err := os.Stat(dataDir); err == nil {
		t.Fatalf("%s exists: the cluster of an earlier `make up`, which this test would reset; run `make reset` at the repository root first", dataDir)
	}
	if l, err := net.Listen("tcp", ":6443"); err != nil {
		t.Fatalf("port 6443, which `make up` serves the nucleus on, is busy (another `make up`?): %v", err)
	} else {
		l.Close()
	}
	kubeconfig := filepath.Join(dataDir, "admin.kubeconfig")
	k := kubectl{env: []string{"KUBECONFIG=" + kubeconfig}}
	h := func(t *testing.T, args ...string) string {
		t.Helper()
		return helmWith(t, kubeconfig, args...)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, log := range []string{"nucleus", "kubelet", "proxy", "containerd", "layers"} {
				t.Logf("%s.log:\n%s", log, tailFile(filepath.Join(dataDir, "logs", log+".log"), 30))
			}
		}
		if out, err := makeTarget(root, "reset"); err != nil {
			t.Errorf("make reset: %v\n%s", err, out)
		}
	})

	// The README's command.
	out := mustMake(t, root, "up")
	mustContain(t, out, "✓ Checking the host", "✓ Starting containerd", "✓ Starting nucleus", "✓ Starting kubelet", "✓ Starting proxy",
		"✓ Installing layer apps: installed apps", "✓ Installing layer dns: installed dns",
		"Strata is up", "export KUBECONFIG="+kubeconfig, "kubectl get nodes", "helm list -A")

	nodes := k.run(t, "get", "nodes")
	mustHaveHeaders(t, nodes, "NAME", "STATUS", "ROLES", "AGE", "VERSION")
	if lines := strings.Split(strings.TrimSpace(nodes), "\n"); len(lines) != 2 || strings.Fields(lines[1])[1] != "Ready" {
		t.Fatalf("kubectl get nodes, want one Ready node:\n%s", nodes)
	}
	releases := h(t, "list", "-A")
	for _, name := range []string{"apps", "dns"} {
		row := rowOf(t, releases, name)
		if row[1] != layersNamespace || row[2] != "1" || !slices.Contains(row, "deployed") {
			t.Errorf("helm list -A: release %s is %q, want revision 1 deployed in %s:\n%s", name, row, layersNamespace, releases)
		}
	}

	// The getting-started walk-through (docs/getting-started.md), from the
	// host through the node port on the node's address.
	walkGettingStarted(t, k, nodeIP())

	// docs/images.md: a user's own image, packed without Docker and
	// imported with `strata images import`, runs without a registry.
	runOwnImage(t, k, root, dataDir)

	// The apps layer is a release: uninstalled, its APIs go and the pods its
	// Deployments made keep running; installed again, the same objects come
	// back and no pod is replaced.
	appsLayerUninstallInstall(t, k, h, filepath.Join(root, "charts", "apps"))

	k.run(t, "create", "configmap", "kept", "--from-literal=a=b")
	mustContain(t, k.run(t, "create", "deployment", "web", "--image="+busyboxImage, "--replicas=2", "--",
		"httpd", "-f", "-p", "8080", "-h", "/var/www"), "deployment.apps/web created")
	mustContain(t, k.run(t, "rollout", "status", "deployment/web", "--timeout=90s"), `deployment "web" successfully rolled out`)
	before := runningPods(t, k)
	for _, want := range []string{"default/web-", layersNamespace + "/strata-apps-manager", layersNamespace + "/coredns-"} {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(before)), func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("no running pod %s* among %v", want, slices.Sorted(maps.Keys(before)))
		}
	}

	out = mustMake(t, root, "down")
	mustContain(t, out, "✓ Stopping proxy", "✓ Stopping kubelet", "✓ Stopping nucleus", "✓ Stopping containerd")
	if _, _, err := k.try(t, "get", "nodes"); err == nil {
		t.Fatal("the nucleus still answers after make down")
	}

	out = mustMake(t, root, "up")
	if strings.Contains(out, "Building the image archives") {
		t.Errorf("the second make up rebuilt the image archives, though nothing changed")
	}
	mustContain(t, out, "✓ Starting nucleus", "✓ Starting kubelet",
		"✓ Installing layer apps: apps 0.1.0, revision 2, unchanged", "✓ Installing layer dns: dns 0.1.0, revision 2, unchanged")
	releases = h(t, "list", "-A")
	for _, name := range []string{"apps", "dns"} {
		if row := rowOf(t, releases, name); !slices.Contains(row, "deployed") {
			t.Errorf("helm list -A after make down and up: release %s is %q, want deployed", name, row)
		}
	}
	mustContain(t, k.run(t, "get", "configmap", "kept", "-o", "jsonpath={.data.a}"), "b")
	mustContain(t, k.run(t, "rollout", "status", "deployment/web", "--timeout=90s"), `deployment "web" successfully rolled out`)
	after := runningPods(t, k)
	for name, b := range before {
		a, ok := after[name]
		switch {
		case !ok:
			t.Errorf("pod %s is gone after make down and up (running now: %v)", name, slices.Sorted(maps.Keys(after)))
		case !slices.Equal(a, b):
			t.Errorf("pod %s runs other containers after make down and up: %v, before %v", name, a, b)
		}
	}
	if len(after) != len(before) {
		t.Errorf("running pods after make down and up: %v, before %v", slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before)))
	}
}

// appsLayerUninstallInstall runs `helm uninstall apps` and `helm install
// apps` (with the values of the release it replaces) on the cluster of k,
// around a Deployment whose pods must survive both.
func appsLayerUninstallInstall(t *testing.T, k kubectl, h func(*testing.T, ...string) string, chart string) {
	t.Helper()
	mustContain(t, k.run(t, "create", "deployment", "layered", "--image="+busyboxImage, "--replicas=2", "--", "sleep", "3600"),
		"deployment.apps/layered created")
	mustContain(t, k.run(t, "rollout", "status", "deployment/layered", "--timeout=90s"), `deployment "layered" successfully rolled out`)
	pods := func() string {
		return k.run(t, "get", "pods", "-l", "app=layered", "--sort-by=.metadata.name",
			"-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} {.status.phase} {.status.containerStatuses[0].containerID}{"\n"}{end}`)
	}
	before := pods()
	values := filepath.Join(t.TempDir(), "apps-values.yaml")
	if err := os.WriteFile(values, []byte(h(t, "get", "values", "apps", "-n", layersNamespace, "-o", "yaml")), 0o644); err != nil {
		t.Fatal(err)
	}

	mustContain(t, h(t, "uninstall", "apps", "-n", layersNamespace), `release "apps" uninstalled`)
	if out := k.run(t, "api-resources", "--api-group=apps", "--no-headers"); strings.TrimSpace(out) != "" {
		t.Errorf("kubectl api-resources --api-group=apps after helm uninstall apps:\n%s", out)
	}
	for _, resource := range []string{"deployments", "replicasets"} {
		mustContain(t, k.runFails(t, "get", resource), `the server doesn't have a resource type "`+resource+`"`)
	}
	time.Sleep(5 * time.Second) // time for a garbage collector to act on a mistake
	if got := pods(); got != before {
		t.Errorf("pods of deployment layered after helm uninstall apps:\n%s\nwant them unchanged:\n%s", got, before)
	}

	mustContain(t, h(t, "install", "apps", chart, "-n", layersNamespace, "-f", values, "--wait", "--timeout=3m"), "STATUS: deployed")
	mustContain(t, k.run(t, "rollout", "status", "deployment/layered", "--timeout=90s"), `deployment "layered" successfully rolled out`)
	time.Sleep(5 * time.Second) // a few reconciles of the manager
	if got := pods(); got != before {
		t.Errorf("pods of deployment layered after helm install apps:\n%s\nwant the same pods:\n%s", got, before)
	}
	mustContain(t, k.run(t, "get", "deployment", "layered", "-o", "jsonpath={.status.readyReplicas}/{.status.replicas}"), "2/2")
	k.run(t, "delete", "deployment", "layered", "--wait", "--timeout=60s")
}

// runOwnImage packs a directory holding a static busybox into
// strata.local/own:1 with hack/tools/images, imports it into the cluster in
// dataDir with `strata images import`, and runs a pod of it.
func runOwnImage(t *testing.T, k kubectl, root, dataDir string) {
	t.Helper()
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("the static busybox of busybox-static: %v", err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), busybox, 0o755); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	pack := exec.Command("go", "run", "./hack/tools/images", "--out", out, "--dir", rootfs, "--ref", "strata.local/own:1",
		"--entrypoint", "/bin/busybox", "--cmd", "echo", "--cmd", "hello from my own image")
	pack.Dir = root
	if b, err := pack.CombinedOutput(); err != nil {
		t.Fatalf("go run ./hack/tools/images: %v\n%s", err, b)
	}
	archive := filepath.Join(out, "own.tar")
	imp := exec.Command(strataBin, "images", "import", "--data-dir", dataDir, archive)
	b, err := imp.CombinedOutput()
	if err != nil {
		t.Fatalf("strata images import: %v\n%s", err, b)
	}
	mustContain(t, string(b), "imported strata.local/own:1")

	k.run(t, "run", "own", "--image=strata.local/own:1", "--restart=Never")
	waitUntil(t, "pod own Succeeded", 90*time.Second, func() (bool, string) {
		phase := k.run(t, "get", "pod", "own", "-o", "jsonpath={.status.phase}")
		return phase == "Succeeded", "phase " + phase
	})
	mustContain(t, k.run(t, "logs", "own"), "hello from my own image")
	k.run(t, "delete", "pod", "own", "--wait", "--timeout=60s")
}

// runningPods waits until every pod of the cluster runs with all its
// containers ready, and returns each pod's containers as
// "name=containerID restarts=N", by namespace/name.
func runningPods(t *testing.T, k kubectl) map[string][]string {
	t.Helper()
	var pods map[string][]string
	waitUntil(t, "every pod Running and Ready", 2*time.Minute, func() (bool, string) {
		out, errOut, err := k.try(t, "get", "pods", "-A", "-o", "json")
		if err != nil {
			return false, errOut
		}
		var list corev1.PodList
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return false, err.Error()
		}
		pods = map[string][]string{}
		for _, p := range list.Items {
			if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
				return false, fmt.Sprintf("pod %s/%s is %s", p.Namespace, p.Name, p.Status.Phase)
			}
			var containers []string
			for _, c := range p.Status.ContainerStatuses {
				containers = append(containers, fmt.Sprintf("%s=%s restarts=%d", c.Name, c.ContainerID, c.RestartCount))
			}
			slices.Sort(containers)
			pods[p.Namespace+"/"+p.Name] = containers
		}
		return true, ""
	})
	return pods
}

// makeTarget runs `make target` in dir as a person would: none of the
// make variables of a make that may run this test (make test-e2e).
func makeTarget(dir, target string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), makeUpTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", target)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DATA_DIR", "SECURE_PORT", "UP_FLAGS", "KUBECONFIG":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func mustMake(t *testing.T, dir, target string) string {
	t.Helper()
	t.Logf("$ make %s", target)
	start := time.Now()
	out, err := makeTarget(dir, target)
	t.Logf("make %s took %s:\n%s", target, time.Since(start).Round(100*time.Millisecond), out)
	if err != nil {
		t.Fatalf("make %s: %v", target, err)
	}
	return out
}

// helmWith runs bin/helm against the cluster of kubeconfig.
func helmWith(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), helmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, helmBin, args...)
	// The later KUBECONFIG wins.
	cmd.Env = append(helm{}.environ(), "KUBECONFIG="+kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Logf("$ helm %s", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, &stdout, &stderr)
	}
	return stdout.String()
}
