package crdgroups

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func crd(group string, established bool, versions ...string) *apiextensionsv1.CustomResourceDefinition {
	c := &apiextensionsv1.CustomResourceDefinition{Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: group}}
	for _, v := range versions {
		c.Spec.Versions = append(c.Spec.Versions, apiextensionsv1.CustomResourceDefinitionVersion{Name: v, Served: true})
	}
	if established {
		c.Status.Conditions = []apiextensionsv1.CustomResourceDefinitionCondition{{Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue}}
	}
	return c
}

func TestGroups(t *testing.T) {
	got := Groups([]*apiextensionsv1.CustomResourceDefinition{
		crd("apps", true, "v1"),
		crd("batch", true, "v1"),
		crd("example.com", true, "v1beta1", "v1", "v1alpha1"),
		crd("example.com", true, "v2"),
		crd("pending.io", false, "v1"),
	})
	gv := func(g, v string) metav1.GroupVersionForDiscovery {
		return metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v}
	}
	want := map[string]metav1.APIGroup{
		"apps":  {Name: "apps", Versions: []metav1.GroupVersionForDiscovery{gv("apps", "v1")}, PreferredVersion: gv("apps", "v1")},
		"batch": {Name: "batch", Versions: []metav1.GroupVersionForDiscovery{gv("batch", "v1")}, PreferredVersion: gv("batch", "v1")},
		"example.com": {Name: "example.com", Versions: []metav1.GroupVersionForDiscovery{
			gv("example.com", "v2"), gv("example.com", "v1"), gv("example.com", "v1beta1"), gv("example.com", "v1alpha1"),
		}, PreferredVersion: gv("example.com", "v2")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
}
