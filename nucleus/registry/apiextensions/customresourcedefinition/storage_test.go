package customresourcedefinition

import (
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestAdmitBuiltinGroup(t *testing.T) {
	dotless := field.Invalid(field.NewPath("spec", "group"), "x", dotlessGroupDetail)
	other := field.Required(field.NewPath("spec", "names", "plural"), "")
	tests := []struct {
		group string
		want  int
	}{
		{group: "apps", want: 1},
		{group: "batch", want: 1},
		{group: "autoscaling", want: 1},
		{group: "policy", want: 1},
		{group: "foo", want: 2},
	}
	for _, tt := range tests {
		crd := &apiextensions.CustomResourceDefinition{Spec: apiextensions.CustomResourceDefinitionSpec{Group: tt.group}}
		got := AdmitBuiltinGroup(crd, field.ErrorList{dotless, other})
		if len(got) != tt.want {
			t.Errorf("group %q: got errors %v, want %d", tt.group, got, tt.want)
		}
		if got[len(got)-1] != other {
			t.Errorf("group %q: unrelated error dropped: %v", tt.group, got)
		}
	}
}
