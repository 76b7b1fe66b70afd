/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestAppsLayerLifecycle installs the apps layer with helm on a real node,
// so that its manager runs as a pod of the strata image, and goes through
// what a layer must survive: helm uninstall removes the Deployment and
// ReplicaSet APIs but not the pods they made, helm install brings the same
// objects back and the manager takes the pods over without replacing any,
// and helm upgrade changes a CRD.
func TestAppsLayerLifecycle(t *testing.T) {
	requireHelm(t)
	requireResource(t, "pods")
	if nodeIP() == "127.0.0.1" {
		t.Skip("SKIP: this machine has only loopback: the manager's pod cannot reach the API")
	}
	repository, tag := strataImage(t)
	node := startRealNode(t, "strata.tar")
	h := helm{}
	image := []string{"--set", "image.repository=" + repository + ",image.tag=" + tag + ",image.pullPolicy=Never"}
	t.Cleanup(func() {
		// Leave the APIs served and no webhooks behind for later tests:
		// without the hook (the node may be failing), then serve them.
		_, _, _ = h.try(t, "uninstall", "apps", "-n", layersNamespace, "--ignore-not-found", "--no-hooks")
		run(t, "delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", "strata-apps", "--ignore-not-found")
		if out, err := exec.Command(strataBin, "crds", "serve", "deployments.apps", "replicasets.apps", "--kubeconfig", cluster.kubeconfig()).CombinedOutput(); err != nil {
			t.Errorf("strata crds serve: %v\n%s", err, out)
		}
	})
	ns := createNamespace(t, "layer-lifecycle")
	t.Cleanup(func() { run(t, "delete", "namespace", ns, "--wait=false") })

	// Other tests of this nucleus may have applied the CRDs with kubectl:
	// the first install takes them over.
	out := h.run(t, append([]string{"install", "apps", appsChart, "-n", layersNamespace, "--create-namespace", "--take-ownership"}, image...)...)
	mustContain(t, out, "STATUS: deployed", "It adds the APIs Deployment and ReplicaSet (apps/v1)")
	manager := waitPod(t, layersNamespace, "strata-apps-manager", "Ready", 2*time.Minute, podReady)
	if manager.Spec.NodeName != realNodeName || manager.Spec.Containers[0].Image != repository+":"+tag {
		t.Fatalf("the manager runs %s on %q, want %s:%s on %s", manager.Spec.Containers[0].Image, manager.Spec.NodeName, repository, tag, realNodeName)
	}

	run(t, "create", "deployment", "web", "-n", ns, "--image="+busyboxImage, "--replicas=2", "--", "httpd", "-f", "-p", "8080")
	run(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=120s")
	before := webPods(t, ns)
	if len(before) != 2 {
		t.Fatalf("deployment web has %d pods, want 2: %v", len(before), before)
	}
	deploymentUID := run(t, "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.metadata.uid}")
	replicaSets := run(t, "get", "replicasets", "-n", ns, "-o", `jsonpath={range .items[*]}{.metadata.name}/{.metadata.uid}{"\n"}{end}`)

	t.Run("helm uninstall removes the APIs, not the pods", func(t *testing.T) {
		mustContain(t, h.run(t, "uninstall", "apps", "-n", layersNamespace), `release "apps" uninstalled`)
		// kubectl api-resources reads discovery afresh (kubectl caches it
		// for hours, and until then a list answers 404 instead).
		if out := run(t, "api-resources", "--api-group=apps", "--no-headers"); strings.TrimSpace(out) != "" {
			t.Errorf("kubectl api-resources --api-group=apps after helm uninstall:\n%s", out)
		}
		for _, resource := range []string{"deployments", "replicasets"} {
			errOut := kubectl{}.runFails(t, "get", resource, "-n", ns)
			mustContain(t, errOut, `the server doesn't have a resource type "`+resource+`"`)
		}
		// The CRDs are kept, unserved; the manager and the hook pod are gone.
		for _, crd := range []string{"deployments.apps", "replicasets.apps"} {
			if got := jsonpath(t, "{.spec.versions[*].served}", "get", "crd", crd); got != "false" {
				t.Errorf("CRD %s: served %q, want false", crd, got)
			}
		}
		for _, pod := range []string{"strata-apps-manager", "strata-apps-crds-unserve"} {
			waitUntil(t, "pod "+pod+" to be gone", 60*time.Second, func() (bool, string) {
				out, errOut, err := kubectl{}.try(t, "get", "pod", "-n", layersNamespace, pod)
				return err != nil && strings.Contains(errOut, "not found"), out + errOut
			})
		}
		time.Sleep(5 * time.Second) // time for a garbage collector to act on a mistake
		samePods(t, ns, before)
		if got := node.runningContainers(t, ns, "busybox"); got != 2 {
			t.Errorf("containerd runs %d containers of deployment web, want 2", got)
		}
	})

	t.Run("helm install brings the same objects back", func(t *testing.T) {
		// The kept CRDs carry the release's meta.helm.sh annotations, so a
		// plain install adopts them (server-side apply, no conflict).
		out := h.run(t, append([]string{"install", "apps", appsChart, "-n", layersNamespace}, image...)...)
		mustContain(t, out, "STATUS: deployed", "REVISION: 1")
		for _, crd := range []string{"deployments.apps", "replicasets.apps"} {
			if got := jsonpath(t, "{.spec.versions[*].served}", "get", "crd", crd); got != "true" {
				t.Errorf("CRD %s: served %q, want true", crd, got)
			}
		}
		waitPod(t, layersNamespace, "strata-apps-manager", "Ready", 2*time.Minute, podReady)
		if got := run(t, "get", "deployment", "web", "-n", ns, "-o", "jsonpath={.metadata.uid}"); got != deploymentUID {
			t.Errorf("deployment web came back with UID %s, want %s", got, deploymentUID)
		}
		run(t, "rollout", "status", "deployment/web", "-n", ns, "--timeout=60s")
		time.Sleep(5 * time.Second) // a few reconciles
		if got := run(t, "get", "replicasets", "-n", ns, "-o", `jsonpath={range .items[*]}{.metadata.name}/{.metadata.uid}{"\n"}{end}`); got != replicaSets {
			t.Errorf("replicasets after helm install:\n%s\nwant the same as before:\n%s", got, replicaSets)
		}
		samePods(t, ns, before)
		mustContain(t, run(t, "get", "deployment", "web", "-n", ns, "-o", `jsonpath={.status.readyReplicas}/{.status.replicas}`), "2/2")
	})

	t.Run("helm upgrade changes a CRD", func(t *testing.T) {
		chart := filepath.Join(t.TempDir(), "apps")
		copyDir(t, appsChart, chart)
		crdFile := filepath.Join(chart, "templates", "crds", "apps_deployments.yaml")
		crd := readFile(t, crdFile)
		const columns = "  - additionalPrinterColumns:\n"
		if !strings.Contains(crd, columns) {
			t.Fatalf("%s has no additionalPrinterColumns", crdFile)
		}
		crd = strings.Replace(crd, columns, columns+"    - jsonPath: .spec.strategy.type\n      name: Strategy\n      type: string\n", 1)
		if err := os.WriteFile(crdFile, []byte(crd), 0o644); err != nil {
			t.Fatal(err)
		}
		mustContain(t, h.run(t, append([]string{"upgrade", "apps", chart, "-n", layersNamespace}, image...)...), "STATUS: deployed", "REVISION: 2")
		got := jsonpath(t, "{.spec.versions[0].additionalPrinterColumns[*].name}", "get", "crd", "deployments.apps")
		if !strings.HasPrefix(got, "Strategy ") {
			t.Errorf("printer columns of deployments.apps after helm upgrade: %q, want Strategy first", got)
		}
		waitUntil(t, "kubectl get deployment to print the Strategy column", 30*time.Second, func() (bool, string) {
			out, _, _ := kubectl{}.try(t, "get", "deployment", "web", "-n", ns)
			return strings.Contains(out, "STRATEGY") && strings.Contains(out, "RollingUpdate"), out
		})
		samePods(t, ns, before)
	})

	// The story's own clean-up, while the manager runs: the Deployment goes
	// with its pods.
	run(t, "delete", "deployment", "web", "-n", ns, "--wait", "--timeout=60s")
}

// podIdentity is what must not change about a pod across the layer's
// uninstall and install: the same pod, with the same running container.
type podIdentity struct {
	Name, UID, ContainerID string
	Phase                  corev1.PodPhase
}

// webPods returns the pods of deployment web in ns, sorted by name.
func webPods(t *testing.T, ns string) []podIdentity {
	t.Helper()
	var list corev1.PodList
	if err := json.Unmarshal([]byte(run(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	var out []podIdentity
	for _, p := range list.Items {
		id := podIdentity{Name: p.Name, UID: string(p.UID), Phase: p.Status.Phase}
		if len(p.Status.ContainerStatuses) > 0 {
			id.ContainerID = p.Status.ContainerStatuses[0].ContainerID
		}
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b podIdentity) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// samePods checks that deployment web still has exactly the pods of want,
// running the same containers.
func samePods(t *testing.T, ns string, want []podIdentity) {
	t.Helper()
	got := webPods(t, ns)
	if !slices.Equal(want, got) {
		t.Errorf("the pods of deployment web changed:\nbefore %+v\nnow    %+v", want, got)
	}
	for _, p := range got {
		if p.Phase != corev1.PodRunning {
			t.Errorf("pod %s is %s, want Running", p.Name, p.Phase)
		}
	}
}

// strataImage returns the repository and tag of the strata image in
// imagesDir()/strata.tar (strata.local/strata:<version>), from the names
// its OCI index gives containerd.
func strataImage(t *testing.T) (string, string) {
	t.Helper()
	f, err := os.Open(filepath.Join(imagesDir(), "strata.tar"))
	if err != nil {
		t.Fatalf("the strata image (run `make images`): %v", err)
	}
	defer f.Close()
	r := tar.NewReader(f)
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("strata.tar has no index.json")
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "index.json" {
			continue
		}
		var index struct {
			Manifests []struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		if err := json.NewDecoder(r).Decode(&index); err != nil {
			t.Fatalf("strata.tar's index.json: %v", err)
		}
		for _, m := range index.Manifests {
			name := m.Annotations["io.containerd.image.name"]
			if repo, tag, ok := strings.Cut(name, ":"); ok && repo == "strata.local/strata" {
				return repo, tag
			}
		}
		t.Fatalf("strata.tar names no strata.local/strata image: %+v", index.Manifests)
	}
}

// copyDir copies the directory tree src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
