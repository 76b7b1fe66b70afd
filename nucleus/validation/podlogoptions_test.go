package validation

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestValidatePodLogOptions(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name string
		opts corev1.PodLogOptions
		want []string
	}{
		{name: "valid", opts: corev1.PodLogOptions{TailLines: ptr.To[int64](0), LimitBytes: ptr.To[int64](1), SinceSeconds: ptr.To[int64](1), Stream: ptr.To("All")}},
		{name: "negative tail", opts: corev1.PodLogOptions{TailLines: ptr.To[int64](-1)},
			want: []string{"tailLines: Invalid value: -1: must be greater than or equal to 0"}},
		{name: "zero limit", opts: corev1.PodLogOptions{LimitBytes: ptr.To[int64](0)},
			want: []string{"limitBytes: Invalid value: 0: must be greater than 0"}},
		{name: "zero since", opts: corev1.PodLogOptions{SinceSeconds: ptr.To[int64](0)},
			want: []string{"sinceSeconds: Invalid value: 0: must be greater than 0"}},
		{name: "both since", opts: corev1.PodLogOptions{SinceSeconds: ptr.To[int64](1), SinceTime: &now},
			want: []string{"[]: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"}},
		{name: "stream with tail", opts: corev1.PodLogOptions{Stream: ptr.To("Stdout"), TailLines: ptr.To[int64](1)},
			want: []string{"[]: Forbidden: `tailLines` and specific `stream` are mutually exclusive for now"}},
		{name: "unknown stream", opts: corev1.PodLogOptions{Stream: ptr.To("Both")},
			want: []string{`stream: Unsupported value: "Both": supported values: "All", "Stderr", "Stdout"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range ValidatePodLogOptions(&tt.opts) {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
