package static

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2/ktesting"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestMirrorPodsInTheNucleus runs the source as a node (user
// system:node:node-1 in group system:nodes) against a real nucleus: the
// node authorizer and NodeRestriction let it create mirror pods bound to
// and owned by itself and nothing else, the ServiceAccount admission leaves
// them alone, and a mirror pod deleted with kubectl comes back.
func TestMirrorPodsInTheNucleus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	_, ctx := ktesting.NewTestContext(t)
	env := testenv.Start(t)
	admin := kubernetes.NewForConfigOrDie(env.Config)
	cfg, err := env.UserConfig("system:node:node-1", "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	node := kubernetes.NewForConfigOrDie(cfg)
	if _, err := node.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("a node creates only mirror pods it owns", func(t *testing.T) {
		regular := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "regular"},
			Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}
		if _, err := node.CoreV1().Pods("default").Create(ctx, regular, metav1.CreateOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "can only create mirror pods") {
			t.Errorf("creating a regular pod: %v, want Forbidden", err)
		}
		unowned := regular.DeepCopy()
		unowned.Annotations = map[string]string{ConfigMirrorAnnotation: "x"}
		if _, err := node.CoreV1().Pods("default").Create(ctx, unowned, metav1.CreateOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "owner reference") {
			t.Errorf("creating a mirror pod without owner: %v, want Forbidden", err)
		}
	})

	t.Run("a node reads Services", func(t *testing.T) {
		if _, err := node.CoreV1().Services("").List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("listing Services as a node: %v", err)
		}
	})

	dir := t.TempDir()
	path := writeFile(t, dir, "web.yaml", webYAML)
	static, err := StaticPod([]byte(webYAML), path, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	hash := string(static.UID)
	s := New(Config{Client: node, NodeName: "node-1", ManifestDir: dir})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = s.Run(runCtx) }()

	pods := admin.CoreV1().Pods("default")
	eventually(t, "the mirror pod", func() (bool, error) {
		h, _ := mirrorHash(ctx, admin, "default", "web-node-1")
		return h == hash, nil
	})
	_, m := mirrorHash(ctx, admin, "default", "web-node-1")
	if m.Spec.ServiceAccountName != "" || len(m.Spec.Volumes) != 0 || len(m.Spec.Containers[0].VolumeMounts) != 0 {
		t.Errorf("the mirror pod got a ServiceAccount or its token: serviceAccountName %q, volumes %v", m.Spec.ServiceAccountName, m.Spec.Volumes)
	}
	if len(m.OwnerReferences) != 1 || m.OwnerReferences[0].Kind != "Node" || m.OwnerReferences[0].Name != "node-1" {
		t.Errorf("owner references %+v", m.OwnerReferences)
	}
	first := m.UID

	// kubectl delete pod web-node-1: graceful, the pod is bound to a node.
	if err := pods.Delete(ctx, "web-node-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new mirror pod", func() (bool, error) {
		h, p := mirrorHash(ctx, admin, "default", "web-node-1")
		return h == hash && p.UID != first, nil
	})

	if err := os.Remove(filepath.Join(dir, "web.yaml")); err != nil {
		t.Fatal(err)
	}
	s.poke()
	eventually(t, "the mirror pod to go with its manifest", func() (bool, error) {
		_, err := pods.Get(ctx, "web-node-1", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
