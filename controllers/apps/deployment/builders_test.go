/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package deployment

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

// t0 is the tests' epoch; whole seconds, as the API stores times.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type deploymentBuilder struct{ d *stratav1.Deployment }

// makeDeployment returns a RollingUpdate Deployment of 3 replicas with the
// API's defaults (25% surge and unavailability, history 10, deadline 600s).
func makeDeployment(name string) *deploymentBuilder {
	labels := map[string]string{"app": name}
	return &deploymentBuilder{d: &stratav1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:       name,
			Namespace:  "default",
			UID:        types.UID(name + "-uid"),
			Generation: 1,
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "nginx:1",
				}}},
			},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxSurge:       ptr.To(intstr.FromString("25%")),
					MaxUnavailable: ptr.To(intstr.FromString("25%")),
				},
			},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}}
}

func (b *deploymentBuilder) Replicas(n int32) *deploymentBuilder {
	b.d.Spec.Replicas = ptr.To(n)
	return b
}

// Rolling sets maxSurge and maxUnavailable (ints or percentages).
func (b *deploymentBuilder) Rolling(surge, unavailable intstr.IntOrString) *deploymentBuilder {
	b.d.Spec.Strategy = appsv1.DeploymentStrategy{
		Type:          appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
	}
	return b
}

func (b *deploymentBuilder) Recreate() *deploymentBuilder {
	b.d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	return b
}

func (b *deploymentBuilder) Image(image string) *deploymentBuilder {
	b.d.Spec.Template.Spec.Containers[0].Image = image
	return b
}

func (b *deploymentBuilder) Paused() *deploymentBuilder {
	b.d.Spec.Paused = true
	return b
}

func (b *deploymentBuilder) HistoryLimit(n int32) *deploymentBuilder {
	b.d.Spec.RevisionHistoryLimit = ptr.To(n)
	return b
}

func (b *deploymentBuilder) Deadline(seconds *int32) *deploymentBuilder {
	b.d.Spec.ProgressDeadlineSeconds = seconds
	return b
}

func (b *deploymentBuilder) Annotation(k, v string) *deploymentBuilder {
	if b.d.Annotations == nil {
		b.d.Annotations = map[string]string{}
	}
	b.d.Annotations[k] = v
	return b
}

// StatusCounts sets the replica counts of the status.
func (b *deploymentBuilder) StatusCounts(replicas, updated, ready, available int32) *deploymentBuilder {
	b.d.Status.Replicas = replicas
	b.d.Status.UpdatedReplicas = updated
	b.d.Status.ReadyReplicas = ready
	b.d.Status.AvailableReplicas = available
	return b
}

func (b *deploymentBuilder) Condition(c appsv1.DeploymentCondition) *deploymentBuilder {
	b.d.Status.Conditions = append(b.d.Status.Conditions, c)
	return b
}

func (b *deploymentBuilder) Obj() *stratav1.Deployment { return b.d.DeepCopy() }

type rsBuilder struct{ rs *stratav1.ReplicaSet }

// makeRS returns a ReplicaSet of the given size for the "web" Deployment's
// labels, created at t0.
func makeRS(name string, replicas int32) *rsBuilder {
	labels := map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: name}
	return &rsBuilder{rs: &stratav1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			Namespace:         "default",
			UID:               types.UID(name + "-uid"),
			Labels:            labels,
			CreationTimestamp: metav1.NewTime(t0),
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: name}}},
			},
		},
	}}
}

// Created sets the creation time to t0 plus the given seconds.
func (b *rsBuilder) Created(seconds int) *rsBuilder {
	b.rs.CreationTimestamp = metav1.NewTime(t0.Add(time.Duration(seconds) * time.Second))
	return b
}

// Available sets status.replicas to the size and ready/available replicas.
func (b *rsBuilder) Available(n int32) *rsBuilder {
	b.rs.Status.Replicas = *b.rs.Spec.Replicas
	b.rs.Status.ReadyReplicas = n
	b.rs.Status.AvailableReplicas = n
	return b
}

// SizedFor sets the desired-replicas and max-replicas annotations.
func (b *rsBuilder) SizedFor(desired, maxReplicas int32) *rsBuilder {
	b.annotate(DesiredReplicasAnnotation, strconv.Itoa(int(desired)))
	b.annotate(MaxReplicasAnnotation, strconv.Itoa(int(maxReplicas)))
	return b
}

func (b *rsBuilder) Revision(n int) *rsBuilder {
	b.annotate(RevisionAnnotation, strconv.Itoa(n))
	return b
}

func (b *rsBuilder) annotate(k, v string) {
	if b.rs.Annotations == nil {
		b.rs.Annotations = map[string]string{}
	}
	b.rs.Annotations[k] = v
}

func (b *rsBuilder) Obj() *stratav1.ReplicaSet { return b.rs.DeepCopy() }

// sizes returns the spec.replicas of ReplicaSets by name.
func sizes(rss []*stratav1.ReplicaSet) map[string]int32 {
	out := map[string]int32{}
	for _, rs := range rss {
		out[rs.Name] = specReplicas(rs)
	}
	return out
}
