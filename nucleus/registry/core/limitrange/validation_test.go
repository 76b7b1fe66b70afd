package limitrange

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

func list(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		limits []corev1.LimitRangeItem
		want   []string
	}{
		{
			name: "ordered container limits",
			limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer,
				Min:  list("cpu", "100m"), DefaultRequest: list("cpu", "200m"), Default: list("cpu", "500m"), Max: list("cpu", "1"),
				MaxLimitRequestRatio: list("cpu", "4"),
			}},
		},
		{
			name: "default above max",
			limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer, Default: list("memory", "2Gi"), Max: list("memory", "1Gi"),
			}},
			want: []string{"spec.limits[0].default[memory]: Invalid value"},
		},
		{
			name: "min above default request",
			limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer, Min: list("cpu", "1"), DefaultRequest: list("cpu", "500m"),
			}},
			want: []string{"spec.limits[0].defaultRequest[cpu]: Invalid value"},
		},
		{
			name: "default request above default",
			limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer, DefaultRequest: list("cpu", "2"), Default: list("cpu", "1"),
			}},
			want: []string{"spec.limits[0].defaultRequest[cpu]: Invalid value"},
		},
		{
			name: "min above max",
			limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypePod, Min: list("cpu", "2"), Max: list("cpu", "1"),
			}},
			want: []string{"spec.limits[0].min[cpu]: Invalid value"},
		},
		{
			name: "ratio below one and above max/min",
			limits: []corev1.LimitRangeItem{
				{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: list("cpu", "500m")},
				{Type: corev1.LimitTypePod, Min: list("memory", "1Gi"), Max: list("memory", "2Gi"), MaxLimitRequestRatio: list("memory", "3")},
			},
			want: []string{"spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value", "spec.limits[1].maxLimitRequestRatio[memory]: Invalid value"},
		},
		{
			name:   "pod defaults",
			limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypePod, Default: list("cpu", "1"), DefaultRequest: list("cpu", "1")}},
			want:   []string{"spec.limits[0].default: Forbidden", "spec.limits[0].defaultRequest: Forbidden"},
		},
		{
			name:   "duplicate and unknown types",
			limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer}, {Type: corev1.LimitTypeContainer}, {Type: "Node"}},
			want:   []string{"spec.limits[1].type: Duplicate value", "spec.limits[2].type: Invalid value"},
		},
		{
			name:   "claim without storage bounds",
			limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypePersistentVolumeClaim}},
			want:   []string{"spec.limits[0].limits: Required value"},
		},
		{
			name:   "claim storage",
			limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypePersistentVolumeClaim, Min: list("storage", "1Gi")}},
		},
		{
			name:   "not a container resource",
			limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer, Max: list("pods", "1")}},
			want:   []string{"spec.limits[0].max[pods]: Invalid value"},
		},
		{
			name: "extended resources are not overcommitted",
			limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer, Default: list("example.com/gpu", "2"), DefaultRequest: list("example.com/gpu", "1"),
			}},
			want: []string{"spec.limits[0].defaultRequest[example.com/gpu]: Invalid value"},
		},
	}
	for _, tt := range tests {
		lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: tt.limits}}
		got := validationtest.Summary(Validate(lr))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestRow(t *testing.T) {
	created := metav1.Now()
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", CreationTimestamp: created}}
	if diff := cmp.Diff([]interface{}{"limits", created}, Definition.Row(lr)); diff != "" {
		t.Errorf("row (-want +got)\n%s", diff)
	}
}
