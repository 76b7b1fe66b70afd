package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// These stories run inside TestPodsOnARealNode: what a pod's spec asks of
// the kubelet, on a real containerd.

// initContainersAndEnvironmentStory: init containers run in order before
// the app container, which sees every kind of environment variable a pod
// may declare, including the Service variables of its namespace and its
// memory limit, which it does not set (the node's allocatable, as
// upstream).
func initContainersAndEnvironmentStory(t *testing.T, ns string) {
	run(t, "create", "configmap", "-n", ns, "env-settings", "--from-literal=color=blue", "--from-literal=size=L")
	run(t, "create", "secret", "generic", "-n", ns, "env-creds", "--from-literal=password=s3cret")
	run(t, "create", "service", "clusterip", "env-backend", "-n", ns, "--tcp=8080:80")
	applyManifest(t, ns, podManifest("envs", `
  initContainers:
  - name: first
    image: `+busyboxImage+`
    command: ["sh", "-c", "echo first >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: `+busyboxImage+`
    command: ["sh", "-c", "echo second >> /work/order"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "echo app >> /work/order; env > /work/env; exec sleep 3600"]
    resources:
      requests: {cpu: 250m}
    env:
    - {name: LITERAL, value: plain}
    - {name: EXPANDED, value: "$(LITERAL)-expanded"}
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: env-settings, key: color}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: env-creds, key: password}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: NODE_NAME
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    - name: CPU_REQUEST_MILLIS
      valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}
    - name: MEMORY_LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.memory}}
    envFrom:
    - prefix: CFG_
      configMapRef: {name: env-settings}
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    emptyDir: {}`))
	pod := waitPod(t, ns, "envs", "Running", 90*time.Second, podRunning)

	mustContain(t, run(t, "exec", "-n", ns, "envs", "--", "cat", "/work/order"), "first\nsecond\napp\n")
	for _, s := range pod.Status.InitContainerStatuses {
		if term := s.State.Terminated; term == nil || term.Reason != "Completed" || term.ExitCode != 0 {
			t.Errorf("init container %s: state %+v, want terminated, Completed, exit code 0", s.Name, s.State)
		}
	}
	if c := podCondition(pod, corev1.PodInitialized); c.Status != corev1.ConditionTrue {
		t.Errorf("condition Initialized = %+v, want True", c)
	}

	env := map[string]string{}
	for _, line := range strings.Split(run(t, "exec", "-n", ns, "envs", "--", "cat", "/work/env"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	backendIP := run(t, "get", "service", "-n", ns, "env-backend", "-o", "jsonpath={.spec.clusterIP}")
	want := map[string]string{
		"LITERAL":                        "plain",
		"EXPANDED":                       "plain-expanded",
		"COLOR":                          "blue",
		"PASSWORD":                       "s3cret",
		"POD_NAME":                       "envs",
		"POD_IP":                         pod.Status.PodIP,
		"NODE_NAME":                      realNodeName,
		"CPU_REQUEST_MILLIS":             "250",
		"CFG_color":                      "blue",
		"CFG_size":                       "L",
		"ENV_BACKEND_SERVICE_HOST":       backendIP,
		"ENV_BACKEND_SERVICE_PORT":       "8080",
		"ENV_BACKEND_PORT":               "tcp://" + backendIP + ":8080",
		"ENV_BACKEND_PORT_8080_TCP":      "tcp://" + backendIP + ":8080",
		"KUBERNETES_SERVICE_PORT":        "443",
		"KUBERNETES_SERVICE_HOST":        run(t, "get", "service", "-n", "default", "kubernetes", "-o", "jsonpath={.spec.clusterIP}"),
		"ENV_BACKEND_PORT_8080_TCP_PORT": "8080",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("the container's $%s = %q, want %q", k, env[k], v)
		}
	}
	allocatable := resource.MustParse(run(t, "get", "node", realNodeName, "-o", "jsonpath={.status.allocatable.memory}"))
	if got, want := env["MEMORY_LIMIT"], allocatable.String(); got == "" || got == "0" || !quantityEqual(got, allocatable) {
		t.Errorf("$MEMORY_LIMIT of a container without a memory limit = %q, want the node's allocatable memory %s in bytes", got, want)
	}
}

func quantityEqual(bytes string, q resource.Quantity) bool {
	got, err := resource.ParseQuantity(bytes)
	return err == nil && got.Cmp(q) == 0
}

func podCondition(pod *corev1.Pod, kind corev1.PodConditionType) corev1.PodCondition {
	for _, c := range pod.Status.Conditions {
		if c.Type == kind {
			return c
		}
	}
	return corev1.PodCondition{}
}

// configErrorAndImagePullStory: a container whose environment names a
// missing ConfigMap waits in CreateContainerConfigError until the
// ConfigMap exists, then starts; an image that cannot be pulled (from a
// closed port on loopback: no traffic leaves the machine) goes from
// ErrImagePull to ImagePullBackOff.
func configErrorAndImagePullStory(t *testing.T, ns string) {
	applyManifest(t, ns, podManifest("needs-config", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sleep", "3600"]
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: late-settings, key: mode}}`))
	pod := waitPod(t, ns, "needs-config", "waiting in CreateContainerConfigError", 60*time.Second, func(p *corev1.Pod) bool {
		return waitingReason(p) == "CreateContainerConfigError"
	})
	if msg := pod.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, `configmap "late-settings" not found`) {
		t.Errorf("waiting message %q, want it to say the ConfigMap is not found", msg)
	}
	if pod.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s, want Pending", pod.Status.Phase)
	}
	run(t, "create", "configmap", "-n", ns, "late-settings", "--from-literal=mode=late")
	waitPod(t, ns, "needs-config", "Running once the ConfigMap exists", 90*time.Second, podRunning)
	mustContain(t, run(t, "exec", "-n", ns, "needs-config", "--", "sh", "-c", "echo $MODE"), "late")

	applyManifest(t, ns, podManifest("no-image", `
  containers:
  - name: app
    image: 127.0.0.1:1/nothing:1`))
	waitPod(t, ns, "no-image", "waiting in ImagePullBackOff", 90*time.Second, func(p *corev1.Pod) bool {
		return waitingReason(p) == "ImagePullBackOff"
	})
	describe := run(t, "describe", "pod", "-n", ns, "no-image")
	mustContain(t, describe, `Failed to pull image "127.0.0.1:1/nothing:1"`, "Error: ErrImagePull", `Back-off pulling image "127.0.0.1:1/nothing:1"`, "Error: ImagePullBackOff")
	run(t, "delete", "pod", "-n", ns, "no-image", "needs-config", "--wait=false")
}

func waitingReason(p *corev1.Pod) string {
	if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
		return ""
	}
	return p.Status.ContainerStatuses[0].State.Waiting.Reason
}

// probesAndPostStartStory: an exec startup probe holds the other probes
// back, a tcpSocket readiness probe then makes the pod Ready, an exec
// liveness probe restarts the container, whose new start waits for its
// startup probe again; a postStart hook runs in the container.
func probesAndPostStartStory(t *testing.T, ns string) {
	applyManifest(t, ns, podManifest("probed", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["httpd", "-f", "-p", "8080", "-h", "/tmp"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo hooked > /tmp/poststart"]}
    startupProbe:
      exec: {command: ["test", "-f", "/tmp/started"]}
      periodSeconds: 1
      failureThreshold: 300
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
    livenessProbe:
      exec: {command: ["sh", "-c", "test ! -e /tmp/die"]}
      periodSeconds: 1
      failureThreshold: 1`))
	started := func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].Started != nil && *p.Status.ContainerStatuses[0].Started
	}
	notStartedYet := func(what string) {
		t.Helper()
		time.Sleep(3 * time.Second) // a few periods of the probes
		if pod := getPod(t, ns, "probed"); started(pod) || podReady(pod) {
			t.Fatalf("%s: started=%v ready=%v before the startup probe can pass", what, started(pod), podReady(pod))
		}
	}
	waitPod(t, ns, "probed", "Running", 60*time.Second, podRunning)
	notStartedYet("first start")
	mustContain(t, run(t, "exec", "-n", ns, "probed", "--", "cat", "/tmp/poststart"), "hooked")

	run(t, "exec", "-n", ns, "probed", "--", "touch", "/tmp/started")
	pod := waitPod(t, ns, "probed", "started and Ready", 30*time.Second, func(p *corev1.Pod) bool { return started(p) && podReady(p) })
	firstID := pod.Status.ContainerStatuses[0].ContainerID

	run(t, "exec", "-n", ns, "probed", "--", "touch", "/tmp/die")
	pod = waitPod(t, ns, "probed", "restarted by its exec liveness probe", 60*time.Second, func(p *corev1.Pod) bool {
		return p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	if id := pod.Status.ContainerStatuses[0].ContainerID; id == firstID {
		t.Errorf("container ID %s unchanged after the liveness restart", id)
	}
	mustContain(t, run(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=probed"),
		"Container app failed liveness probe, will be restarted")
	// The new container has a fresh /tmp: its startup probe fails again.
	notStartedYet("after the restart")
	run(t, "exec", "-n", ns, "probed", "--", "touch", "/tmp/started")
	waitPod(t, ns, "probed", "started and Ready again", 30*time.Second, func(p *corev1.Pod) bool { return started(p) && podReady(p) })
	run(t, "delete", "pod", "-n", ns, "probed", "--wait=false")
}

// persistentVolumeStory: a claim binds to a hostPath PersistentVolume (the
// nucleus' binder), and what one pod writes to it the next pod reads.
func persistentVolumeStory(t *testing.T, node *realNode, ns string) {
	hostDir := filepath.Join(node.dir, "pv-data")
	pv := "e2e-" + ns + "-data"
	applyManifest(t, "", `apiVersion: v1
kind: PersistentVolume
metadata:
  name: `+pv+`
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: `+hostDir+`, type: DirectoryOrCreate}
`)
	t.Cleanup(func() { run(t, "delete", "pv", pv, "--wait=false") })
	applyManifest(t, ns, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 100Mi}}
  storageClassName: ""
  volumeName: `+pv+`
`)
	waitUntil(t, "the claim to bind", 30*time.Second, func() (bool, string) {
		out := run(t, "get", "pvc", "-n", ns, "data", "-o", "jsonpath={.status.phase} {.spec.volumeName}")
		return out == "Bound "+pv, out
	})
	mustContain(t, run(t, "get", "pv", pv, "-o", "jsonpath={.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}"), "Bound "+ns+"/data")

	pod := func(name, command string) string {
		return podManifest(name, `
  restartPolicy: Never
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "`+command+`"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}`)
	}
	succeeded := func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded }
	applyManifest(t, ns, pod("writer", "echo kept across pods > /data/note"))
	waitPod(t, ns, "writer", "Succeeded", 60*time.Second, succeeded)
	run(t, "delete", "pod", "-n", ns, "writer", "--wait=true")
	applyManifest(t, ns, pod("reader-of-claim", "cat /data/note"))
	waitPod(t, ns, "reader-of-claim", "Succeeded", 60*time.Second, succeeded)
	mustContain(t, run(t, "logs", "-n", ns, "reader-of-claim"), "kept across pods")
	if b, err := os.ReadFile(filepath.Join(hostDir, "note")); err != nil || string(b) != "kept across pods\n" {
		t.Errorf("the PV's host directory holds %q (%v)", b, err)
	}
	run(t, "delete", "pod", "-n", ns, "reader-of-claim", "--wait=false")
}

// debugStory: `kubectl debug --target` adds an ephemeral container to a
// running pod, which sees the target container's processes, can be
// exec'd into and logged, and leaves the pod and its app container alone.
func debugStory(t *testing.T, node *realNode, ns string) {
	applyManifest(t, ns, podManifest("debuggee", `
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "exec sleep 3601"]`))
	before := waitPod(t, ns, "debuggee", "Running", 60*time.Second, podRunning)
	run(t, "debug", "-n", ns, "debuggee", "--image="+busyboxImage, "--target=app", "--container=debugger", "--", "sh", "-c", "ps; exec sleep 3600")
	pod := waitPod(t, ns, "debuggee", "its ephemeral container running", 60*time.Second, func(p *corev1.Pod) bool {
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name == "debugger" {
				return s.State.Running != nil
			}
		}
		return false
	})
	waitUntil(t, "the debugger's log to list the target's process", 30*time.Second, func() (bool, string) {
		out, _, _ := kubectl{}.try(t, "logs", "-n", ns, "debuggee", "-c", "debugger")
		return strings.Contains(out, "sleep 3601"), out
	})
	mustContain(t, run(t, "exec", "-n", ns, "debuggee", "-c", "debugger", "--", "sh", "-c", "echo $((6*7)); ps"), "42", "sleep 3601")
	if podCondition(pod, corev1.PodReady).Status != corev1.ConditionTrue {
		t.Errorf("the pod is not Ready with an ephemeral container: %+v", pod.Status.Conditions)
	}
	app := pod.Status.ContainerStatuses[0]
	if app.RestartCount != 0 || app.ContainerID != before.Status.ContainerStatuses[0].ContainerID {
		t.Errorf("the app container changed: %s restarts=%d, was %s", app.ContainerID, app.RestartCount, before.Status.ContainerStatuses[0].ContainerID)
	}
	mustContain(t, run(t, "describe", "pod", "-n", ns, "debuggee"), "Ephemeral Containers:", "debugger:")

	// kubectl debug -i attaches to the new container's stdin; when the
	// shell exits the container stays terminated: never restarted.
	shell := startStream(t, "debug", "-i", "-n", ns, "debuggee", "--image="+busyboxImage, "--container=shell", "--", "sh")
	shell.send("echo from the debug shell $((6*7))\n")
	shell.until(regexp.MustCompile(`^from the debug shell 42$`), 60*time.Second)
	shell.send("exit 7\n")
	waitPod(t, ns, "debuggee", "the debug shell to be terminated", 60*time.Second, func(p *corev1.Pod) bool {
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name == "shell" {
				return s.State.Terminated != nil && s.State.Terminated.ExitCode == 7
			}
		}
		return false
	})
	time.Sleep(3 * time.Second) // a restart would show within a sync or two
	for _, s := range getPod(t, ns, "debuggee").Status.EphemeralContainerStatuses {
		if s.Name == "shell" && (s.State.Terminated == nil || s.RestartCount != 0) {
			t.Errorf("the exited debug shell was restarted: %+v", s)
		}
	}
	if n := node.containers(t, ns, "debuggee", "shell"); n != 1 {
		t.Errorf("containerd has %d containers of the debug shell, want 1", n)
	}
	run(t, "delete", "pod", "-n", ns, "debuggee", "--wait=false")
}
