/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

// The kubelet API on a real node: the stories of TestPodsOnARealNode that
// go through the nucleus' pods/attach, pods/log, pods/exec and nodes/proxy
// to `strata kubelet` and containerd's streaming server, and static pods.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/strata-dev/strata/kubelet/stats"
)

// stream is a kubectl command that keeps running (attach, logs -f): its
// standard output line by line, its standard input open until closed.
type stream struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *strings.Builder
	done   chan error
}

// startStream starts kubectl args; the test's end kills it.
func startStream(t *testing.T, args ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	s := &stream{t: t, cmd: kubectl{}.command(ctx, args...), lines: make(chan string, 1000), stderr: &strings.Builder{}, done: make(chan error, 1)}
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.stderr
	t.Logf("$ kubectl %s  (streaming)", strings.Join(args, " "))
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
		s.done <- nil
	})
	return s
}

// next is the next line of output; ok is false once kubectl closed its
// output. No line within timeout fails the test.
func (s *stream) next(timeout time.Duration) (line string, ok bool) {
	s.t.Helper()
	select {
	case line, ok = <-s.lines:
		return line, ok
	case <-time.After(timeout):
		s.t.Fatalf("kubectl %s printed no line within %s; stderr: %s", strings.Join(s.cmd.Args[1:], " "), timeout, s.stderr)
		return "", false
	}
}

// until reads lines until one matches re, failing after timeout.
func (s *stream) until(re *regexp.Regexp, timeout time.Duration) []string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var seen []string
	for {
		left := time.Until(deadline)
		if left <= 0 {
			s.t.Fatalf("kubectl %s printed no line matching %q within %s; it printed %q; stderr: %s",
				strings.Join(s.cmd.Args[1:], " "), re, timeout, seen, s.stderr)
		}
		line, ok := s.next(left)
		if !ok {
			s.t.Fatalf("kubectl %s ended before printing a line matching %q; it printed %q; stderr: %s",
				strings.Join(s.cmd.Args[1:], " "), re, seen, s.stderr)
		}
		seen = append(seen, line)
		if re.MatchString(line) {
			return seen
		}
	}
}

func (s *stream) send(text string) {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, text); err != nil {
		s.t.Fatalf("writing to kubectl's stdin: %v", err)
	}
}

// wait waits for kubectl to exit by itself.
func (s *stream) wait(timeout time.Duration) error {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(timeout):
		s.t.Fatalf("kubectl %s did not exit within %s; stderr: %s", strings.Join(s.cmd.Args[1:], " "), timeout, s.stderr)
		return nil
	}
}

// storyAttach: `kubectl attach -i` feeds a container's stdin and shows
// what it answers, session after session; `kubectl attach` shows a
// running container's new output.
func storyAttach(t *testing.T, _ *realNode, ns string) {
	applyManifest(t, ns, podManifest("echoer", `
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: `+busyboxImage+`
    stdin: true
    command: ["sh", "-c", "while read line; do echo \"got: $line\" | tr a-z A-Z; done; echo stdin closed"]`))
	applyManifest(t, ns, podManifest("ticker", `
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]`))
	waitPod(t, ns, "echoer", "Running", 60*time.Second, podRunning)

	a := startStream(t, "attach", "-i", "-n", ns, "echoer")
	a.send("hello strata\n")
	a.until(regexp.MustCompile(`^GOT: HELLO STRATA$`), 30*time.Second)
	a.send("and again\n")
	a.until(regexp.MustCompile(`^GOT: AND AGAIN$`), 10*time.Second)
	// Ending a session leaves the container's stdin open (stdinOnce is
	// false): a second session talks to the same shell.
	_ = a.stdin.Close()
	_ = a.cmd.Process.Kill()
	b := startStream(t, "attach", "-i", "-n", ns, "echoer")
	b.send("second session\n")
	b.until(regexp.MustCompile(`^GOT: SECOND SESSION$`), 30*time.Second)
	_ = b.cmd.Process.Kill()
	pod := getPod(t, ns, "echoer")
	if st := pod.Status.ContainerStatuses[0]; st.State.Running == nil || st.RestartCount != 0 {
		t.Errorf("after two attach sessions the container is %+v (restarts %d), want the same one running", st.State, st.RestartCount)
	}
	mustContain(t, run(t, "logs", "-n", ns, "echoer"), "GOT: HELLO STRATA\nGOT: AND AGAIN\nGOT: SECOND SESSION\n")

	// Without -i: the output from now on.
	waitPod(t, ns, "ticker", "Running", 60*time.Second, podRunning)
	tickRE := regexp.MustCompile(`^tick (\d+)$`)
	var last int
	waitUntil(t, "the ticker to tick thrice", 30*time.Second, func() (bool, string) {
		out, _, _ := kubectl{}.try(t, "logs", "-n", ns, "ticker", "--tail=1")
		m := tickRE.FindStringSubmatch(strings.TrimSpace(out))
		if m == nil {
			return false, out
		}
		last, _ = strconv.Atoi(m[1])
		return last >= 2, out
	})
	c := startStream(t, "attach", "-n", ns, "ticker")
	for range 2 {
		lines := c.until(tickRE, 20*time.Second)
		n, _ := strconv.Atoi(tickRE.FindStringSubmatch(lines[len(lines)-1])[1])
		if n <= last {
			t.Errorf("kubectl attach printed %q, not newer than tick %d (logged before it attached, or printed before): attach shows new output only", lines[len(lines)-1], last)
		}
		last = n
	}
	_ = c.cmd.Process.Kill()
	run(t, "delete", "pod", "-n", ns, "echoer", "ticker", "--wait=false")
}

