/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// deploymentBuilder builds Deployments for tests:
// makeDeployment("web").Replicas(3).Obj() is valid once defaulted.
type deploymentBuilder struct{ d *stratav1.Deployment }

func makeDeployment(name string) *deploymentBuilder {
	return &deploymentBuilder{d: &stratav1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: "1"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(map[string]string{"app": name}),
		},
	}}
}

func (b *deploymentBuilder) Replicas(n int32) *deploymentBuilder {
	b.d.Spec.Replicas = &n
	return b
}

func (b *deploymentBuilder) Selector(sel *metav1.LabelSelector) *deploymentBuilder {
	b.d.Spec.Selector = sel
	return b
}

func (b *deploymentBuilder) TemplateLabels(l map[string]string) *deploymentBuilder {
	b.d.Spec.Template.Labels = l
	return b
}

func (b *deploymentBuilder) Strategy(s appsv1.DeploymentStrategy) *deploymentBuilder {
	b.d.Spec.Strategy = s
	return b
}

func (b *deploymentBuilder) Tweak(f func(*stratav1.Deployment)) *deploymentBuilder {
	f(b.d)
	return b
}

// Obj returns the Deployment as built.
func (b *deploymentBuilder) Obj() *stratav1.Deployment { return b.d }

// Defaulted returns the Deployment with the defaulter's defaults applied.
func (b *deploymentBuilder) Defaulted() *stratav1.Deployment {
	d := b.d.DeepCopy()
	DefaultDeployment(d)
	return d
}

type replicaSetBuilder struct{ rs *stratav1.ReplicaSet }

func makeReplicaSet(name string) *replicaSetBuilder {
	return &replicaSetBuilder{rs: &stratav1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: "1"},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(map[string]string{"app": name}),
		},
	}}
}

func (b *replicaSetBuilder) Replicas(n int32) *replicaSetBuilder {
	b.rs.Spec.Replicas = &n
	return b
}

func (b *replicaSetBuilder) Tweak(f func(*stratav1.ReplicaSet)) *replicaSetBuilder {
	f(b.rs)
	return b
}

func (b *replicaSetBuilder) Obj() *stratav1.ReplicaSet { return b.rs }

func (b *replicaSetBuilder) Defaulted() *stratav1.ReplicaSet {
	rs := b.rs.DeepCopy()
	DefaultReplicaSet(rs)
	return rs
}

func podTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
	}
}

// errorStrings renders errors the way clients print each cause.
func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}
