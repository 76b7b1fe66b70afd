/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// process is a strata subcommand run for one test, logging to the
// artifacts directory.
type process struct {
	name   string
	cmd    *exec.Cmd
	exited chan error
	log    string
	// logStart is where this run's output starts in log (earlier runs
	// of the same name are appended to).
	logStart int64
}

func startProcess(t *testing.T, name string, args ...string) *process {
	t.Helper()
	logPath, _ := filepath.Abs(filepath.Join(artifactsDir, name+".log"))
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, cmd: exec.Command(strataBin, args...), exited: make(chan error, 1), log: logPath}
	if st, err := logFile.Stat(); err == nil {
		p.logStart = st.Size()
	}
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	t.Logf("$ strata %s  (log: %s)", strings.Join(args, " "), logPath)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait(); logFile.Close() }()
	t.Cleanup(p.stop)
	return p
}

// stop ends the process with SIGTERM, as a pod's deletion would.
func (p *process) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitHealthy polls url until it answers 200, failing if the process exits.
func (p *process) waitHealthy(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // local probe
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-p.exited:
			t.Fatalf("strata %s exited: %v; log %s", p.name, err, p.log)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy at %s; log %s", p.name, url, p.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// appsLayer runs the apps layer outside the cluster, as `make run` does:
// its CRDs applied with kubectl, `strata manager --layers apps` with its
// webhooks on loopback, and simulatedNodes `strata kubelet --simulate`
// nodes (apps-0, apps-1 …). At the end
// the manager is stopped and its webhook configurations removed, as
// uninstalling the layer would.
func startAppsLayer(t *testing.T, simulatedNodes int) (manager *process, start func() *process) {
	t.Helper()
	// --force-conflicts: an earlier test may have left the CRDs managed by
	// helm (the apps chart keeps them on uninstall, possibly upgraded to
	// another schema); this test wants them exactly as config/crd/bases.
	mustContain(t, run(t, "apply", "--server-side", "--force-conflicts", "-f", "../../config/crd/bases/"),
		"customresourcedefinition.apiextensions.k8s.io/deployments.apps serverside-applied",
		"customresourcedefinition.apiextensions.k8s.io/replicasets.apps serverside-applied")
	waitEstablished(t, "deployments.apps")
	waitEstablished(t, "replicasets.apps")

	// Cleanups run last first: the nodes go once their kubelet stopped, so
	// that later tests see a cluster without nodes again.
	if simulatedNodes > 0 {
		nodes := []string{"delete", "nodes", "--ignore-not-found"}
		for i := range simulatedNodes {
			nodes = append(nodes, fmt.Sprintf("apps-%d", i))
		}
		t.Cleanup(func() { run(t, nodes...) })
		startProcess(t, "apps-kubelet", "kubelet", "--simulate", fmt.Sprint(simulatedNodes), "--name-prefix", "apps-", "--kubeconfig", cluster.kubeconfig())
	}
	webhookPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	probePort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	certDir := t.TempDir()
	start = func() *process {
		p := startProcess(t, "apps-manager", "manager", "--layers", "apps", "--kubeconfig", cluster.kubeconfig(),
			"--webhook-host", "127.0.0.1", "--webhook-port", fmt.Sprint(webhookPort),
			"--webhook-url", fmt.Sprintf("https://127.0.0.1:%d", webhookPort), "--cert-dir", certDir,
			"--metrics-bind-address", "0", "--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", probePort),
			"--leader-elect")
		p.waitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort))
		return p
	}
	t.Cleanup(func() {
		run(t, "delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", "strata-apps", "--ignore-not-found")
	})
	return start(), start
}