// storyLogsFollow: `kubectl logs -f` prints lines as the container writes
// them and exits once the container does.
func storyLogsFollow(t *testing.T, _ *realNode, ns string) {
	applyManifest(t, ns, podManifest("countdown", `
  restartPolicy: Never
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "sleep 5; for i in $(seq 1 12); do echo line $i; sleep 1; done"]`))
	waitPod(t, ns, "countdown", "Running", 60*time.Second, podRunning)
	f := startStream(t, "logs", "-f", "-n", ns, "countdown")
	var got []string
	var times []time.Time
	for {
		line, ok := f.next(30 * time.Second)
		if !ok {
			break
		}
		got = append(got, line)
		times = append(times, time.Now())
	}
	if err := f.wait(10 * time.Second); err != nil {
		t.Errorf("kubectl logs -f ended with %v; stderr: %s", err, f.stderr)
	}
	var want []string
	for i := 1; i <= 12; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("kubectl logs -f printed %q, want %q", got, want)
	}
	// Written a second apart over 11s, printed as written: not all at the
	// end (kubectl may start late on a busy machine, hence the margin).
	if spread := times[len(times)-1].Sub(times[0]); spread < 4*time.Second {
		t.Errorf("kubectl logs -f printed the 12 lines within %s: they were not followed as written", spread)
	}
	waitPod(t, ns, "countdown", "Succeeded", 30*time.Second, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	// Following a finished container prints its log and ends.
	if out := run(t, "logs", "-f", "-n", ns, "countdown"); out != strings.Join(want, "\n")+"\n" {
		t.Errorf("kubectl logs -f of a finished container printed %q", out)
	}

	// Cancelled by the user: a follow of a container that runs on.
	applyManifest(t, ns, podManifest("chatter", `
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "i=0; while true; do echo chat $i; i=$((i+1)); sleep 1; done"]`))
	waitPod(t, ns, "chatter", "Running", 60*time.Second, podRunning)
	c := startStream(t, "logs", "-f", "-n", ns, "chatter")
	c.until(regexp.MustCompile(`^chat 2$`), 30*time.Second)
	_ = c.cmd.Process.Signal(os.Interrupt)
	_ = c.wait(10 * time.Second)
	run(t, "delete", "pod", "-n", ns, "countdown", "chatter", "--wait=false")
}

