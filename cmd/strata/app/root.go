// Package app defines the strata command and its subcommands.
package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strata-dev/strata/nucleus/version"
)

// NewRootCommand returns the strata command.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "strata",
		Short:         "Strata: a layered Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(newUpCommands()...)
	root.AddCommand(newNucleusCommand(), newControllerManagerCommand(), newManagerCommand(), newSchedulerCommand(), newKubeletCommand(), newProxyCommand(), newContainerdCommand(), newVersionCommand(), newKubeconfigCommand(), newCRDsCommand(), newImagesCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Kubernetes version Strata serves and Strata's own version",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), version.GitVersion())
			return nil
		},
	}
}
