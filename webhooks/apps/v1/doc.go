/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package v1 holds the admission webhooks of Strata's apps/v1 kinds,
// Deployment and ReplicaSet: what kube-apiserver does in-process for its
// built-in apps/v1 resources, done here for the custom resources of
// apis/apps/v1.
//
// The defaulters apply upstream's SetDefaults_Deployment and
// SetDefaults_ReplicaSet (pkg/apis/apps/v1) plus the pod defaults of the
// template; the validators apply upstream's ValidateDeployment,
// ValidateReplicaSet and their update variants (pkg/apis/apps/validation),
// with upstream's field paths and messages, and deny with a 422 Invalid
// status so clients print what they would print against kube-apiserver.
//
// Import it as appswebhooks:
//
//	appswebhooks "github.com/strata-dev/strata/webhooks/apps/v1"
package v1