// storyExecTTY: `kubectl exec -it` in a real terminal (util-linux script
// gives kubectl a pty): the container's side is a tty of the terminal's
// size, and the exit code comes back.
func storyExecTTY(t *testing.T, _ *realNode, ns string) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("SKIP: no `script` (util-linux) to give kubectl a terminal: apt-get install bsdutils")
	}
	applyManifest(t, ns, podManifest("shell", `
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]`))
	waitPod(t, ns, "shell", "Running", 60*time.Second, podRunning)

	// The remote command waits a moment for kubectl's first resize before
	// asking for the terminal's size.
	remote := `tty; sleep 1; stty size; test -t 0 && echo stdin is a terminal; exit 4`
	out, code := inTerminal(t, script, fmt.Sprintf(`exec %s exec -it -n %s shell -- sh -c "%s"`, kubectlBin, ns, remote), "")
	if code != 4 {
		t.Errorf("kubectl exec -it of `exit 4` exited %d, want 4; output:\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^/dev/pts/\d+$`).MatchString(out) {
		t.Errorf("`tty` in kubectl exec -it printed no /dev/pts/N; output:\n%s", out)
	}
	mustContain(t, out, "30 100\n", "stdin is a terminal\n")

	// kubectl run -it: a shell of a new pod through attach, in the
	// terminal; the pod's exit code is kubectl's, and --rm deletes it.
	out, code = inTerminal(t, script, fmt.Sprintf(`exec %s run it-shell -n %s -it --rm --restart=Never --image=%s --overrides='{"spec":{"nodeName":"%s"}}' -- sh`,
		kubectlBin, ns, busyboxImage, realNodeName), "echo $((6*7)) answered; tty; exit 5\n")
	if code != 5 {
		t.Errorf("kubectl run -it of a shell that exits 5 exited %d; output:\n%s", code, out)
	}
	mustContain(t, out, "42 answered\n")
	if !regexp.MustCompile(`(?m)^/dev/pts/\d+$`).MatchString(out) {
		t.Errorf("`tty` in kubectl run -it printed no /dev/pts/N; output:\n%s", out)
	}
	waitUntil(t, "kubectl run --rm to delete its pod", 30*time.Second, func() (bool, string) {
		out, _, err := kubectl{}.try(t, "get", "pod", "-n", ns, "it-shell", "--ignore-not-found", "-o", "name")
		return err == nil && out == "", out
	})

	// Without a terminal kubectl exec -t refuses the tty and runs the
	// command on pipes.
	out, errOut, _ := kubectl{}.try(t, "exec", "-it", "-n", ns, "shell", "--", "sh", "-c", "test -t 0 || echo no terminal")
	mustContain(t, out, "no terminal")
	mustContain(t, errOut, "Unable to use a TTY")
	run(t, "delete", "pod", "-n", ns, "shell", "--wait=false")
}

// inTerminal runs a shell command line in a 30x100 terminal of util-linux
// script and types input into it; it returns what the terminal showed
// (with \n line ends) and the exit code.
func inTerminal(t *testing.T, script, line, input string) (string, int) {
	t.Helper()
	line = "stty rows 30 cols 100; " + line
	ctx := contextWithTimeout(t, 90*time.Second)
	cmd := exec.CommandContext(ctx, script, "-qec", line, "/dev/null")
	cmd.Env = append(kubectl{}.environ(), "SHELL=/bin/sh", "TERM=xterm")
	// The input, then an open, silent stdin: script forwards the end of
	// its input to the terminal, which would end kubectl's stdin early.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var output strings.Builder
	cmd.Stdout, cmd.Stderr = &output, &output
	t.Logf("$ script -qec %q /dev/null", line)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(stdin, input); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	return strings.ReplaceAll(output.String(), "\r\n", "\n"), exitCode(err)
}

