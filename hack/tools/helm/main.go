/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Command helm is the upstream Helm CLI, built from the helm.sh/helm/v4
// module at the version go.mod pins. The module's own main package lives in
// cmd/helm; this one does the same through the exported command constructor,
// so the version is the one go.mod pins and needs no separate download. The
// Makefile stamps the version with
// -ldflags "-X helm.sh/helm/v4/internal/version.version=v4.3.1".
package main

import (
	"errors"
	"log/slog"
	"os"

	helmcmd "helm.sh/helm/v4/pkg/cmd"
	"helm.sh/helm/v4/pkg/kube"

	// Register the client auth plugins (oidc) as upstream's helm does.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	// The field manager of server-side apply, fixed as upstream fixes it so
	// the binary's name does not leak into managedFields.
	kube.ManagedFieldsManager = "helm"

	command, err := helmcmd.NewRootCmd(os.Stdout, os.Args[1:], helmcmd.SetupLogging)
	if err != nil {
		slog.Warn("command failed", slog.Any("error", err))
		os.Exit(1)
	}
	if err := command.Execute(); err != nil {
		// Helm's commands choose their exit code (helm lint, helm test).
		if cerr, ok := errors.AsType[helmcmd.CommandError](err); ok {
			os.Exit(cerr.ExitCode)
		}
		os.Exit(1)
	}
}
