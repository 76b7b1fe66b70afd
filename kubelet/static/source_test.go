package static

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"
)

// eventually polls cond until it holds, or fails the test after 10s.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond()
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// mirrorHash returns the kubernetes.io/config.mirror of the pod, "" when
// it is missing or being deleted.
func mirrorHash(ctx context.Context, client kubernetes.Interface, namespace, name string) (string, *corev1.Pod) {
	p, err := client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp != nil {
		return "", nil
	}
	return p.Annotations[ConfigMirrorAnnotation], p
}

func TestSource(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	dir := t.TempDir()
	webPath := writeFile(t, dir, "web.yaml", webYAML)
	writeFile(t, dir, ".hidden.yaml", strings.Replace(webYAML, "name: web", "name: hidden", 1))
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "node-uid"}})
	s := New(Config{Client: client, NodeName: "node-1", ManifestDir: dir, Interval: 50 * time.Millisecond})
	if !s.HasStaticPod("anything") {
		t.Error("before reading the manifests, any static pod may be defined")
	}
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	web, err := StaticPod([]byte(webYAML), webPath, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	hash := string(web.UID)
	eventually(t, "the mirror pod", func() (bool, error) {
		h, _ := mirrorHash(ctx, client, "default", "web-node-1")
		return h == hash, nil
	})
	_, m := mirrorHash(ctx, client, "default", "web-node-1")
	if m.Spec.NodeName != "node-1" || m.Annotations[ConfigSourceAnnotation] != "file" || m.Annotations[ConfigHashAnnotation] != hash || m.Annotations[ConfigSeenAnnotation] == "" {
		t.Errorf("mirror pod %+v", m.ObjectMeta)
	}
	if len(m.OwnerReferences) != 1 || m.OwnerReferences[0].Kind != "Node" || m.OwnerReferences[0].UID != "node-uid" {
		t.Errorf("owner references %+v", m.OwnerReferences)
	}
	if !s.HasStaticPod(hash) || s.HasStaticPod("other") {
		t.Error("HasStaticPod does not follow the manifests")
	}
	if _, err := client.CoreV1().Pods("default").Get(ctx, "hidden-node-1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dotfile manifest: %v, want no pod", err)
	}

	// kubectl delete: the mirror pod is marked deleted; the source deletes
	// it for good and creates it again.
	m.DeletionTimestamp = ptr.To(metav1.Now())
	m.ResourceVersion = ""
	if _, err := client.CoreV1().Pods("default").Update(ctx, m, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the mirror pod to be created again", func() (bool, error) {
		h, _ := mirrorHash(ctx, client, "default", "web-node-1")
		return h == hash, nil
	})
	// Deleted outright, it comes back too.
	if err := client.CoreV1().Pods("default").Delete(ctx, "web-node-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted mirror pod to come back", func() (bool, error) {
		h, _ := mirrorHash(ctx, client, "default", "web-node-1")
		return h == hash, nil
	})

	// The manifest changes: a mirror pod with the new hash replaces it.
	changed := strings.Replace(webYAML, "busybox", "busybox:1.36", 1)
	writeFile(t, dir, "web.yaml", changed)
	newWeb, _ := StaticPod([]byte(changed), webPath, "node-1")
	eventually(t, "the mirror pod of the new manifest", func() (bool, error) {
		h, p := mirrorHash(ctx, client, "default", "web-node-1")
		return h == string(newWeb.UID) && p.Spec.Containers[0].Image == "busybox:1.36", nil
	})
	if s.HasStaticPod(hash) {
		t.Error("the old static pod is still defined")
	}

	// The manifest goes: so does the mirror pod.
	if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the mirror pod to go", func() (bool, error) {
		_, err := client.CoreV1().Pods("default").Get(ctx, "web-node-1", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if s.HasStaticPod(string(newWeb.UID)) {
		t.Error("a removed static pod is still defined")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSourceWaitsForTheNode: mirror pods are owned by the Node, so they
// wait for it to be registered.
func TestSourceWaitsForTheNode(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir := t.TempDir()
	writeFile(t, dir, "web.yaml", webYAML)
	client := fake.NewClientset()
	s := New(Config{Client: client, NodeName: "node-1", ManifestDir: dir, Interval: time.Hour})
	go func() { _ = s.Run(ctx) }()

	eventually(t, "the manifests to be read", func() (bool, error) { return !s.HasStaticPod("x"), nil })
	if _, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "node-uid"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the mirror pod once the node is there", func() (bool, error) {
		_, err := client.CoreV1().Pods("default").Get(ctx, "web-node-1", metav1.GetOptions{})
		return err == nil, nil
	})
}

// TestSourceWithoutManifestDir deletes the mirror pods left from a
// configuration with static pods.
func TestSourceWithoutManifestDir(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	static, _ := StaticPod([]byte(webYAML), "/m/web.yaml", "node-1")
	left := mirrorOf(static, "m1")
	client := fake.NewClientset(left)
	s := New(Config{Client: client, NodeName: "node-1"})
	if s.HasStaticPod(string(static.UID)) {
		t.Error("without a manifest dir there are no static pods")
	}
	go func() { _ = s.Run(ctx) }()
	eventually(t, "the mirror pod to go", func() (bool, error) {
		_, err := client.CoreV1().Pods("default").Get(ctx, "web-node-1", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
