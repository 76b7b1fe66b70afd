package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/strata-dev/strata/kubelet/runtime/containerdenv"
	"github.com/strata-dev/strata/up"
)

func newImagesCommand() *cobra.Command {
	images := &cobra.Command{
		Use:   "images",
		Short: "Manage the images of the cluster of 'strata up'",
	}
	var (
		dataDir string
		timeout time.Duration
	)
	importCmd := &cobra.Command{
		Use:   "import ARCHIVE...",
		Short: "Import OCI or docker-save image archives into the containerd of 'strata up', where pods find them without a registry",
		Long: `Import image archives (an OCI layout tar, as 'go run ./hack/tools/images'
writes, or a 'docker save' archive) into the CRI namespace of the containerd
that 'strata up' runs for the cluster in --data-dir. Pods then use the
images without pulling them: give them a tag other than 'latest', or
imagePullPolicy IfNotPresent or Never. Each archive's images are listed once
the kubelet's runtime (CRI) sees them.`,
		Example: `  go run ./hack/tools/images --out bin/images --dir rootfs --ref strata.local/app:1 --entrypoint /bin/app
  strata images import bin/images/app.tar
  kubectl create deployment app --image=strata.local/app:1`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, archives []string) error {
			socket := up.ContainerdSocket(dataDir)
			if _, err := os.Stat(socket); err != nil {
				return fmt.Errorf("no containerd of a cluster in %s (%s): start it with 'make up' or 'strata up --data-dir %s'", dataDir, socket, dataDir)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			ctx = klog.NewContext(ctx, klog.LoggerWithName(klog.Background(), "images"))
			for _, archive := range archives {
				refs, err := containerdenv.ArchiveRefs(archive)
				if err != nil {
					return fmt.Errorf("%s: %w", archive, err)
				}
				if err := containerdenv.Import(ctx, "", socket, archive); err != nil {
					return err
				}
				for _, ref := range refs {
					fmt.Fprintf(cmd.OutOrStdout(), "imported %s (%s)\n", ref, archive)
				}
			}
			return nil
		},
	}
	importCmd.Flags().StringVar(&dataDir, "data-dir", ".data", "directory of the cluster of 'strata up'")
	importCmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	images.AddCommand(importCmd)
	return images
}
