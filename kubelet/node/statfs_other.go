//go:build !linux

package node

import "errors"

// StatFilesystem is only implemented on Linux, the kubelet's platform.
func StatFilesystem(string) (Filesystem, error) {
	return Filesystem{}, errors.New("statfs is only supported on linux")
}
