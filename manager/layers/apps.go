/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package layers registers the layers `strata manager` can run. Importing
// it registers them all.
package layers

import (
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/strata-dev/strata/manager"
	appswebhooks "github.com/strata-dev/strata/webhooks/apps/v1"
)

func init() {
	manager.Register(manager.Layer{
		Name:   "apps",
		Groups: []string{"apps"},
		CRDs:   []string{"deployments.apps", "replicasets.apps"},
		Setup:  setupApps,
	})
}

// setupApps adds the apps layer: the Deployment and ReplicaSet controllers
// and their defaulting and validating webhooks.
func setupApps(mgr ctrl.Manager) error {
	for _, setup := range []func(ctrl.Manager) error{
		appswebhooks.SetupDeploymentWebhookWithManager,
		appswebhooks.SetupReplicaSetWebhookWithManager,
	} {
		if err := setup(mgr); err != nil {
			return err
		}
	}
	return nil
}
