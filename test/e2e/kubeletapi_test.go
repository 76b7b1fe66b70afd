/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
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
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/strata-dev/strata/kubelet/server"
	"github.com/strata-dev/strata/kubelet/server/fakeruntime"
	"github.com/strata-dev/strata/nucleus/pki"
)

// nodePods is the kubelet's view of its pods, read from the API.
type nodePods struct {
	client kubernetes.Interface
	node   string
}

func (p nodePods) Pods() []*corev1.Pod {
	list, err := p.client.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", p.node).String(),
	})
	if err != nil {
		return nil
	}
	out := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out
}

// TestKubectlLogsExecPortForward drives kubectl logs, exec and
// port-forward through the nucleus to a kubelet API server whose container
// runtime is a fake (log files, local processes), running in this test.
// With real containers, the same path is exercised by the stories of
// TestPodsOnARealNode (kubeletapi_realnode_test.go).
func TestKubectlLogsExecPortForward(t *testing.T) {
	requireResource(t, "pods")
	ctx := t.Context()
	cfg, err := clientcmd.BuildConfigFromFlags("", cluster.kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)

	// The kubelet: serving certificate from the cluster CA, clients from it.
	clusterPKI := pki.Dir(filepath.Join(cluster.dataDir, "pki"))
	ca, err := clusterPKI.LoadCA()
	if err != nil {
		t.Fatal(err)
	}
	certs := pki.Dir(t.TempDir())
	if err := certs.EnsureServingCert(ca, "kubelet", []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	apiCerts, err := server.LoadCertificates(certs.CertFile("kubelet"), certs.KeyFile("kubelet"), clusterPKI.CACertFile())
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := apiCerts.TLSConfig()
	const nodeName = "e2e-kubelet-api"
	// As a real kubelet, it asks the nucleus who its clients are and what
	// they may do, with the node's credentials.
	if err := certs.WriteClientCert(ca, "node", "system:node:"+nodeName, []string{"system:nodes"}); err != nil {
		t.Fatal(err)
	}
	nodeConfig := rest.AnonymousClientConfig(cfg)
	nodeConfig.CertFile, nodeConfig.KeyFile = certs.CertFile("node"), certs.KeyFile("node")
	nodeClient := kubernetes.NewForConfigOrDie(nodeConfig)
	authn, err := server.NewAuthenticator(server.AuthenticatorConfig{ClientCA: apiCerts.ClientCA(), TokenReviews: nodeClient.AuthenticationV1()})
	if err != nil {
		t.Fatal(err)
	}
	authz, err := server.NewAuthorizer(server.AuthorizerConfig{SubjectAccessReviews: nodeClient.AuthorizationV1()})
	if err != nil {
		t.Fatal(err)
	}
	rt := fakeruntime.New()
	defer rt.Close()
	ts := httptest.NewUnstartedServer(server.New(server.Config{NodeName: nodeName, Authenticator: authn, Authorizer: authz,
		Pods: nodePods{client, nodeName}, Runtime: rt}).Handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.TLS = tlsConfig
	ts.StartTLS()
	defer ts.Close()
	port, _ := strconv.Atoi(ts.URL[strings.LastIndex(ts.URL, ":")+1:])

	node, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.CoreV1().Nodes().Delete(context.Background(), nodeName, metav1.DeleteOptions{}) }()
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	ns := createNamespace(t, "kubelet-api")
	waitForDefaultServiceAccount(t, client, ns)
	logPath := filepath.Join(t.TempDir(), "web.log")
	if err := os.WriteFile(logPath, []byte(
		"2026-01-01T00:00:00Z stdout F starting\n"+
			"2026-01-01T00:00:01Z stderr F warming up\n"+
			"2026-01-01T00:00:02Z stdout F ready\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rt.SetContainer("web-app", fakeruntime.Container{LogPath: logPath, Running: true})
	pod, err := client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "busybox", ImageID: "sha256:busybox", Ready: true,
		ContainerID: "containerd://web-app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
	if pod, err = client.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rt.AddSandbox("sb-web", string(pod.UID))

	t.Run("logs", func(t *testing.T) {
		if out := run(t, "logs", "-n", ns, "web"); out != "starting\nwarming up\nready\n" {
			t.Errorf("kubectl logs printed %q", out)
		}
		if out := run(t, "logs", "-n", ns, "pod/web", "--tail=1", "--timestamps"); out != "2026-01-01T00:00:02.000000000Z ready\n" {
			t.Errorf("kubectl logs --tail=1 --timestamps printed %q", out)
		}
		errOut := kubectl{}.runFails(t, "logs", "-n", ns, "web", "--previous")
		mustContain(t, errOut, `previous terminated container "app" in pod "web" not found`)
	})

	t.Run("logs -f", func(t *testing.T) {
		cmd := kubectl{}.command(ctx, "logs", "-f", "-n", ns, "web", "--tail=1")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		next := func() (string, bool) {
			select {
			case l, ok := <-lines:
				return l, ok
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("kubectl logs -f printed nothing within 20s")
				return "", false
			}
		}
		if l, _ := next(); l != "ready" {
			t.Fatalf("first line %q, want ready", l)
		}
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(f, "2026-01-01T00:00:03Z stdout F serving\n")
		f.Close()
		if l, _ := next(); l != "serving" {
			t.Fatalf("followed line %q, want serving", l)
		}
		// The container exits: kubectl's stream ends and it exits.
		rt.SetContainer("web-app", fakeruntime.Container{LogPath: logPath})
		if l, ok := next(); ok {
			t.Fatalf("line %q after the container stopped", l)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("kubectl logs -f: %v", err)
		}
		rt.SetContainer("web-app", fakeruntime.Container{LogPath: logPath, Running: true})
	})

	t.Run("exec", func(t *testing.T) {
		if out := run(t, "exec", "-n", ns, "web", "--", "sh", "-c", "echo hello from $0"); out != "hello from sh\n" {
			t.Errorf("kubectl exec printed %q", out)
		}
		out := kubectl{stdin: "strata\n"}.run(t, "exec", "-i", "-n", ns, "web", "--", "sh", "-c", "read name; echo hi $name")
		if out != "hi strata\n" {
			t.Errorf("kubectl exec -i printed %q", out)
		}
		_, errOut, err := kubectl{}.try(t, "exec", "-n", ns, "web", "--", "sh", "-c", "exit 3")
		if code := exitCode(err); code != 3 {
			t.Errorf("kubectl exec of exit 3 exited %d (%v), stderr %q", code, err, errOut)
		}
		mustContain(t, errOut, "command terminated with exit code 3")
	})

	t.Run("port-forward", func(t *testing.T) {
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello from the pod")) }))
		defer target.Close()
		rt.ForwardPort(8080, target.Listener.Addr().String())

		pfCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		cmd := kubectl{}.command(pfCtx, "port-forward", "-n", ns, "pod/web", ":8080")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			cancel()
			_ = cmd.Wait()
		}()
		forwarding := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`)
		localPort := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if m := forwarding.FindStringSubmatch(sc.Text()); m != nil {
					localPort <- m[1]
				}
			}
		}()
		var lp string
		select {
		case lp = <-localPort:
		case <-time.After(20 * time.Second):
			t.Fatal("kubectl port-forward did not start forwarding within 20s")
		}
		resp, err := http.Get("http://127.0.0.1:" + lp + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello from the pod" {
			t.Errorf("through kubectl port-forward: %q", body)
		}
	})
}

// waitForDefaultServiceAccount waits for the serviceaccount controller,
// which pod admission needs.
func waitForDefaultServiceAccount(t *testing.T, client kubernetes.Interface, ns string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := client.CoreV1().ServiceAccounts(ns).Get(t.Context(), "default", metav1.GetOptions{}); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no default ServiceAccount in %s after 30s", ns)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exitCode is a finished command's exit code (-1 if it did not run).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	return -1
}
