package validation_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strata-dev/strata/nucleus/validation"
	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

func TestQuotaResourceName(t *testing.T) {
	tests := []struct {
		name corev1.ResourceName
		want []string
	}{
		{name: "pods"},
		{name: "requests.cpu"},
		{name: "hugepages-2Mi"},
		{name: "requests.hugepages-1Gi"},
		{name: "count/deployments.apps"},
		{name: "example.com/gpu"},
		{name: "services.loadbalancers"},
		{name: "nodes", want: []string{"r: Invalid value", "r: Invalid value"}},
		{name: "limits.storage", want: []string{"r: Invalid value", "r: Invalid value"}},
		{name: "bad name!", want: []string{"r: Invalid value", "r: Invalid value"}},
	}
	for _, tt := range tests {
		got := validationtest.Summary(validation.QuotaResourceName(tt.name, field.NewPath("r")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestContainerResourceName(t *testing.T) {
	tests := []struct {
		name corev1.ResourceName
		want []string
	}{
		{name: "cpu"},
		{name: "ephemeral-storage"},
		{name: "hugepages-2Mi"},
		{name: "example.com/gpu"},
		{name: "kubernetes.io/something"},
		{name: "pods", want: []string{"r: Invalid value"}},
		{name: "requests.example.com/gpu", want: []string{"r: Invalid value"}},
	}
	for _, tt := range tests {
		got := validationtest.Summary(validation.ContainerResourceName(tt.name, field.NewPath("r")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestResourceQuantityValue(t *testing.T) {
	tests := []struct {
		name     corev1.ResourceName
		quantity string
		want     []string
	}{
		{name: "cpu", quantity: "500m"},
		{name: "cpu", quantity: "-1", want: []string{"q: Invalid value"}},
		{name: "pods", quantity: "10"},
		{name: "pods", quantity: "1500m", want: []string{"q: Invalid value"}},
		{name: "example.com/gpu", quantity: "500m", want: []string{"q: Invalid value"}},
		{name: "memory", quantity: "1.5Gi"},
	}
	for _, tt := range tests {
		got := validationtest.Summary(validation.ResourceQuantityValue(tt.name, resource.MustParse(tt.quantity), field.NewPath("q")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s=%s: (-want +got)\n%s", tt.name, tt.quantity, diff)
		}
	}
}

func TestPositiveQuantity(t *testing.T) {
	for q, wantErr := range map[string]bool{"1Gi": false, "0": true, "-1": true} {
		errs := validation.PositiveQuantity(resource.MustParse(q), field.NewPath("q"))
		if (len(errs) > 0) != wantErr {
			t.Errorf("%s: got %v, want error %v", q, errs, wantErr)
		}
	}
}

func TestAccessModes(t *testing.T) {
	tests := []struct {
		modes []corev1.PersistentVolumeAccessMode
		want  []string
	}{
		{modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany}},
		{modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}},
		{modes: nil, want: []string{"m: Required value"}},
		{modes: []corev1.PersistentVolumeAccessMode{"Sometimes"}, want: []string{"m: Unsupported value"}},
		{modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteMany}, want: []string{"m: Forbidden"}},
	}
	for _, tt := range tests {
		got := validationtest.Summary(validation.AccessModes(tt.modes, "", field.NewPath("m")))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v: (-want +got)\n%s", tt.modes, diff)
		}
	}
}
