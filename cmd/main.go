/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Command main is the manager of the layers you scaffold with kubebuilder
// (docs/write-your-own-layer.md): `strata manager` with one more layer.
//
// kubebuilder's go/v4 plugin edits this file at its +kubebuilder:scaffold
// markers: `create api` adds the import and the AddToScheme call of each API
// it creates to addToScheme, and the setup of its controller to setup;
// `create webhook` adds the setup of the webhooks to setup. The kinds
// addToScheme registers make one layer, named after their groups
// (manager.LayerOf: example.strata.io → example), which this command runs
// beside Strata's own layers:
//
//	go run ./cmd --layers example --kubeconfig .data/admin.kubeconfig \
//		--webhook-host 127.0.0.1 --webhook-url https://127.0.0.1:9443
//	make run LAYERS=example    # the same, with the CRDs installed first
//
// Before kubebuilder has scaffolded a kind, it runs Strata's layers only.
// kubebuilder's setup lines end the process (os.Exit) when a controller or
// webhook cannot be set up, after logging why through setupLog.
package main

import (
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/component-base/cli"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/strata-dev/strata/manager"
	"github.com/strata-dev/strata/manager/command"
	_ "github.com/strata-dev/strata/manager/layers" // Strata's own layers
	// +kubebuilder:scaffold:imports
)

// setupLog is where kubebuilder's setup lines report what failed.
var setupLog = ctrl.Log.WithName("setup")

// addToScheme adds the Go types of the scaffolded kinds to scheme.
func addToScheme(scheme *runtime.Scheme) error {
	// +kubebuilder:scaffold:scheme
	return nil
}

// setup adds the scaffolded controllers and webhooks to mgr.
func setup(mgr ctrl.Manager) error {
	// +kubebuilder:scaffold:builder
	return nil
}

func main() {
	layer, ok, err := manager.LayerOf(addToScheme, setup)
	utilruntime.Must(err)
	if ok {
		manager.Register(layer)
	}
	os.Exit(cli.Run(command.New()))
}
