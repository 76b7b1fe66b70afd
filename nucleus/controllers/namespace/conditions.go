package namespace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// result is what one pass over a terminating namespace observed.
type result struct {
	// discoveryErr is set when some groups could not be discovered.
	discoveryErr error
	// deleteErrs are failures deleting or listing content.
	deleteErrs []error
	// remaining counts the objects still present, per resource.
	remaining map[schema.GroupVersionResource]int
	// finalizers counts, per finalizer, the remaining objects holding it.
	finalizers map[string]int
}

// done reports whether the namespace is empty and nothing failed.
func (r result) done() bool {
	return r.discoveryErr == nil && len(r.deleteErrs) == 0 && len(r.remaining) == 0
}

// conditionSpec is one of upstream's five deletion conditions: its reason
// and message when the problem is present (status True) and when it is not.
type conditionSpec struct {
	t                    corev1.NamespaceConditionType
	failReason, okReason string
	okMessage            string
	failMessage          func(result) string
}

var conditionSpecs = []conditionSpec{
	{corev1.NamespaceDeletionDiscoveryFailure, "DiscoveryFailed", "ResourcesDiscovered", "All resources successfully discovered",
		func(r result) string {
			if r.discoveryErr == nil {
				return ""
			}
			return "Discovery failed for some groups: " + r.discoveryErr.Error()
		}},
	{corev1.NamespaceDeletionGVParsingFailure, "GroupVersionParsingFailed", "ParsedGroupVersions", "All legacy kube types successfully parsed",
		func(result) string { return "" }},
	{corev1.NamespaceDeletionContentFailure, "ContentDeletionFailed", "ContentDeleted", "All content successfully deleted, may be waiting on finalization",
		func(r result) string {
			if len(r.deleteErrs) == 0 {
				return ""
			}
			var msgs []string
			for _, err := range r.deleteErrs {
				msgs = append(msgs, err.Error())
			}
			sort.Strings(msgs)
			return "Failed to delete all resource types, " + fmt.Sprint(len(msgs)) + " remaining: " + strings.Join(msgs, ", ")
		}},
	{corev1.NamespaceContentRemaining, "SomeResourcesRemain", "ContentRemoved", "All content successfully removed",
		func(r result) string {
			if len(r.remaining) == 0 {
				return ""
			}
			var parts []string
			for gvr, n := range r.remaining {
				parts = append(parts, fmt.Sprintf("%s.%s has %d resource instances", gvr.Resource, gvr.Group, n))
			}
			sort.Strings(parts)
			return "Some resources are remaining: " + strings.Join(parts, ", ")
		}},
	{corev1.NamespaceFinalizersRemaining, "SomeFinalizersRemain", "ContentHasNoFinalizers", "All content-preserving finalizers finished",
		func(r result) string {
			if len(r.finalizers) == 0 {
				return ""
			}
			var parts []string
			for f, n := range r.finalizers {
				parts = append(parts, fmt.Sprintf("%s in %d resource instances", f, n))
			}
			sort.Strings(parts)
			return "Some content in the namespace has finalizers remaining: " + strings.Join(parts, ", ")
		}},
}

// computeConditions returns the namespace's deletion conditions after a pass
// with result r: all five, True with the failure when it applies, False
// otherwise. A condition's transition time changes only with its status.
func computeConditions(existing []corev1.NamespaceCondition, r result, now metav1.Time) []corev1.NamespaceCondition {
	var out []corev1.NamespaceCondition
	// Conditions that are not deletion conditions are kept as they are.
	for _, c := range existing {
		if !isDeletionCondition(c.Type) {
			out = append(out, c)
		}
	}
	for _, spec := range conditionSpecs {
		c := corev1.NamespaceCondition{Type: spec.t, Status: corev1.ConditionFalse, Reason: spec.okReason, Message: spec.okMessage, LastTransitionTime: now}
		if msg := spec.failMessage(r); msg != "" {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, spec.failReason, msg
		}
		if old := findCondition(existing, spec.t); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

func isDeletionCondition(t corev1.NamespaceConditionType) bool {
	for _, s := range conditionSpecs {
		if s.t == t {
			return true
		}
	}
	return false
}

func findCondition(conds []corev1.NamespaceCondition, t corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// conditionsEqual compares conditions ignoring nothing: an update is needed
// whenever any field differs.
func conditionsEqual(a, b []corev1.NamespaceCondition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Status != b[i].Status || a[i].Reason != b[i].Reason ||
			a[i].Message != b[i].Message || !a[i].LastTransitionTime.Equal(&b[i].LastTransitionTime) {
			return false
		}
	}
	return true
}
