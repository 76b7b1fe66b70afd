//go:build !linux

package node

import "errors"

// statFilesystem is only implemented on Linux, the kubelet's platform.
func statFilesystem(string) (Filesystem, error) {
	return Filesystem{}, errors.New("statfs is only supported on linux")
}
