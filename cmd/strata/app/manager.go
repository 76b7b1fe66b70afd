package app

import (
	"github.com/spf13/cobra"

	"github.com/strata-dev/strata/manager/command"
	// The layers it can run.
	_ "github.com/strata-dev/strata/manager/layers"
)

// newManagerCommand is `strata manager`, which runs Strata's own layers.
func newManagerCommand() *cobra.Command { return command.New() }
