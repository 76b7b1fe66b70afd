package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestNodeImages(t *testing.T) {
	img := func(id string, size uint64, digests, tags []string) *runtimeapi.Image {
		return &runtimeapi.Image{Id: id, Size: size, RepoDigests: digests, RepoTags: tags}
	}
	busybox := img("sha256:b", 1000, []string{"strata.local/busybox@sha256:b"}, []string{"strata.local/busybox:1.35.0"})
	pause := img("sha256:p", 10, nil, []string{"strata.local/pause:3.10"})
	big := img("sha256:g", 5000, []string{"d1", "d2", "d3"}, []string{"t1", "t2", "t3"})
	tests := []struct {
		name   string
		images []*runtimeapi.Image
		max    int
		want   []corev1.ContainerImage
	}{
		{name: "none", want: []corev1.ContainerImage{}},
		{
			name:   "largest first, digests then tags",
			images: []*runtimeapi.Image{pause, busybox},
			max:    50,
			want: []corev1.ContainerImage{
				{Names: []string{"strata.local/busybox@sha256:b", "strata.local/busybox:1.35.0"}, SizeBytes: 1000},
				{Names: []string{"strata.local/pause:3.10"}, SizeBytes: 10},
			},
		},
		{
			name:   "at most max images, at most five names",
			images: []*runtimeapi.Image{pause, busybox, big},
			max:    2,
			want: []corev1.ContainerImage{
				{Names: []string{"d1", "d2", "d3", "t1", "t2"}, SizeBytes: 5000},
				{Names: []string{"strata.local/busybox@sha256:b", "strata.local/busybox:1.35.0"}, SizeBytes: 1000},
			},
		},
		{name: "max -1 is all", images: []*runtimeapi.Image{pause, busybox, big}, max: -1, want: NodeImages([]*runtimeapi.Image{big, busybox, pause}, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NodeImages(tt.images, tt.max)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NodeImages (-want +got):\n%s", diff)
			}
		})
	}
}
