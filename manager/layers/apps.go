/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package layers registers the layers `strata manager` can run. Importing
// it registers them all.
package layers

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"

	appsv1 "github.com/strata-dev/strata/apis/apps/v1"

	"github.com/strata-dev/strata/controllers/apps/deployment"
	"github.com/strata-dev/strata/controllers/apps/replicaset"
	"github.com/strata-dev/strata/manager"
	appswebhooks "github.com/strata-dev/strata/webhooks/apps/v1"
)

func init() {
	manager.Register(manager.Layer{
		Name:   "apps",
		Groups: []string{"apps"},
		Kinds:  []schema.GroupVersionKind{appsv1.GroupVersion.WithKind("Deployment"), appsv1.GroupVersion.WithKind("ReplicaSet")},
		Setup:  setupApps,
	})
}

// setupApps adds the apps layer: the Deployment and ReplicaSet controllers
// and their defaulting and validating webhooks.
func setupApps(mgr ctrl.Manager) error {
	for _, setup := range []func(ctrl.Manager) error{
		(&replicaset.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("replicaset-controller")}).SetupWithManager,
		(&deployment.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("deployment-controller")}).SetupWithManager,
		appswebhooks.SetupDeploymentWebhookWithManager,
		appswebhooks.SetupReplicaSetWebhookWithManager,
	} {
		if err := setup(mgr); err != nil {
			return err
		}
	}
	return nil
}
