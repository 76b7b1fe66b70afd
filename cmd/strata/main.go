// Command strata runs the parts of a Strata cluster.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	"github.com/strata-dev/strata/cmd/strata/app"
)

func main() {
	os.Exit(cli.Run(app.NewRootCommand()))
}
