/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Command kubectl is the upstream kubectl, built from the k8s.io/kubectl
// module at the version go.mod pins. The module ships no main package, so
// this one does what upstream's cmd/kubectl does. The Makefile stamps the
// client version with
// -ldflags "-X k8s.io/component-base/version.gitVersion=v1.37.2".
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Register the client auth plugins (oidc) as upstream's kubectl does.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// Print the error the way kubectl does and exit non-zero.
		util.CheckErr(err)
	}
}
