/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package replicaset

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
)

const testNamespace = "default"

// t0 is the tests' current time.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type rsBuilder struct{ rs *stratav1.ReplicaSet }

// makeRS is a ReplicaSet selecting and labeling its pods app=<name>.
func makeRS(name string) *rsBuilder {
	return &rsBuilder{rs: &stratav1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNamespace, UID: types.UID("uid-" + name), Generation: 1,
		},
		Spec: appsReplicaSetSpec(name),
	}}
}

func (b *rsBuilder) Replicas(n int32) *rsBuilder { b.rs.Spec.Replicas = ptr.To(n); return b }
func (b *rsBuilder) NilReplicas() *rsBuilder     { b.rs.Spec.Replicas = nil; return b }
func (b *rsBuilder) MinReadySeconds(s int32) *rsBuilder {
	b.rs.Spec.MinReadySeconds = s
	return b
}
func (b *rsBuilder) Generation(g int64) *rsBuilder { b.rs.Generation = g; return b }
func (b *rsBuilder) TemplateLabels(l map[string]string) *rsBuilder {
	b.rs.Spec.Template.Labels = l
	return b
}
func (b *rsBuilder) Deleting() *rsBuilder {
	b.rs.DeletionTimestamp = &metav1.Time{Time: t0}
	b.rs.Finalizers = []string{"test/keep"}
	return b
}
func (b *rsBuilder) ControlledBy(uid types.UID) *rsBuilder {
	b.rs.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "Deployment", Name: "owner", UID: uid, Controller: ptr.To(true),
	}}
	return b
}
func (b *rsBuilder) Status(mutate func(*stratav1.ReplicaSetStatus)) *rsBuilder {
	mutate(&b.rs.Status)
	return b
}
func (b *rsBuilder) Obj() *stratav1.ReplicaSet { return b.rs.DeepCopy() }

type podBuilder struct{ pod *corev1.Pod }

// makePod is a Pending, unscheduled pod without labels or owner.
func makePod(name string) *podBuilder {
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}}
}

func (b *podBuilder) Labels(kv ...string) *podBuilder {
	b.pod.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		b.pod.Labels[kv[i]] = kv[i+1]
	}
	return b
}

// For labels the pod app=<rs name> and makes rs its controller.
func (b *podBuilder) For(rs *stratav1.ReplicaSet) *podBuilder {
	return b.Labels("app", rs.Name).OwnedBy(rs)
}
func (b *podBuilder) OwnedBy(rs *stratav1.ReplicaSet) *podBuilder {
	b.pod.OwnerReferences = []metav1.OwnerReference{*controllerRef(rs)}
	return b
}
func (b *podBuilder) ControlledByOther() *podBuilder {
	b.pod.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "StatefulSet", Name: "other", UID: "uid-other", Controller: ptr.To(true),
	}}
	return b
}
func (b *podBuilder) Node(n string) *podBuilder { b.pod.Spec.NodeName = n; return b }
func (b *podBuilder) Phase(p corev1.PodPhase) *podBuilder {
	b.pod.Status.Phase = p
	return b
}

// Running schedules the pod on node-1 and runs it, not ready.
func (b *podBuilder) Running() *podBuilder {
	if b.pod.Spec.NodeName == "" {
		b.pod.Spec.NodeName = "node-1"
	}
	return b.Phase(corev1.PodRunning)
}

// ReadySince runs the pod and makes it Ready since t.
func (b *podBuilder) ReadySince(t time.Time) *podBuilder {
	b.Running()
	b.pod.Status.Conditions = append(b.pod.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t),
	})
	return b
}
func (b *podBuilder) Created(t time.Time) *podBuilder {
	b.pod.CreationTimestamp = metav1.NewTime(t)
	return b
}
func (b *podBuilder) Restarts(n int32) *podBuilder {
	b.pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: n}}
	return b
}
func (b *podBuilder) SidecarRestarts(n int32) *podBuilder {
	b.pod.Spec.InitContainers = []corev1.Container{{Name: "side", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
	b.pod.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "side", RestartCount: n}}
	return b
}
func (b *podBuilder) DeletionCost(c int) *podBuilder {
	if b.pod.Annotations == nil {
		b.pod.Annotations = map[string]string{}
	}
	b.pod.Annotations[podDeletionCostAnnotation] = strconv.Itoa(c)
	return b
}
func (b *podBuilder) Deleting() *podBuilder {
	b.pod.DeletionTimestamp = &metav1.Time{Time: t0}
	b.pod.Finalizers = []string{"test/keep"}
	return b
}
func (b *podBuilder) ResourceVersion(rv string) *podBuilder {
	b.pod.ResourceVersion = rv
	return b
}
func (b *podBuilder) Obj() *corev1.Pod { return b.pod.DeepCopy() }

func podNames(pods []*corev1.Pod) []string {
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, p.Name)
	}
	return names
}

func appsReplicaSetSpec(name string) appsv1.ReplicaSetSpec {
	return appsv1.ReplicaSetSpec{
		Replicas: ptr.To(int32(1)),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{
				Labels:      map[string]string{"app": name, "tier": "web"},
				Annotations: map[string]string{"note": "from-template"},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}},
		},
	}
}
