package namespace

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestComputeConditions(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(earlier.Add(time.Minute))
	pods := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}

	ok := func(t corev1.NamespaceConditionType, reason, msg string, at metav1.Time) corev1.NamespaceCondition {
		return corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg, LastTransitionTime: at}
	}
	fail := func(t corev1.NamespaceConditionType, reason, msg string, at metav1.Time) corev1.NamespaceCondition {
		return corev1.NamespaceCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg, LastTransitionTime: at}
	}
	allOK := func(at metav1.Time) []corev1.NamespaceCondition {
		return []corev1.NamespaceCondition{
			ok(corev1.NamespaceDeletionDiscoveryFailure, "ResourcesDiscovered", "All resources successfully discovered", at),
			ok(corev1.NamespaceDeletionGVParsingFailure, "ParsedGroupVersions", "All legacy kube types successfully parsed", at),
			ok(corev1.NamespaceDeletionContentFailure, "ContentDeleted", "All content successfully deleted, may be waiting on finalization", at),
			ok(corev1.NamespaceContentRemaining, "ContentRemoved", "All content successfully removed", at),
			ok(corev1.NamespaceFinalizersRemaining, "ContentHasNoFinalizers", "All content-preserving finalizers finished", at),
		}
	}
	withRemaining := func(at metav1.Time) []corev1.NamespaceCondition {
		c := allOK(earlier)
		c[3] = fail(corev1.NamespaceContentRemaining, "SomeResourcesRemain", "Some resources are remaining: pods. has 2 resource instances, widgets.example.com has 1 resource instances", at)
		c[4] = fail(corev1.NamespaceFinalizersRemaining, "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances", at)
		return c
	}
	other := corev1.NamespaceCondition{Type: "Custom", Status: corev1.ConditionTrue, LastTransitionTime: earlier}

	tests := []struct {
		name     string
		existing []corev1.NamespaceCondition
		result   result
		want     []corev1.NamespaceCondition
	}{
		{name: "first pass, nothing left", result: result{}, want: allOK(now)},
		{name: "unchanged statuses keep their transition time", existing: allOK(earlier), result: result{}, want: allOK(earlier)},
		{
			name:     "content and finalizers remain",
			existing: allOK(earlier),
			result: result{
				remaining:  map[schema.GroupVersionResource]int{pods: 2, widgets: 1},
				finalizers: map[string]int{"example.com/hold": 1},
			},
			want: withRemaining(now),
		},
		{
			name:     "discovery and deletion failures",
			existing: []corev1.NamespaceCondition{other},
			result:   result{discoveryErr: errors.New("example.com/v1: boom"), deleteErrs: []error{errors.New("deleting widgets.example.com: nope")}},
			want: append([]corev1.NamespaceCondition{other},
				fail(corev1.NamespaceDeletionDiscoveryFailure, "DiscoveryFailed", "Discovery failed for some groups: example.com/v1: boom", now),
				ok(corev1.NamespaceDeletionGVParsingFailure, "ParsedGroupVersions", "All legacy kube types successfully parsed", now),
				fail(corev1.NamespaceDeletionContentFailure, "ContentDeletionFailed", "Failed to delete all resource types, 1 remaining: deleting widgets.example.com: nope", now),
				ok(corev1.NamespaceContentRemaining, "ContentRemoved", "All content successfully removed", now),
				ok(corev1.NamespaceFinalizersRemaining, "ContentHasNoFinalizers", "All content-preserving finalizers finished", now),
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computeConditions(tt.existing, tt.result, now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("conditions (-want +got)\n%s", diff)
			}
		})
	}
}

func TestDeletableResources(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Namespaced: true, Verbs: []string{"create", "delete", "deletecollection", "get", "list"}},
			{Name: "pods/status", Namespaced: true, Verbs: []string{"get", "patch", "update"}},
			{Name: "bindings", Namespaced: true, Verbs: []string{"create"}},
			{Name: "nodes", Namespaced: false, Verbs: []string{"delete", "list"}},
		}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "widgets", Namespaced: true, Verbs: []string{"delete", "list"}},
		}},
	}
	want := []schema.GroupVersionResource{{Version: "v1", Resource: "pods"}, {Group: "example.com", Version: "v1", Resource: "widgets"}}
	if diff := cmp.Diff(want, deletableResources(lists)); diff != "" {
		t.Errorf("resources (-want +got)\n%s", diff)
	}
}