// storyCopy: kubectl cp into a container and back (tar through exec,
// stdin closed at its end).
func storyCopy(t *testing.T, _ *realNode, ns string) {
	applyManifest(t, ns, podManifest("files", `
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]`))
	waitPod(t, ns, "files", "Running", 60*time.Second, podRunning)
	dir := t.TempDir()
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	if err := os.WriteFile(filepath.Join(dir, "blob"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", filepath.Join(dir, "blob"), ns+"/files:/tmp/blob")
	mustContain(t, run(t, "exec", "-n", ns, "files", "--", "wc", "-c", "/tmp/blob"), fmt.Sprint(len(data)))
	run(t, "cp", ns+"/files:/tmp/blob", filepath.Join(dir, "back"))
	back, err := os.ReadFile(filepath.Join(dir, "back"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, data) {
		t.Errorf("kubectl cp there and back: %d bytes differ from the %d sent", len(back), len(data))
	}
	// exec -i: stdin's end reaches the command.
	if out := (kubectl{stdin: "one\ntwo\nthree\n"}).run(t, "exec", "-i", "-n", ns, "files", "--", "wc", "-l"); strings.TrimSpace(out) != "3" {
		t.Errorf("kubectl exec -i wc -l of three lines printed %q", out)
	}
	run(t, "delete", "pod", "-n", ns, "files", "--wait=false")
}

// storyStatsSummary: the kubelet's /stats/summary, /healthz and /pods
// through the nucleus' nodes/proxy, with real CPU and memory figures.
func storyStatsSummary(t *testing.T, _ *realNode, ns string) {
	applyManifest(t, ns, podManifest("busy", `
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "while true; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 0.5; done"]`))
	pod := waitPod(t, ns, "busy", "Running", 60*time.Second, podRunning)
	proxy := "/api/v1/nodes/" + realNodeName + "/proxy"

	if out := run(t, "get", "--raw", proxy+"/healthz"); out != "ok" {
		t.Errorf("nodes/proxy/healthz answered %q, want ok", out)
	}
	var list corev1.PodList
	if err := json.Unmarshal([]byte(run(t, "get", "--raw", proxy+"/pods")), &list); err != nil {
		t.Fatalf("nodes/proxy/pods: %v", err)
	}
	found := false
	for _, p := range list.Items {
		if p.Namespace == ns && p.Name == "busy" && p.UID == pod.UID {
			found = p.Status.Phase == corev1.PodRunning
		}
	}
	if !found {
		t.Errorf("nodes/proxy/pods lists no running pod %s/busy", ns)
	}

	// CPU rates need two samples: poll until they show.
	var summary stats.Summary
	var podStats *stats.PodStats
	waitUntil(t, "the summary to report the busy pod's CPU and memory", 60*time.Second, func() (bool, string) {
		out, errOut, err := kubectl{}.try(t, "get", "--raw", proxy+"/stats/summary")
		if err != nil {
			return false, errOut
		}
		summary = stats.Summary{}
		if err := json.Unmarshal([]byte(out), &summary); err != nil {
			return false, err.Error()
		}
		podStats = nil
		for i := range summary.Pods {
			if p := &summary.Pods[i]; p.PodRef.Namespace == ns && p.PodRef.Name == "busy" {
				podStats = p
			}
		}
		if podStats == nil || len(podStats.Containers) != 1 {
			return false, out
		}
		c := podStats.Containers[0]
		return c.CPU != nil && positive(c.CPU.UsageNanoCores) && positive(c.CPU.UsageCoreNanoSeconds) &&
			c.Memory != nil && positive(c.Memory.WorkingSetBytes) &&
			podStats.CPU != nil && positive(podStats.CPU.UsageNanoCores) &&
			summary.Node.CPU != nil && positive(summary.Node.CPU.UsageNanoCores), out
	})
	if podStats.PodRef.UID != string(pod.UID) || podStats.Containers[0].Name != "app" {
		t.Errorf("summary pod %+v, container %q; want uid %s, container app", podStats.PodRef, podStats.Containers[0].Name, pod.UID)
	}
	if podStats.Memory == nil || !positive(podStats.Memory.WorkingSetBytes) {
		t.Errorf("the busy pod's memory %+v has no working set", podStats.Memory)
	}

	// The node's own figures, from the host.
	n := summary.Node
	t.Logf("node stats: %s", jsonString(n))
	if n.NodeName != realNodeName {
		t.Errorf("summary node name %q, want %s", n.NodeName, realNodeName)
	}
	if n.StartTime.IsZero() || n.StartTime.After(time.Now()) {
		t.Errorf("node start time %s, want the boot time", n.StartTime)
	}
	if !positive(n.CPU.UsageCoreNanoSeconds) {
		t.Errorf("node cpu %s, want a cumulative usage", jsonString(n.CPU))
	}
	if m := n.Memory; m == nil || !positive(m.WorkingSetBytes) || !positive(m.AvailableBytes) || !positive(m.UsageBytes) ||
		*m.WorkingSetBytes > *m.UsageBytes {
		t.Errorf("node memory %s, want working set ≤ usage, and available bytes", jsonString(m))
	}
	if fs := n.Fs; fs == nil || !positive(fs.CapacityBytes) || !positive(fs.AvailableBytes) || !positive(fs.UsedBytes) {
		t.Errorf("node fs %s, want capacity, available and used bytes", jsonString(fs))
	}
	if n.Runtime == nil || n.Runtime.ImageFs == nil || !positive(n.Runtime.ImageFs.UsedBytes) {
		t.Errorf("node runtime %s, want the image filesystem with the bytes the images use", jsonString(n.Runtime))
	}
	run(t, "delete", "pod", "-n", ns, "busy", "--wait=false")
}

func positive(v *uint64) bool { return v != nil && *v > 0 }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// storyStaticPods: a manifest in the kubelet's --pod-manifest-path runs as
// a static pod with a mirror pod in the API; deleting the mirror pod does
// not restart it, removing the manifest stops it.
func storyStaticPods(t *testing.T, node *realNode, ns string) {
	manifest := filepath.Join(node.manifestDir(), "static-web.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: `+ns+`
  labels: {tier: static}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: `+busyboxImage+`
    command: ["sh", "-c", "mkdir -p /www && echo static > /www/index.html && echo static pod up && exec httpd -f -p 8081 -h /www"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(manifest) })
	mirror := "static-web-" + realNodeName
	// The manifest directory is read every 20s.
	first := waitPod(t, ns, mirror, "Running", 90*time.Second, podRunning)
	if first.Annotations[corev1.MirrorPodAnnotationKey] == "" {
		t.Errorf("mirror pod annotations %v, want %s", first.Annotations, corev1.MirrorPodAnnotationKey)
	}
	owner := metav1.GetControllerOf(first)
	if owner == nil || owner.Kind != "Node" || owner.Name != realNodeName || owner.APIVersion != "v1" {
		t.Errorf("mirror pod owner references %+v, want the Node %s as controller", first.OwnerReferences, realNodeName)
	}
	mustContain(t, run(t, "logs", "-n", ns, mirror), "static pod up")
	// The kubelet API finds the static pod by its mirror pod.
	mustContain(t, run(t, "exec", "-n", ns, mirror, "--", "hostname"), "static-web")
	if body := portForwardGet(t, ns, "pod/"+mirror, 8081, "/"); body != "static\n" {
		t.Errorf("GET / through kubectl port-forward to the mirror pod = %q, want %q", body, "static\n")
	}
	if n := node.containersOf(t, ns, mirror, true); n != 1 {
		t.Errorf("containerd runs %d containers of the static pod, want 1", n)
	}
	before := first.Status.ContainerStatuses[0]

	// kubectl delete: a new mirror pod of the same running containers.
	run(t, "delete", "pod", "-n", ns, mirror)
	again := waitPod(t, ns, mirror, "back, Running", 60*time.Second, func(p *corev1.Pod) bool {
		return p.UID != first.UID && podRunning(p) && len(p.Status.ContainerStatuses) == 1
	})
	after := again.Status.ContainerStatuses[0]
	if after.ContainerID != before.ContainerID || after.RestartCount != before.RestartCount {
		t.Errorf("deleting the mirror pod restarted the static pod: container %s (restarts %d) → %s (restarts %d)",
			before.ContainerID, before.RestartCount, after.ContainerID, after.RestartCount)
	}

	// The manifest goes: the pod and its container go.
	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the mirror pod to leave the API", 90*time.Second, func() (bool, string) {
		out, errOut, err := kubectl{}.try(t, "get", "pod", "-n", ns, mirror, "--ignore-not-found", "-o", "name")
		return err == nil && out == "", out + errOut
	})
	waitUntil(t, "containerd to run no container of the static pod", 60*time.Second, func() (bool, string) {
		n := node.containersOf(t, ns, mirror, true)
		return n == 0, fmt.Sprintf("%d running", n)
	})
}

// requireNoRunningContainers fails unless containerd runs no container of
// pod ns/name, and its sandbox is not ready: a pod deleted from the API
// left nothing running.
func (n *realNode) requireNoRunningContainers(t *testing.T, ns, name string) {
	t.Helper()
	if running := n.containersOf(t, ns, name, true); running != 0 {
		t.Errorf("pod %s/%s left the API while containerd still runs %d of its containers", ns, name, running)
	}
	ctx, rt := n.criRuntime(t)
	defer rt.Close(ctx)
	sandboxes, err := rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{
		State:         &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
		LabelSelector: map[string]string{"io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.name": name},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sandboxes) != 0 {
		t.Errorf("pod %s/%s left the API while its sandbox is still ready", ns, name)
	}
	// Then the kubelet removes them for good.
	waitUntil(t, "the pod's containers to be removed", 60*time.Second, func() (bool, string) {
		all := n.containersOf(t, ns, name, false)
		return all == 0, fmt.Sprintf("%d containers", all)
	})
}
