/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

package v1

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReplicaSet ensures that a specified number of pod replicas are running at
// any given time. Its spec is upstream's apps/v1 ReplicaSetSpec; its status
// is upstream's ReplicaSetStatus plus the selector string of the scale
// subresource (see Deployment).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=rs,categories=all
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.spec.replicas`,description="Number of desired pods"
// +kubebuilder:printcolumn:name="Current",type=integer,JSONPath=`.status.replicas`,description="Number of pods created"
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`,description="Number of ready pods"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Containers",type=string,JSONPath=`.spec.template.spec.containers[*].name`,priority=1
// +kubebuilder:printcolumn:name="Images",type=string,JSONPath=`.spec.template.spec.containers[*].image`,priority=1
// +kubebuilder:printcolumn:name="Selector",type=string,JSONPath=`.status.selector`,priority=1
type ReplicaSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec defines the desired behavior of the ReplicaSet.
	// +optional
	Spec appsv1.ReplicaSetSpec `json:"spec,omitempty"`

	// Status is the most recently observed status of the ReplicaSet.
	// +optional
	Status ReplicaSetStatus `json:"status,omitempty"`
}

// ReplicaSetStatus is upstream's apps/v1 ReplicaSetStatus plus the label
// selector in string form, for the scale subresource.
type ReplicaSetStatus struct {
	appsv1.ReplicaSetStatus `json:",inline"`

	// Selector is spec.selector serialized as a label selector string
	// (metav1.FormatLabelSelector), set by the replicaset controller.
	// +optional
	Selector string `json:"selector,omitempty"`
}

// ReplicaSetList is a collection of ReplicaSets.
//
// +kubebuilder:object:root=true
type ReplicaSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items is the list of ReplicaSets.
	Items []ReplicaSet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ReplicaSet{}, &ReplicaSetList{})
}
