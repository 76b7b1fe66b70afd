package limitranger

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rl(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return l
}

func limitRange(items ...corev1.LimitRangeItem) *corev1.LimitRange {
	return &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr"}, Spec: corev1.LimitRangeSpec{Limits: items}}
}

func podWith(res ...corev1.ResourceRequirements) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	for i, r := range res {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: string(rune('a' + i)), Resources: r})
	}
	return p
}

func TestApplyDefaults(t *testing.T) {
	tests := []struct {
		name           string
		item           corev1.LimitRangeItem
		in             corev1.ResourceRequirements
		want           corev1.ResourceRequirements
		wantAnnotation string
	}{
		{
			name:           "defaults fill empty container",
			item:           corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "500m"), DefaultRequest: rl("cpu", "100m")},
			want:           corev1.ResourceRequirements{Limits: rl("cpu", "500m"), Requests: rl("cpu", "100m")},
			wantAnnotation: "LimitRanger plugin set: cpu request for container a; cpu limit for container a",
		},
		{
			name:           "default request falls back to default limit, then max",
			item:           corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("memory", "1Gi")},
			want:           corev1.ResourceRequirements{Limits: rl("memory", "1Gi"), Requests: rl("memory", "1Gi")},
			wantAnnotation: "LimitRanger plugin set: memory request for container a; memory limit for container a",
		},
		{
			name: "what the container states is kept",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "500m"), DefaultRequest: rl("cpu", "100m")},
			in:   corev1.ResourceRequirements{Limits: rl("cpu", "2"), Requests: rl("cpu", "1")},
			want: corev1.ResourceRequirements{Limits: rl("cpu", "2"), Requests: rl("cpu", "1")},
		},
		{
			name: "pod items set no defaults",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "1")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith(tc.in)
			ApplyDefaults(limitRange(tc.item), pod)
			if diff := cmp.Diff(tc.want, pod.Spec.Containers[0].Resources); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
			if got := pod.Annotations[AnnotationKey]; got != tc.wantAnnotation {
				t.Errorf("annotation %q, want %q", got, tc.wantAnnotation)
			}
		})
	}
}

func TestValidatePod(t *testing.T) {
	tests := []struct {
		name string
		item corev1.LimitRangeItem
		pod  *corev1.Pod
		want []string
	}{
		{
			name: "within limits",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m"), Max: rl("cpu", "1")},
			pod:  podWith(corev1.ResourceRequirements{Requests: rl("cpu", "200m"), Limits: rl("cpu", "1")}),
		},
		{
			name: "over max",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "1")},
			pod:  podWith(corev1.ResourceRequirements{Limits: rl("cpu", "2")}),
			want: []string{"maximum cpu usage per Container is 1, but limit is 2"},
		},
		{
			name: "no limit under a max",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("memory", "1Gi")},
			pod:  podWith(corev1.ResourceRequirements{}),
			want: []string{"maximum memory usage per Container is 1Gi.  No limit is specified"},
		},
		{
			name: "under min",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "500m")},
			pod:  podWith(corev1.ResourceRequirements{Requests: rl("cpu", "100m")}),
			want: []string{"minimum cpu usage per Container is 500m, but request is 100m"},
		},
		{
			name: "ratio exceeded",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: rl("cpu", "2")},
			pod:  podWith(corev1.ResourceRequirements{Requests: rl("cpu", "100m"), Limits: rl("cpu", "1")}),
			want: []string{"cpu max limit to request ratio per Container is 2, but provided ratio is 10.000000"},
		},
		{
			name: "pod total over max",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "1")},
			pod: podWith(corev1.ResourceRequirements{Limits: rl("cpu", "600m"), Requests: rl("cpu", "600m")},
				corev1.ResourceRequirements{Limits: rl("cpu", "600m"), Requests: rl("cpu", "600m")}),
			want: []string{"maximum cpu usage per Pod is 1, but limit is 1200m"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, err := range ValidatePod(limitRange(tc.item), tc.pod) {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
