//go:build !linux

package volumes

import (
	"errors"
	"os"
)

var errNoMounts = errors.New("mounting volumes is only supported on Linux")

func mountTmpfs(string, int64) error      { return errNoMounts }
func unmount(string) error                { return nil }
func isMountPoint(string) (bool, error)   { return false, nil }
func deviceOf(os.FileInfo) (uint64, bool) { return 0, false }
func groupOf(os.FileInfo) (int64, bool)   { return 0, false }
