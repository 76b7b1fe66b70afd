package node

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// maxNamesPerImage is upstream's MaxNamesPerImageInNodeStatus.
const maxNamesPerImage = 5

// NodeImages is status.images as upstream's kubelet reports it: the
// largest images first, at most max of them (all when max < 0), each named
// by its digests then its tags, at most five names. It is never nil, so
// that a node without images reports none.
func NodeImages(images []*runtimeapi.Image, max int) []corev1.ContainerImage {
	sorted := slices.Clone(images)
	slices.SortStableFunc(sorted, func(a, b *runtimeapi.Image) int {
		return cmp.Or(cmp.Compare(b.GetSize(), a.GetSize()), cmp.Compare(a.GetId(), b.GetId()))
	})
	if max >= 0 && len(sorted) > max {
		sorted = sorted[:max]
	}
	out := make([]corev1.ContainerImage, 0, len(sorted))
	for _, img := range sorted {
		names := append(slices.Clone(img.GetRepoDigests()), img.GetRepoTags()...)
		if len(names) > maxNamesPerImage {
			names = names[:maxNamesPerImage]
		}
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: int64(img.GetSize())})
	}
	return out
}
