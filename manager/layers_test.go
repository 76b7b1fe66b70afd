/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package manager

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
	ctrl "sigs.k8s.io/controller-runtime"
)

// register returns an addToScheme that registers kinds of gv the way a
// kubebuilder API package does: objects, their lists, and the meta types
// of metav1.AddToGroupVersion.
func register(gv schema.GroupVersion, kinds ...string) func(*runtime.Scheme) error {
	return func(s *runtime.Scheme) error {
		for _, k := range kinds {
			s.AddKnownTypeWithName(gv.WithKind(k), &metav1.PartialObjectMetadata{})
			s.AddKnownTypeWithName(gv.WithKind(k+"List"), &metav1.PartialObjectMetadataList{})
		}
		metav1.AddToGroupVersion(s, gv)
		return nil
	}
}

func TestLayerOf(t *testing.T) {
	example := schema.GroupVersion{Group: "example.strata.io", Version: "v1alpha1"}
	batch := schema.GroupVersion{Group: "batch", Version: "v1"}
	both := func(s *runtime.Scheme) error {
		if err := register(example, "Widget")(s); err != nil {
			return err
		}
		return register(batch, "Job", "CronJob")(s)
	}
	for _, tt := range []struct {
		name        string
		addToScheme func(*runtime.Scheme) error
		want        Layer
		wantOK      bool
		wantErr     bool
	}{
		{"nothing scaffolded", func(*runtime.Scheme) error { return nil }, Layer{}, false, false},
		{"one kind", register(example, "Widget"), Layer{
			Name:   "example",
			Groups: []string{"example.strata.io"},
			Kinds:  []schema.GroupVersionKind{example.WithKind("Widget")},
		}, true, false},
		{"two groups", both, Layer{
			Name:   "batch-example",
			Groups: []string{"batch", "example.strata.io"},
			Kinds:  []schema.GroupVersionKind{batch.WithKind("CronJob"), batch.WithKind("Job"), example.WithKind("Widget")},
		}, true, false},
		{"a failing AddToScheme", func(*runtime.Scheme) error { return errors.New("boom") }, Layer{}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			setup := func(ctrl.Manager) error { return nil }
			got, ok, err := LayerOf(tt.addToScheme, setup)
			if (err != nil) != tt.wantErr || ok != tt.wantOK {
				t.Fatalf("LayerOf: ok %t, err %v; want ok %t, error %t", ok, err, tt.wantOK, tt.wantErr)
			}
			if ok && (got.AddToScheme == nil || got.Setup == nil) {
				t.Errorf("the layer lacks its AddToScheme or Setup")
			}
			got.AddToScheme, got.Setup = nil, nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("layer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMissingKinds(t *testing.T) {
	dc := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{{
		GroupVersion: "apps/v1",
		APIResources: []metav1.APIResource{
			{Name: "deployments", Kind: "Deployment"},
			{Name: "replicasets/scale", Kind: "Scale", Group: "autoscaling", Version: "v1"},
		},
	}}}}
	apps := schema.GroupVersion{Group: "apps", Version: "v1"}
	layers := []Layer{
		{Name: "apps", Kinds: []schema.GroupVersionKind{apps.WithKind("Deployment"), apps.WithKind("ReplicaSet"), apps.WithKind("Scale")}},
		{Name: "example", Kinds: []schema.GroupVersionKind{{Group: "example.strata.io", Version: "v1alpha1", Kind: "Widget"}}},
	}
	got, err := missingKinds(dc, layers)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apps/v1 ReplicaSet", "apps/v1 Scale", "example.strata.io/v1alpha1 Widget"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("missing kinds (-want +got):\n%s", diff)
	}
}
