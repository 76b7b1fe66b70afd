package namespace

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestDeletionFinalizers(t *testing.T) {
	orphan, foreground := metav1.FinalizerOrphanDependents, metav1.FinalizerDeleteDependents
	tests := []struct {
		name       string
		finalizers []string
		options    metav1.DeleteOptions
		want       []string
	}{
		{name: "no options", finalizers: []string{"example.com/x"}, want: []string{"example.com/x"}},
		{name: "no options keep orphan", finalizers: []string{orphan}, want: []string{orphan}},
		{
			name:    "orphan policy",
			options: metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationOrphan)},
			want:    []string{orphan},
		},
		{
			name:       "foreground policy replaces orphan",
			finalizers: []string{"example.com/x", orphan},
			options:    metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)},
			want:       []string{"example.com/x", foreground},
		},
		{
			name:       "background policy drops both",
			finalizers: []string{orphan, foreground},
			options:    metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)},
			want:       []string{},
		},
		{
			name:       "orphanDependents=false wins over the policy",
			finalizers: []string{orphan},
			options:    metav1.DeleteOptions{OrphanDependents: ptr.To(false), PropagationPolicy: ptr.To(metav1.DeletePropagationOrphan)},
			want:       []string{foreground},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deletionFinalizers(tt.finalizers, &tt.options)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("finalizers (-want +got):\n%s", diff)
			}
		})
	}
}
