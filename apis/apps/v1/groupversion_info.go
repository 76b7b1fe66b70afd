/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package v1 holds the application layer's apps/v1 kinds. They are served by
// the nucleus as custom resources in the built-in group "apps"; their spec
// and status are upstream's k8s.io/api/apps/v1 types, so the JSON clients
// see is identical to a Kubernetes API server's.
// +kubebuilder:object:generate=true
// +groupName=apps
package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of these kinds.
	GroupVersion = schema.GroupVersion{Group: "apps", Version: "v1"}

	// SchemeBuilder registers the kinds with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this group version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
