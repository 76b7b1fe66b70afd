/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package crdserving

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/fake"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func makeCRD(name string, served ...bool) *apiextensionsv1.CustomResourceDefinition {
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: name}}
	crd.Spec.Group = "apps"
	crd.Spec.Names.Plural = "deployments"
	for i, s := range served {
		crd.Spec.Versions = append(crd.Spec.Versions, apiextensionsv1.CustomResourceDefinitionVersion{
			Name: []string{"v1", "v1beta2", "v1beta1"}[i], Served: s, Storage: i == 0,
		})
	}
	return crd
}

func servedOf(crd *apiextensionsv1.CustomResourceDefinition) []bool {
	var out []bool
	for _, v := range crd.Spec.Versions {
		out = append(out, v.Served)
	}
	return out
}

func TestWithServed(t *testing.T) {
	tests := []struct {
		name        string
		versions    []bool
		served      bool
		wantChanged []string
		wantServed  []bool
	}{
		{"unserve one served version", []bool{true}, false, []string{"v1"}, []bool{false}},
		{"unserve only what is served", []bool{true, false, true}, false, []string{"v1", "v1beta1"}, []bool{false, false, false}},
		{"already unserved", []bool{false, false}, false, nil, []bool{false, false}},
		{"serve again", []bool{false, false}, true, []string{"v1", "v1beta2"}, []bool{true, true}},
		{"already served", []bool{true}, true, nil, []bool{true}},
		{"no versions", nil, false, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			crd := makeCRD("deployments.apps", tc.versions...)
			if diff := cmp.Diff(tc.wantChanged, WithServed(crd, tc.served)); diff != "" {
				t.Errorf("changed versions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantServed, servedOf(crd)); diff != "" {
				t.Errorf("served flags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithoutManager(t *testing.T) {
	entry := func(manager string, op metav1.ManagedFieldsOperationType) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, APIVersion: "apiextensions.k8s.io/v1"}
	}
	helmApply := entry("helm", metav1.ManagedFieldsOperationApply)
	status := entry("strata", metav1.ManagedFieldsOperationUpdate)
	tests := []struct {
		name   string
		fields []metav1.ManagedFieldsEntry
		want   []metav1.ManagedFieldsEntry
	}{
		{"drops the update entry", []metav1.ManagedFieldsEntry{helmApply, entry(FieldManager, metav1.ManagedFieldsOperationUpdate), status},
			[]metav1.ManagedFieldsEntry{helmApply, status}},
		{"keeps an apply entry of the same name", []metav1.ManagedFieldsEntry{entry(FieldManager, metav1.ManagedFieldsOperationApply)},
			[]metav1.ManagedFieldsEntry{entry(FieldManager, metav1.ManagedFieldsOperationApply)}},
		{"nothing to drop", []metav1.ManagedFieldsEntry{helmApply}, []metav1.ManagedFieldsEntry{helmApply}},
		{"empty", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]metav1.ManagedFieldsEntry(nil), tc.fields...)
			if diff := cmp.Diff(tc.want, WithoutManager(tc.fields, FieldManager)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.fields); diff != "" {
				t.Errorf("the input was changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestSetServed(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(makeCRD("deployments.apps", true, true))
	crds := client.ApiextensionsV1().CustomResourceDefinitions()

	steps := []struct {
		served     bool
		name       string
		want       Outcome
		wantServed []bool
	}{
		{false, "deployments.apps", Changed, []bool{false, false}},
		{false, "deployments.apps", Unchanged, []bool{false, false}},
		{true, "deployments.apps", Changed, []bool{true, true}},
		{false, "replicasets.apps", NotFound, nil},
	}
	for _, s := range steps {
		got, err := SetServed(ctx, crds, s.name, s.served)
		if err != nil {
			t.Fatalf("SetServed(%s, %t): %v", s.name, s.served, err)
		}
		if got != s.want {
			t.Errorf("SetServed(%s, %t) = %q, want %q", s.name, s.served, got, s.want)
		}
		if s.want == NotFound {
			continue
		}
		crd, err := crds.Get(ctx, s.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s.wantServed, servedOf(crd)); diff != "" {
			t.Errorf("after SetServed(%s, %t), served (-want +got):\n%s", s.name, s.served, diff)
		}
	}
}

func TestResourceOf(t *testing.T) {
	got := ResourceOf(makeCRD("deployments.apps", true, false))
	want := Resource{GroupVersions: []string{"apps/v1", "apps/v1beta2"}, Plural: "deployments"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
