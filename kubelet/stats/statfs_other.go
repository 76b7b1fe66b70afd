//go:build !linux

package stats

import "errors"

// statfs is only implemented on Linux, the kubelet's platform.
func statfs(string) (Filesystem, error) {
	return Filesystem{}, errors.New("statfs is only supported on linux")
}
