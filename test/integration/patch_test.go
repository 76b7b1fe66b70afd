package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
)

func TestConfigMapPatches(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	for _, tc := range []struct {
		name      string
		patchType types.PatchType
		patch     string
		want      map[string]string
	}{
		{"json patch", types.JSONPatchType, `[{"op":"add","path":"/data/added","value":"x"},{"op":"replace","path":"/data/keep","value":"changed"},{"op":"remove","path":"/data/drop"}]`,
			map[string]string{"keep": "changed", "added": "x"}},
		{"merge patch", types.MergePatchType, `{"data":{"added":"x","drop":null}}`,
			map[string]string{"keep": "1", "added": "x"}},
		{"strategic merge patch", types.StrategicMergePatchType, `{"data":{"added":"x","drop":null}}`,
			map[string]string{"keep": "1", "added": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			name := strings.ReplaceAll(tc.name, " ", "-")
			mustCreateConfigMap(t, c.kube, ns, name, nil, map[string]string{"keep": "1", "drop": "1"})
			patched, err := c.kube.CoreV1().ConfigMaps(ns).Patch(ctx, name, tc.patchType, []byte(tc.patch), metav1.PatchOptions{})
			if err != nil {
				t.Fatalf("%s: %v", tc.patchType, err)
			}
			if diff := cmp.Diff(tc.want, patched.Data); diff != "" {
				t.Errorf("data after %s (-want +got):\n%s", tc.patchType, diff)
			}
			got, err := c.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Data); diff != "" {
				t.Errorf("stored data after %s (-want +got):\n%s", tc.patchType, diff)
			}
		})
	}

	t.Run("controller-runtime merge patch", func(t *testing.T) {
		ctx := context.Background()
		cm := mustCreateConfigMap(t, c.kube, ns, "ctrl", nil, map[string]string{"a": "1"})
		base := cm.DeepCopy()
		cm.Data["b"] = "2"
		if err := c.ctrl.Patch(ctx, cm, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{})); err != nil {
			t.Fatalf("merge patch with optimistic lock: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"a": "1", "b": "2"}, cm.Data); diff != "" {
			t.Errorf("data (-want +got):\n%s", diff)
		}
		// The base's resourceVersion is stale now.
		stale := base.DeepCopy()
		stale.Data["c"] = "3"
		err := c.ctrl.Patch(ctx, stale, ctrlclient.MergeFromWithOptions(base, ctrlclient.MergeFromWithOptimisticLock{}))
		if !apierrors.IsConflict(err) {
			t.Errorf("merge patch pinned to a stale resourceVersion: err = %v, want 409 Conflict", err)
		}
	})

	t.Run("server-side apply", func(t *testing.T) {
		ctx := context.Background()
		cms := c.kube.CoreV1().ConfigMaps(ns)
		applied, err := cms.Apply(ctx, corev1ac.ConfigMap("ssa", ns).WithData(map[string]string{"owned-by-a": "1", "shared": "a"}),
			metav1.ApplyOptions{FieldManager: "manager-a"})
		if err != nil {
			t.Fatalf("apply by manager-a: %v", err)
		}
		if !hasManager(applied.ManagedFields, "manager-a", metav1.ManagedFieldsOperationApply) {
			t.Errorf("managedFields %v lack an Apply entry of manager-a", applied.ManagedFields)
		}
		_, err = cms.Apply(ctx, corev1ac.ConfigMap("ssa", ns).WithData(map[string]string{"shared": "b", "owned-by-b": "1"}),
			metav1.ApplyOptions{FieldManager: "manager-b"})
		if !apierrors.IsConflict(err) {
			t.Fatalf("apply by manager-b of a field manager-a owns: err = %v, want 409 Conflict", err)
		}
		if !strings.Contains(err.Error(), "manager-a") || !strings.Contains(err.Error(), ".data.shared") {
			t.Errorf("conflict message %q should name manager-a and .data.shared", err)
		}
		forced, err := cms.Apply(ctx, corev1ac.ConfigMap("ssa", ns).WithData(map[string]string{"shared": "b", "owned-by-b": "1"}),
			metav1.ApplyOptions{FieldManager: "manager-b", Force: true})
		if err != nil {
			t.Fatalf("forced apply by manager-b: %v", err)
		}
		want := map[string]string{"owned-by-a": "1", "shared": "b", "owned-by-b": "1"}
		if diff := cmp.Diff(want, forced.Data); diff != "" {
			t.Errorf("data after the forced apply (-want +got):\n%s", diff)
		}
		// manager-a no longer owns .data.shared: dropping its other field
		// removes only that one.
		after, err := cms.Apply(ctx, corev1ac.ConfigMap("ssa", ns).WithData(map[string]string{}),
			metav1.ApplyOptions{FieldManager: "manager-a"})
		if err != nil {
			t.Fatalf("apply by manager-a without its fields: %v", err)
		}
		if diff := cmp.Diff(map[string]string{"shared": "b", "owned-by-b": "1"}, after.Data); diff != "" {
			t.Errorf("data after manager-a dropped its fields (-want +got):\n%s", diff)
		}
	})

	t.Run("server-side apply through controller-runtime", func(t *testing.T) {
		ctx := context.Background()
		ac := corev1ac.ConfigMap("ssa-ctrl", ns).WithData(map[string]string{"k": "v"})
		if err := c.ctrl.Apply(ctx, ac, ctrlclient.FieldOwner("ctrl-manager")); err != nil {
			t.Fatalf("controller-runtime apply: %v", err)
		}
		var got corev1.ConfigMap
		if err := c.ctrl.Get(ctx, ctrlclient.ObjectKey{Namespace: ns, Name: "ssa-ctrl"}, &got); err != nil {
			t.Fatal(err)
		}
		if got.Data["k"] != "v" || !hasManager(got.ManagedFields, "ctrl-manager", metav1.ManagedFieldsOperationApply) {
			t.Errorf("applied configmap = data %v managedFields %v, want data k=v managed by ctrl-manager", got.Data, got.ManagedFields)
		}
	})
}

