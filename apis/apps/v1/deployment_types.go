/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Deployment enables declarative updates for Pods and ReplicaSets. Its spec
// and status are upstream's apps/v1 DeploymentSpec and DeploymentStatus.
//
// The status has one field upstream's has not: selector, spec.selector in
// string form. A CRD's scale subresource can only take the label selector
// from a string field (labelSelectorPath), and HorizontalPodAutoscalers need
// it; upstream's API server computes it for the Scale object instead.
// Clients decoding into k8s.io/api types ignore the extra field.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=deploy,categories=all
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`,description="Ready replicas (upstream prints ready/desired, which a CRD column cannot compute)"
// +kubebuilder:printcolumn:name="Up-to-date",type=integer,JSONPath=`.status.updatedReplicas`,description="Replicas running the current template"
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.availableReplicas`,description="Replicas available for at least minReadySeconds"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Containers",type=string,JSONPath=`.spec.template.spec.containers[*].name`,priority=1
// +kubebuilder:printcolumn:name="Images",type=string,JSONPath=`.spec.template.spec.containers[*].image`,priority=1
type Deployment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Specification of the desired behavior of the Deployment.
	// +optional
	Spec appsv1.DeploymentSpec `json:"spec,omitempty"`

	// Most recently observed status of the Deployment.
	// +optional
	Status DeploymentStatus `json:"status,omitempty"`
}

// DeploymentStatus is upstream's apps/v1 DeploymentStatus plus the label
// selector in string form, for the scale subresource.
type DeploymentStatus struct {
	appsv1.DeploymentStatus `json:",inline"`

	// Selector is spec.selector serialized as a label selector string
	// (metav1.FormatLabelSelector), set by the deployment controller.
	// +optional
	Selector string `json:"selector,omitempty"`
}

// DeploymentList is a list of Deployments.
//
// +kubebuilder:object:root=true
type DeploymentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of Deployments.
	Items []Deployment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Deployment{}, &DeploymentList{})
}
