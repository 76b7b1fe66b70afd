/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	stratav1 "github.com/strata-dev/strata/apis/apps/v1"
	"github.com/strata-dev/strata/nucleus/defaults"
)

// Upstream's apps/v1 defaults (pkg/apis/apps/v1/defaults.go).
const (
	defaultReplicas                = 1
	defaultRevisionHistoryLimit    = 10
	defaultProgressDeadlineSeconds = 600
	defaultMaxUnavailable          = "25%"
	defaultMaxSurge                = "25%"
)

// DefaultDeployment applies upstream's apps/v1 Deployment defaults: one
// replica, a RollingUpdate strategy with 25% surge and 25% unavailability
// (a Recreate strategy gets no rollingUpdate), a revision history of 10 and
// a progress deadline of 600 seconds, and the pod defaults of the template.
// Unlike the deprecated extensions/v1beta1, apps/v1 does not default the
// selector from the template's labels.
func DefaultDeployment(d *stratav1.Deployment) {
	spec := &d.Spec
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](defaultReplicas)
	}
	strategy := &spec.Strategy
	if strategy.Type == "" {
		strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if strategy.RollingUpdate == nil {
			strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if strategy.RollingUpdate.MaxUnavailable == nil {
			strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString(defaultMaxUnavailable))
		}
		if strategy.RollingUpdate.MaxSurge == nil {
			strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString(defaultMaxSurge))
		}
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](defaultRevisionHistoryLimit)
	}
	if spec.ProgressDeadlineSeconds == nil {
		spec.ProgressDeadlineSeconds = ptr.To[int32](defaultProgressDeadlineSeconds)
	}
	defaults.PodTemplateSpec(&spec.Template)
}

// DefaultReplicaSet applies upstream's apps/v1 ReplicaSet defaults: one
// replica, and the pod defaults of the template.
func DefaultReplicaSet(rs *stratav1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To[int32](defaultReplicas)
	}
	defaults.PodTemplateSpec(&rs.Spec.Template)
}