func hasManager(entries []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, e := range entries {
		if e.Manager == manager && e.Operation == op {
			return true
		}
	}
	return false
}

func TestPodServerSideApplyMergesContainersByName(t *testing.T) {
	t.Parallel()
	requireResource(t, gvr("", "v1", "pods"))
	ctx := context.Background()
	ns := newNamespace(t)
	pods := c.kube.CoreV1().Pods(ns)
	pod := corev1ac.Pod("web", ns).WithSpec(corev1ac.PodSpec().WithContainers(
		corev1ac.Container().WithName("app").WithImage("app:1"),
		corev1ac.Container().WithName("sidecar").WithImage("sidecar:1"),
	))
	if _, err := pods.Apply(ctx, pod, metav1.ApplyOptions{FieldManager: "deployer"}); err != nil {
		t.Fatalf("apply the pod: %v", err)
	}
	// Another manager sets only the app container's image; the sidecar,
	// which it does not mention, stays.
	update := corev1ac.Pod("web", ns).WithSpec(corev1ac.PodSpec().WithContainers(
		corev1ac.Container().WithName("app").WithImage("app:2"),
	))
	_, err := pods.Apply(ctx, update, metav1.ApplyOptions{FieldManager: "updater"})
	if !apierrors.IsConflict(err) {
		t.Errorf("apply of an image another manager owns: err = %v, want 409 Conflict", err)
	}
	got, err := pods.Apply(ctx, update, metav1.ApplyOptions{FieldManager: "updater", Force: true})
	if err != nil {
		t.Fatalf("forced apply of the app image: %v", err)
	}
	images := map[string]string{}
	for _, ctr := range got.Spec.Containers {
		images[ctr.Name] = ctr.Image
	}
	if diff := cmp.Diff(map[string]string{"app": "app:2", "sidecar": "sidecar:1"}, images); diff != "" {
		t.Errorf("container images after the apply (-want +got):\n%s", diff)
	}
	if len(got.Spec.Containers) != 2 || got.Spec.Containers[0].Name != "app" {
		t.Errorf("containers = %v, want app then sidecar", got.Spec.Containers)
	}

	// A strategic merge patch merges by name too.
	patched, err := pods.Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"containers":[{"name":"sidecar","image":"sidecar:2"}]}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("strategic merge patch of the sidecar image: %v", err)
	}
	images = map[string]string{}
	for _, ctr := range patched.Spec.Containers {
		images[ctr.Name] = ctr.Image
	}
	if diff := cmp.Diff(map[string]string{"app": "app:2", "sidecar": "sidecar:2"}, images); diff != "" {
		t.Errorf("container images after the strategic merge patch (-want +got):\n%s", diff)
	}
}
