/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"
)

func TestComputeHashStable(t *testing.T) {
	// The hash names ReplicaSets: it must not change between releases of
	// Strata for the same k8s.io/api, or every Deployment would roll out
	// on upgrade. (Like upstream's, it does change when PodSpec gains
	// fields; then these values are updated with the k8s.io/api bump.)
	template := makeDeployment("web").Obj().Spec.Template
	tests := []struct {
		name           string
		collisionCount *int32
		want           string
	}{
		{name: "no collisions", want: "6d468f77cb"},
		{name: "one collision", collisionCount: ptr.To[int32](1), want: "c44974845"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 {
				if got := computeHash(&template, tt.collisionCount); got != tt.want {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestComputeHashProperties(t *testing.T) {
	template := makeDeployment("web").Obj().Spec.Template
	base := computeHash(&template, nil)

	// Copies and equal values behind other pointers hash the same.
	copied := template.DeepCopy()
	copied.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	other := template.DeepCopy()
	other.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	if computeHash(copied, nil) != computeHash(other, nil) {
		t.Error("equal templates behind different pointers hash differently")
	}

	// Map order does not matter.
	a := template.DeepCopy()
	a.Labels = map[string]string{"x": "1", "y": "2", "app": "web"}
	b := template.DeepCopy()
	b.Labels = map[string]string{"app": "web", "y": "2", "x": "1"}
	if computeHash(a, nil) != computeHash(b, nil) {
		t.Error("label order changes the hash")
	}

	// Any change of the template, or of the collision count, changes it.
	changed := template.DeepCopy()
	changed.Spec.Containers[0].Image = "nginx:2"
	seen := map[string]string{base: "base"}
	for name, h := range map[string]string{
		"image":             computeHash(changed, nil),
		"collision count 0": computeHash(&template, ptr.To[int32](0)),
		"collision count 1": computeHash(&template, ptr.To[int32](1)),
		"collision count 2": computeHash(&template, ptr.To[int32](2)),
	} {
		if prev, dup := seen[h]; dup {
			t.Errorf("%s hashes like %s: %s", name, prev, h)
		}
		seen[h] = name
	}

	// Safe for names and label values: no vowels, no 0, 1 or 3.
	for h := range seen {
		if strings.ContainsAny(h, "aeiou013") {
			t.Errorf("hash %q has unsafe characters", h)
		}
	}
}

func TestNewReplicaSetFor(t *testing.T) {
	d := makeDeployment("web").Obj()
	rs := newReplicaSetFor(d)
	hash := computeHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash {
		t.Errorf("name %q", rs.Name)
	}
	for what, labels := range map[string]map[string]string{
		"labels":          rs.Labels,
		"template labels": rs.Spec.Template.Labels,
		"selector":        rs.Spec.Selector.MatchLabels,
	} {
		if labels["pod-template-hash"] != hash || labels["app"] != "web" {
			t.Errorf("%s: %v", what, labels)
		}
	}
	if _, ok := d.Spec.Template.Labels["pod-template-hash"]; ok {
		t.Error("the Deployment's template was changed")
	}
	if _, ok := d.Spec.Selector.MatchLabels["pod-template-hash"]; ok {
		t.Error("the Deployment's selector was changed")
	}
	ref := rs.OwnerReferences[0]
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "web" || ref.UID != d.UID || !*ref.Controller || !*ref.BlockOwnerDeletion {
		t.Errorf("owner reference %+v", ref)
	}
	if !equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
		t.Error("the template differs from the Deployment's beyond the hash label")
	}
}
