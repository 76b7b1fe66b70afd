/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package scheme builds the runtime.Scheme of Strata's layer managers: the
// nucleus' built-in kinds from k8s.io/api, and the kinds the layers serve as
// custom resources from apis/.
//
// client-go's scheme cannot be used as is: it registers k8s.io/api's
// apps/v1 Deployment under the same group, version and kind as
// apis/apps/v1's, and a scheme maps each kind to one Go type. The groups
// the layers provide are therefore taken from apis/ only.
package scheme

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	appsv1 "github.com/strata-dev/strata/apis/apps/v1"
)

// New returns a scheme with the nucleus' built-in kinds and the layers' kinds.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		// Served by the nucleus.
		corev1.AddToScheme,
		coordinationv1.AddToScheme,
		discoveryv1.AddToScheme,
		eventsv1.AddToScheme,
		admissionregistrationv1.AddToScheme,
		authenticationv1.AddToScheme,
		authorizationv1.AddToScheme,
		autoscalingv1.AddToScheme,
		policyv1.AddToScheme,
		apiextensionsv1.AddToScheme,
		// Served by the layers, as custom resources.
		appsv1.AddToScheme,
	} {
		utilruntime.Must(add(s))
	}
	return s
}
