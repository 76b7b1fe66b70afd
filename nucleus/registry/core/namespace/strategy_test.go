package namespace

import (
	"context"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return out
}

func TestPrepareForCreate(t *testing.T) {
	tests := []struct {
		name string
		in   corev1.Namespace
		want corev1.Namespace
	}{
		{
			name: "adds the kubernetes finalizer, phase and name label",
			in: corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{corev1.LabelMetadataName: "other"}},
				Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
			},
			want: corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{corev1.LabelMetadataName: "team-a"}},
				Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
				Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
			},
		},
		{
			name: "keeps other finalizers",
			in: corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: "b"},
				Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/x", corev1.FinalizerKubernetes}},
			},
			want: corev1.Namespace{
				ObjectMeta: metav1.ObjectMeta{Name: "b", Labels: map[string]string{corev1.LabelMetadataName: "b"}},
				Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/x", corev1.FinalizerKubernetes}},
				Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := tt.in.DeepCopy()
			prepareForCreate(context.Background(), ns)
			if diff := cmp.Diff(&tt.want, ns); diff != "" {
				t.Errorf("namespace (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateFinalizers(t *testing.T) {
	got := errorStrings(validateFinalizers([]corev1.FinalizerName{"kubernetes", "example.com/cleanup", "custom", "bad name/x"}))
	want := []string{
		`spec.finalizers[2]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified`,
		`spec.finalizers[3]: Invalid value: "bad name/x": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestValidateStatus(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name    string
		deleted bool
		phase   corev1.NamespacePhase
		want    []string
	}{
		{name: "active", phase: corev1.NamespaceActive},
		{name: "terminating while deleted", deleted: true, phase: corev1.NamespaceTerminating},
		{
			name:  "terminating without deletion",
			phase: corev1.NamespaceTerminating,
			want:  []string{"status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"},
		},
		{
			name:    "active while deleted",
			deleted: true,
			phase:   corev1.NamespaceActive,
			want:    []string{"status.Phase: Invalid value: \"Active\": may only be 'Terminating' if `deletionTimestamp` is not empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := &corev1.Namespace{Status: corev1.NamespaceStatus{Phase: tt.phase}}
			if tt.deleted {
				ns.DeletionTimestamp = &now
			}
			if diff := cmp.Diff(tt.want, errorStrings(validateStatus(ns))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
