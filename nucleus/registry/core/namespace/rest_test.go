package namespace_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/strata-dev/strata/nucleus/testenv"
)

// TestNamespaceREST runs the namespace lifecycle against a real nucleus:
// create defaults, the two-step delete, finalize and the protected system
// namespaces. It checks nodes keeping their registered status as well.
func TestNamespaceREST(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nucleus")
	}
	env := testenv.Start(t)
	client := kubernetes.NewForConfigOrDie(env.Config)
	namespaces := client.CoreV1().Namespaces()
	ctx := t.Context()

	t.Run("system namespaces may not be deleted", func(t *testing.T) {
		for _, name := range []string{"default", "kube-system", "kube-public"} {
			err := namespaces.Delete(ctx, name, metav1.DeleteOptions{})
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "this namespace may not be deleted") {
				t.Errorf("deleting %s: %v, want Forbidden", name, err)
			}
		}
	})

	t.Run("invalid name", func(t *testing.T) {
		_, err := namespaces.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a.b"}}, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("creating a.b: %v, want Invalid", err)
		}
	})

	ns, err := namespaces.Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{corev1.LabelMetadataName: "wrong"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Status.Phase != corev1.NamespaceActive || !slices.Equal(ns.Spec.Finalizers, []corev1.FinalizerName{corev1.FinalizerKubernetes}) ||
		ns.Labels[corev1.LabelMetadataName] != "team-a" {
		t.Errorf("created namespace: phase %q finalizers %v labels %v", ns.Status.Phase, ns.Spec.Finalizers, ns.Labels)
	}

	t.Run("name label kept on update", func(t *testing.T) {
		ns.Labels[corev1.LabelMetadataName] = "other"
		ns.Spec.Finalizers = nil
		updated, err := namespaces.Update(ctx, ns, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Labels[corev1.LabelMetadataName] != "team-a" || len(updated.Spec.Finalizers) != 1 {
			t.Errorf("updated namespace: labels %v finalizers %v", updated.Labels, updated.Spec.Finalizers)
		}
	})

	t.Run("two-step delete", func(t *testing.T) {
		if err := namespaces.Delete(ctx, "team-a", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := namespaces.Get(ctx, "team-a", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("namespace gone before finalization: %v", err)
		}
		if got.DeletionTimestamp == nil || got.Status.Phase != corev1.NamespaceTerminating {
			t.Errorf("deleted namespace: deletionTimestamp %v phase %q", got.DeletionTimestamp, got.Status.Phase)
		}
		// A second delete leaves it to the finalizers.
		if err := namespaces.Delete(ctx, "team-a", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got.Spec.Finalizers = nil
		if _, err := namespaces.Finalize(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("Finalize: %v", err)
		}
		if _, err := namespaces.Get(ctx, "team-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Get after finalization: %v, want NotFound", err)
		}
	})

	t.Run("node keeps its status", func(t *testing.T) {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"},
			},
		}
		created, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(created.Status.Conditions) != 1 || created.Status.NodeInfo.KubeletVersion != "v1.37.2" {
			t.Errorf("created node status = %+v", created.Status)
		}
		list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{FieldSelector: "spec.unschedulable=false"})
		if err != nil || len(list.Items) != 1 {
			t.Errorf("schedulable nodes: %v items, err %v", len(list.Items), err)
		}
	})
}
