package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestPodsOnARealNode runs pods in a real containerd through `strata
// kubelet` and drives them with the real kubectl: the stories of a node.
func TestPodsOnARealNode(t *testing.T) {
	parent := t
	requireResource(t, "pods")
	node := startRealNode(t)
	ns := createNamespace(t, "real-node")
	t.Cleanup(func() { run(t, "delete", "namespace", ns, "--wait=false") })

	t.Run("logs and exec", func(t *testing.T) {
		applyManifest(t, ns, podManifest("counter", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "i=0; while true; do echo count $i; i=$((i+1)); sleep 1; done"]`))
		pod := waitPod(t, ns, "counter", "Running", 60*time.Second, podRunning)
		if pod.Status.PodIP == "" || !strings.HasPrefix(pod.Status.PodIP, "10.89.") {
			t.Errorf("podIP = %q, want an address of %s", pod.Status.PodIP, realNodeSubnet)
		}
		waitUntil(t, "the log to show count 2", 30*time.Second, func() (bool, string) {
			out, _, _ := kubectl{}.try(t, "logs", "-n", ns, "counter")
			return strings.Contains(out, "count 0\ncount 1\ncount 2\n"), out
		})
		mustContain(t, run(t, "exec", "-n", ns, "counter", "--", "sh", "-c", "echo $((6*7)) $(hostname)"), "42 counter")
		_, _, err := kubectl{}.try(t, "exec", "-n", ns, "counter", "--", "sh", "-c", "exit 3")
		if code := exitCode(err); code != 3 {
			t.Errorf("kubectl exec of `exit 3` exited %d, want 3", code)
		}
	})

	t.Run("kubectl attach sends stdin and shows new output", func(t *testing.T) { storyAttach(t, node, ns) })
	t.Run("kubectl logs -f follows until the container exits", func(t *testing.T) { storyLogsFollow(t, node, ns) })
	t.Run("kubectl exec -it runs in a terminal", func(t *testing.T) { storyExecTTY(t, node, ns) })
	t.Run("kubectl cp copies files in and out", func(t *testing.T) { storyCopy(t, node, ns) })
	t.Run("nodes/proxy serves the kubelet's stats summary, healthz and pods", func(t *testing.T) { storyStatsSummary(t, node, ns) })
	t.Run("static pods run with mirror pods", func(t *testing.T) { storyStaticPods(t, node, ns) })

	t.Run("crash loop back-off grows", func(t *testing.T) {
		applyManifest(t, ns, podManifest("crasher", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "echo crashing; exit 1"]`))
		// Restarts come 10s, then 20s apart: record when each is seen.
		seen := map[int32]time.Time{}
		waitUntil(t, "three restarts", 90*time.Second, func() (bool, string) {
			out, _, err := kubectl{}.try(t, "get", "pod", "-n", ns, "crasher", "-o", `jsonpath={.status.containerStatuses[0].restartCount}`)
			if err != nil {
				return false, err.Error()
			}
			var n int32
			fmt.Sscan(out, &n)
			if _, ok := seen[n]; !ok {
				seen[n] = time.Now()
			}
			return n >= 3, out
		})
		pod := getPod(t, ns, "crasher")
		st := pod.Status.ContainerStatuses[0]
		if st.LastTerminationState.Terminated == nil || st.LastTerminationState.Terminated.ExitCode != 1 || st.LastTerminationState.Terminated.Reason != "Error" {
			t.Errorf("lastState = %+v, want terminated with exit code 1, reason Error", st.LastTerminationState)
		}
		if first, second := seen[2].Sub(seen[1]), seen[3].Sub(seen[2]); second < first+5*time.Second {
			t.Errorf("the back-off did not grow: restart 1→2 took %s, 2→3 took %s", first, second)
		}
		// Garbage collection: containerd keeps the current container and
		// the one before it (lastState, --previous), not one per restart.
		if n := node.containers(t, ns, "crasher", "app"); n > 2 {
			t.Errorf("containerd holds %d containers of crasher after %d restarts, want at most 2", n, st.RestartCount)
		}
		waitPod(t, ns, "crasher", "in CrashLoopBackOff", 30*time.Second, func(p *corev1.Pod) bool {
			w := p.Status.ContainerStatuses[0].State.Waiting
			return w != nil && w.Reason == "CrashLoopBackOff"
		})
		mustContain(t, run(t, "get", "pod", "-n", ns, "crasher"), "CrashLoopBackOff")
		mustContain(t, run(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=crasher"), "BackOff", "Back-off restarting failed container app in pod crasher")
		mustContain(t, run(t, "logs", "-n", ns, "crasher", "--previous"), "crashing")
		run(t, "delete", "pod", "-n", ns, "crasher", "--grace-period=1")
	})

	t.Run("readiness and liveness probes", func(t *testing.T) {
		applyManifest(t, ns, podManifest("web", `
  containers:
  - name: httpd
    image: `+busyboxImage+`
    command: ["sh", "-c", "mkdir -p /www && echo alive > /www/healthz && exec httpd -f -p 8080 -h /www"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /ready, port: http}
      periodSeconds: 1
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      failureThreshold: 2`))
		waitPod(t, ns, "web", "Running", 60*time.Second, podRunning)
		time.Sleep(3 * time.Second)
		if pod := getPod(t, ns, "web"); podReady(pod) {
			t.Fatalf("the pod is Ready before its readiness probe can pass")
		}
		run(t, "exec", "-n", ns, "web", "--", "sh", "-c", "echo ok > /www/ready")
		waitPod(t, ns, "web", "Ready", 30*time.Second, podReady)

		// Port-forward reaches httpd.
		body := portForwardGet(t, ns, "pod/web", 8080, "/ready")
		if body != "ok\n" {
			t.Errorf("GET /ready through kubectl port-forward = %q, want %q", body, "ok\n")
		}

		run(t, "exec", "-n", ns, "web", "--", "rm", "/www/healthz")
		waitPod(t, ns, "web", "restarted by its liveness probe", 60*time.Second, func(p *corev1.Pod) bool {
			return p.Status.ContainerStatuses[0].RestartCount >= 1
		})
		mustContain(t, run(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=web"),
			"Unhealthy", "Liveness probe failed", "Container httpd failed liveness probe, will be restarted")
	})

	t.Run("configMap and secret volumes follow updates", func(t *testing.T) {
		run(t, "create", "configmap", "-n", ns, "settings", "--from-literal=color=blue")
		run(t, "create", "secret", "generic", "-n", ns, "creds", "--from-literal=password=s3cret")
		applyManifest(t, ns, podManifest("reader", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: settings, mountPath: /etc/settings}
    - {name: creds, mountPath: /etc/creds, readOnly: true}
  volumes:
  - name: settings
    configMap: {name: settings}
  - name: creds
    secret: {secretName: creds}`))
		waitPod(t, ns, "reader", "Running", 60*time.Second, podRunning)
		mustContain(t, run(t, "exec", "-n", ns, "reader", "--", "cat", "/etc/settings/color", "/etc/creds/password"), "blue", "s3cret")
		run(t, "patch", "configmap", "-n", ns, "settings", "-p", `{"data":{"color":"green"}}`)
		run(t, "patch", "secret", "-n", ns, "creds", "-p", `{"stringData":{"password":"n3w"}}`)
		waitUntil(t, "the volumes to show the new data", 90*time.Second, func() (bool, string) {
			out, _, _ := kubectl{}.try(t, "exec", "-n", ns, "reader", "--", "cat", "/etc/settings/color", "/etc/creds/password")
			return strings.Contains(out, "green") && strings.Contains(out, "n3w"), out
		})
	})

	t.Run("init containers in order, and every kind of environment variable", func(t *testing.T) { initContainersAndEnvironmentStory(t, ns) })
	t.Run("a missing ConfigMap and an image that cannot be pulled", func(t *testing.T) { configErrorAndImagePullStory(t, ns) })
	t.Run("exec, tcpSocket and startup probes, a postStart hook", func(t *testing.T) { probesAndPostStartStory(t, ns) })
	t.Run("kubectl debug adds an ephemeral container that sees its target", func(t *testing.T) { debugStory(t, node, ns) })
	t.Run("a claim bound to a hostPath PersistentVolume outlives its pods", func(t *testing.T) { persistentVolumeStory(t, node, ns) })

	t.Run("a memory hog is OOMKilled", func(t *testing.T) {
		applyManifest(t, ns, podManifest("hog", `
  restartPolicy: Never
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "sleep 1; dd if=/dev/zero of=/dev/null bs=256M count=1"]
    resources:
      limits: {memory: 32Mi}`))
		pod := waitPod(t, ns, "hog", "Failed", 60*time.Second, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
		term := pod.Status.ContainerStatuses[0].State.Terminated
		if term == nil || term.Reason != "OOMKilled" || term.ExitCode != 137 {
			t.Errorf("state = %+v, want terminated, reason OOMKilled, exit code 137", pod.Status.ContainerStatuses[0].State)
		}
		if pod.Status.QOSClass != corev1.PodQOSBurstable {
			t.Errorf("qosClass = %s, want Burstable", pod.Status.QOSClass)
		}
	})

	t.Run("deletion runs preStop and honours the grace period", func(t *testing.T) {
		hostDir := filepath.Join(node.dir, "prestop")
		applyManifest(t, ns, podManifest("graceful", `
  terminationGracePeriodSeconds: 6
  containers:
  - name: app
    image: `+busyboxImage+`
    # sh as PID 1 ignores SIGTERM: the kubelet must wait out the grace period, then kill.
    command: ["sh", "-c", "while true; do sleep 1; done"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "date +%s > /out/prestop"]}
    volumeMounts: [{name: out, mountPath: /out}]
  volumes:
  - name: out
    hostPath: {path: `+hostDir+`, type: DirectoryOrCreate}`))
		waitPod(t, ns, "graceful", "Running", 60*time.Second, podRunning)
		start := time.Now()
		run(t, "delete", "pod", "-n", ns, "graceful", "--wait=true")
		took := time.Since(start)
		if took < 5*time.Second || took > 30*time.Second {
			t.Errorf("deleting a pod that ignores SIGTERM with a 6s grace period took %s", took)
		}
		node.requireNoRunningContainers(t, ns, "graceful")
		if _, err := os.Stat(filepath.Join(hostDir, "prestop")); err != nil {
			t.Errorf("the preStop hook did not run: %v", err)
		}
	})

	t.Run("two pods reach each other by pod IP", func(t *testing.T) {
		applyManifest(t, ns, podManifest("server", `
  containers:
  - name: httpd
    image: `+busyboxImage+`
    command: ["sh", "-c", "mkdir -p /www && echo hello from server > /www/index.html && exec httpd -f -p 80 -h /www"]`))
		applyManifest(t, ns, podManifest("client", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sleep", "3600"]`))
		server := waitPod(t, ns, "server", "Running", 60*time.Second, podRunning)
		waitPod(t, ns, "client", "Running", 60*time.Second, podRunning)
		mustContain(t, run(t, "exec", "-n", ns, "client", "--", "wget", "-q", "-O", "-", "http://"+server.Status.PodIP+"/"), "hello from server")
	})

	t.Run("kubectl create deployment runs three pods in containerd", func(t *testing.T) {
		startAppsLayer(t, 0)
		run(t, "create", "deployment", "web", "-n", ns, "--image="+busyboxImage, "--replicas=3", "--", "httpd", "-f", "-p", "8080")
		run(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=120s")
		out := run(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", `jsonpath={range .items[*]}{.spec.nodeName} {.status.phase}{"\n"}{end}`)
		if got := strings.Count(out, realNodeName+" Running\n"); got != 3 {
			t.Errorf("pods of deployment web on %s and Running: %d, want 3:\n%s", realNodeName, got, out)
		}
		// The runtime's own view: three running httpd containers of the namespace.
		running := node.runningContainers(t, ns, "busybox")
		if running != 3 {
			t.Errorf("containerd runs %d containers of deployment web, want 3", running)
		}
		run(t, "delete", "deployment", "web", "-n", ns)
	})

	t.Run("services reach their pods through the proxy", func(t *testing.T) {
		for i := range 3 {
			applyManifest(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: backend-%d
  labels: {app: backend}
spec:
  nodeName: %s
  containers:
  - name: httpd
    image: %s
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
`, i, realNodeName, busyboxImage))
		}
		applyManifest(t, ns, podManifest("caller", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sleep", "3600"]`))
		applyManifest(t, ns, `apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  selector: {app: backend}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: backend-np}
spec:
  type: NodePort
  selector: {app: backend}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: backend}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  selector: {app: nobody}
  ports: [{port: 80, targetPort: 8080}]
`)
		for i := range 3 {
			waitPod(t, ns, fmt.Sprintf("backend-%d", i), "Ready", 60*time.Second, podReady)
		}
		waitPod(t, ns, "caller", "Running", 60*time.Second, podRunning)
		clusterIP := func(svc string) string {
			return run(t, "get", "service", "-n", ns, svc, "-o", "jsonpath={.spec.clusterIP}")
		}
		// answers fetches url from the caller pod n times and returns who answered.
		answers := func(url string, n int) map[string]int {
			script := fmt.Sprintf("for i in $(seq %d); do wget -q -O - %s || echo FAILED; done", n, url)
			out := run(t, "exec", "-n", ns, "caller", "--", "sh", "-c", script)
			got := map[string]int{}
			for _, line := range strings.Fields(out) {
				got[line]++
			}
			return got
		}

		ip := clusterIP("backend")
		waitUntil(t, "all three backends to answer on the cluster IP", 30*time.Second, func() (bool, string) {
			got := answers("http://"+ip+"/", 30)
			return len(got) == 3 && got["backend-0"] > 0 && got["backend-1"] > 0 && got["backend-2"] > 0, fmt.Sprint(got)
		})

		sticky := answers("http://"+clusterIP("sticky")+"/", 10)
		if len(sticky) != 1 {
			t.Errorf("ClientIP affinity: answers %v, want one backend", sticky)
		}

		// The node port, from the host, on the node's address and on localhost.
		nodePort := run(t, "get", "service", "-n", ns, "backend-np", "-o", "jsonpath={.spec.ports[0].nodePort}")
		nodeIP := run(t, "get", "node", realNodeName, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
		for _, host := range []string{nodeIP, "127.0.0.1"} {
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + host + ":" + nodePort + "/")
			if err != nil {
				t.Errorf("GET the node port on %s: %v", host, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(string(body), "backend-") {
				t.Errorf("the node port on %s answered %q, want a backend's name", host, body)
			}
		}

		// No endpoints: refused at once, not a timeout.
		start := time.Now()
		_, errOut, err := kubectl{}.try(t, "exec", "-n", ns, "caller", "--", "wget", "-q", "-O", "-", "http://"+clusterIP("nobody")+"/")
		if err == nil || time.Since(start) > 10*time.Second {
			t.Errorf("a service without endpoints: err %v after %s, want a refusal at once", err, time.Since(start))
		}
		mustContain(t, errOut, "refused")

		// A backend failing readiness, and one deleted, stop receiving traffic.
		run(t, "exec", "-n", ns, "backend-0", "--", "rm", "/www/index.html")
		run(t, "delete", "pod", "-n", ns, "backend-1", "--grace-period=1")
		waitUntil(t, "only backend-2 to answer", 30*time.Second, func() (bool, string) {
			got := answers("http://"+ip+"/", 10)
			return len(got) == 1 && got["backend-2"] == 10, fmt.Sprint(got)
		})
	})

	// clusterDNS installs charts/dns once, for the stories that need it
	// (each may run alone with -run), and keeps it for the later ones.
	dnsInstalled := false
	clusterDNS := func(t *testing.T) {
		t.Helper()
		requireHelm(t)
		if nodeIP() == "127.0.0.1" {
			t.Skip("SKIP: this machine has only loopback: CoreDNS's pod cannot reach the API")
		}
		if dnsInstalled {
			return
		}
		helm{}.run(t, "install", "dns", "../../charts/dns", "-n", layersNamespace, "--create-namespace", "--set", "workload=Pod", "--set", "replicas=1")
		// Without --wait: the kubelet has stopped by the time this runs
		// (cleanups run last first); the node's teardown removes the
		// container and podgc the pod.
		parent.Cleanup(func() { helm{}.run(parent, "uninstall", "dns", "-n", layersNamespace) })
		dnsInstalled = true
		waitPod(t, layersNamespace, "coredns", "Ready", 90*time.Second, podReady)
	}

	t.Run("cluster DNS answers pods", func(t *testing.T) {
		clusterDNS(t)
		applyManifest(t, ns, `apiVersion: v1
kind: Service
metadata: {name: backend-headless}
spec:
  clusterIP: None
  selector: {app: backend}
  ports: [{name: http, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: alias}
spec:
  type: ExternalName
  externalName: backend.`+ns+`.svc.cluster.local
`)
		clusterIP := run(t, "get", "service", "-n", ns, "backend", "-o", "jsonpath={.spec.clusterIP}")
		backend2 := getPod(t, ns, "backend-2").Status.PodIP
		lookup := func(name string) string {
			var out string
			waitUntil(t, "nslookup "+name, 30*time.Second, func() (bool, string) {
				o, e, err := kubectl{}.try(t, "exec", "-n", ns, "caller", "--", "nslookup", name)
				out = o
				return err == nil, o + e
			})
			return out
		}
		mustContain(t, lookup("backend."+ns+".svc.cluster.local"), clusterIP)
		mustContain(t, lookup("backend-headless."+ns+".svc.cluster.local"), backend2)
		mustContain(t, lookup("alias."+ns+".svc.cluster.local"), "backend."+ns+".svc.cluster.local", clusterIP)
		// The search path of dnsPolicy ClusterFirst: the short name works.
		mustContain(t, run(t, "exec", "-n", ns, "caller", "--", "wget", "-q", "-O", "-", "http://backend/"), "backend-2")
		mustContain(t, run(t, "exec", "-n", ns, "caller", "--", "cat", "/etc/resolv.conf"),
			"nameserver 10.96.0.10", "search "+ns+".svc.cluster.local svc.cluster.local cluster.local")
	})

	t.Run("a Deployment serves HTTP through its Service name, and scales", func(t *testing.T) {
		clusterDNS(t)
		startAppsLayer(t, 0)
		run(t, "create", "deployment", "site", "-n", ns, "--image="+busyboxImage, "--replicas=3", "--",
			"sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www")
		run(t, "expose", "deployment", "site", "-n", ns, "--port=80", "--target-port=8080")
		run(t, "rollout", "status", "deployment/site", "-n", ns, "--timeout=120s")
		answering := func(want int) {
			t.Helper()
			waitUntil(t, fmt.Sprintf("%d replicas to answer on http://site/", want), 60*time.Second, func() (bool, string) {
				script := "for i in $(seq 30); do wget -q -O - http://site/ || echo FAILED; done"
				out, _, _ := kubectl{}.try(t, "exec", "-n", ns, "caller", "--", "sh", "-c", script)
				got := map[string]int{}
				for _, line := range strings.Fields(out) {
					got[line]++
				}
				return len(got) == want && got["FAILED"] == 0, fmt.Sprint(got)
			})
		}
		answering(3)
		run(t, "scale", "deployment/site", "-n", ns, "--replicas=1")
		answering(1)
		run(t, "scale", "deployment/site", "-n", ns, "--replicas=5")
		answering(5)
		run(t, "delete", "deployment", "site", "-n", ns)
	})

	t.Run("getting started: a web tier and a db tier behind a node port", func(t *testing.T) {
		clusterDNS(t)
		startAppsLayer(t, 0)
		walkGettingStarted(t, kubectl{}, nodeIP())
	})

	t.Run("a restarted kubelet leaves running containers alone", func(t *testing.T) {
		before := waitPod(t, ns, "counter", "Running", 10*time.Second, podRunning)
		_ = node.kubelet.cmd.Process.Signal(syscall.SIGKILL)
		<-node.kubelet.exited
		node.kubelet.exited <- nil
		// On the parent test: the kubelet runs on after this story.
		node.startKubelet(parent)
		waitForLog(t, node.kubelet, "Caches are synced", 60*time.Second)
		time.Sleep(3 * time.Second) // a few relists and syncs
		after := waitPod(t, ns, "counter", "Running", 10*time.Second, podRunning)
		b, a := before.Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]
		if a.ContainerID != b.ContainerID || a.RestartCount != b.RestartCount || !a.State.Running.StartedAt.Equal(&b.State.Running.StartedAt) {
			t.Errorf("the container changed across a kubelet restart: before %s (restarts %d, started %s), after %s (restarts %d, started %s)",
				b.ContainerID, b.RestartCount, b.State.Running.StartedAt, a.ContainerID, a.RestartCount, a.State.Running.StartedAt)
		}
		if after.Status.PodIP != before.Status.PodIP {
			t.Errorf("podIP changed across a kubelet restart: %s → %s", before.Status.PodIP, after.Status.PodIP)
		}
	})
}

// podManifest is a v1 Pod named name on the real node, with spec lines
// (indented by two spaces) appended.
func podManifest(name, spec string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  nodeName: %s%s\n", name, realNodeName, spec)
}

var forwardingRE = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)

// portForwardGet runs `kubectl port-forward target :port` and GETs path
// through it.
func portForwardGet(t *testing.T, ns, target string, port int, path string) string {
	t.Helper()
	cmd := kubectl{}.command(contextWithTimeout(t, 60*time.Second), "port-forward", "-n", ns, target, fmt.Sprintf(":%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	local := ""
	for lines.Scan() {
		if m := forwardingRE.FindStringSubmatch(lines.Text()); m != nil {
			local = m[1]
			break
		}
	}
	if local == "" {
		t.Fatalf("kubectl port-forward did not say where it listens")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://127.0.0.1:" + local + path)
	if err != nil {
		t.Fatalf("GET through kubectl port-forward: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}