// TestAppsLayerWithKubectl drives the apps layer with the real kubectl and
// the nginx-deployment example of the Kubernetes documentation.
func TestAppsLayerWithKubectl(t *testing.T) {
	manager, startManager := startAppsLayer(t, 3)
	ns := createNamespace(t, "e2e-apps")
	k := func(args ...string) string { t.Helper(); return run(t, append([]string{"-n", ns}, args...)...) }
	rolloutStatus := func() {
		t.Helper()
		mustContain(t, k("rollout", "status", "deployment/nginx-deployment", "--timeout=90s"),
			`deployment "nginx-deployment" successfully rolled out`)
	}

	mustContain(t, k("apply", "-f", "testdata/deployment.yaml"), "deployment.apps/nginx-deployment created")
	rolloutStatus()
	out := k("get", "deploy,rs,pods")
	mustContain(t, out, "deployment.apps/nginx-deployment", "replicaset.apps/nginx-deployment-", "pod/nginx-deployment-")
	if row := rowOf(t, k("get", "deploy"), "nginx-deployment"); len(row) < 4 || row[1] != "3" || row[2] != "3" || row[3] != "3" {
		t.Errorf("kubectl get deploy row = %v, want READY/UP-TO-DATE/AVAILABLE 3 3 3", row)
	}
	if got := jsonpath(t, "{range .items[*]}{.status.phase} {end}", "get", "pods", "-n", ns, "-l", "app=nginx"); got != "Running Running Running " {
		t.Errorf("pod phases = %q, want three Running", got)
	}

	t.Run("set image and history", func(t *testing.T) {
		mustContain(t, k("set", "image", "deployment/nginx-deployment", "nginx=nginx:1.16.1"), "deployment.apps/nginx-deployment image updated")
		rolloutStatus()
		out := k("rollout", "history", "deployment/nginx-deployment")
		mustContain(t, out, "REVISION", "1 ", "2 ")
		if got := jsonpath(t, "{.spec.template.spec.containers[0].image}", "get", "-n", ns, "deployment/nginx-deployment"); got != "nginx:1.16.1" {
			t.Errorf("image = %q", got)
		}
		mustContain(t, k("rollout", "history", "deployment/nginx-deployment", "--revision=2"), "nginx:1.16.1")
	})

	t.Run("undo", func(t *testing.T) {
		mustContain(t, k("rollout", "undo", "deployment/nginx-deployment"), "deployment.apps/nginx-deployment rolled back")
		rolloutStatus()
		if got := jsonpath(t, "{.spec.template.spec.containers[0].image}", "get", "-n", ns, "deployment/nginx-deployment"); got != "nginx:1.14.2" {
			t.Errorf("image after undo = %q, want nginx:1.14.2", got)
		}
		out := k("rollout", "history", "deployment/nginx-deployment")
		mustContain(t, out, "2 ", "3 ")
		if strings.Contains(out, "\n1 ") {
			t.Errorf("revision 1 is still listed after it became revision 3:\n%s", out)
		}
	})

	t.Run("scale", func(t *testing.T) {
		mustContain(t, k("scale", "deployment/nginx-deployment", "--replicas=5"), "deployment.apps/nginx-deployment scaled")
		rolloutStatus()
		if got := jsonpath(t, "{.status.availableReplicas}", "get", "-n", ns, "deployment/nginx-deployment"); got != "5" {
			t.Errorf("availableReplicas = %q, want 5", got)
		}
	})

	t.Run("pause, resume, restart", func(t *testing.T) {
		mustContain(t, k("rollout", "pause", "deployment/nginx-deployment"), "deployment.apps/nginx-deployment paused")
		k("set", "image", "deployment/nginx-deployment", "nginx=nginx:1.27")
		time.Sleep(2 * time.Second)
		if got := jsonpath(t, "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}", "get", "-n", ns, "deployment/nginx-deployment"); got != "3" {
			t.Errorf("paused deployment rolled out: revision %q, want 3", got)
		}
		mustContain(t, k("rollout", "resume", "deployment/nginx-deployment"), "deployment.apps/nginx-deployment resumed")
		rolloutStatus()
		mustContain(t, k("rollout", "restart", "deployment/nginx-deployment"), "deployment.apps/nginx-deployment restarted")
		rolloutStatus()
		if got := jsonpath(t, "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}", "get", "-n", ns, "deployment/nginx-deployment"); got != "5" {
			t.Errorf("revision after resume and restart = %q, want 5", got)
		}
	})

	t.Run("describe", func(t *testing.T) {
		out := k("describe", "deployment", "nginx-deployment")
		mustContain(t, out, "Replicas:               5 desired | 5 updated | 5 total | 5 available | 0 unavailable",
			"StrategyType:           RollingUpdate", "RollingUpdateStrategy:  25% max unavailable, 25% max surge",
			"Available      True    MinimumReplicasAvailable", "Progressing    True    NewReplicaSetAvailable",
			"NewReplicaSet:", "ScalingReplicaSet", "Scaled up replica set nginx-deployment-")
	})

	t.Run("bad input", func(t *testing.T) {
		bad := writeFile(t, "mismatch.yaml", strings.ReplaceAll(mustRead(t, "testdata/deployment.yaml"), "      labels:\n        app: nginx", "      labels:\n        app: other"))
		mustContain(t, kubectl{}.runFails(t, "-n", ns, "create", "-f", bad),
			`The Deployment "nginx-deployment" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `+"`selector` does not match template `labels`")
		mustContain(t, kubectl{}.runFails(t, "-n", ns, "create", "deployment", "negative", "--image=nginx", "--replicas=-1"),
			"spec.replicas: Invalid value: -1: must be greater than or equal to 0")
		changed := writeFile(t, "selector.yaml", strings.ReplaceAll(mustRead(t, "testdata/deployment.yaml"), "app: nginx", "app: nginx2"))
		mustContain(t, kubectl{}.runFails(t, "-n", ns, "apply", "-f", changed), "spec.selector", "field is immutable")
	})

	t.Run("webhook down", func(t *testing.T) {
		manager.stop()
		errOut := kubectl{}.runFails(t, "-n", ns, "create", "deployment", "while-down", "--image=nginx")
		mustContain(t, errOut, `failed calling webhook "mdeployment-v1.apps.strata.io"`)
		manager = startManager()
		mustContain(t, k("create", "deployment", "while-down", "--image=nginx"), "deployment.apps/while-down created")
	})

	t.Run("delete", func(t *testing.T) {
		mustContain(t, k("delete", "deployment", "nginx-deployment", "while-down"), `deployment.apps "nginx-deployment" deleted`)
		deadline := time.Now().Add(60 * time.Second)
		for {
			out := k("get", "rs,pods", "-o", "name")
			if strings.TrimSpace(out) == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ReplicaSets and pods left after deleting the deployments:\n%s", out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
