package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	corev1 "k8s.io/api/core/v1"
)

// fileType is what is at path (following symlinks), as a HostPathType:
// Directory, File (regular), Socket, CharDevice or BlockDevice; "" for
// anything else.
func fileType(path string) (corev1.HostPathType, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	m := info.Mode()
	switch {
	case m.IsDir():
		return corev1.HostPathDirectory, nil
	case m.IsRegular():
		return corev1.HostPathFile, nil
	case m&fs.ModeSocket != 0:
		return corev1.HostPathSocket, nil
	case m&fs.ModeCharDevice != 0:
		return corev1.HostPathCharDev, nil
	case m&fs.ModeDevice != 0:
		return corev1.HostPathBlockDev, nil
	}
	return "", nil
}

// checkHostPathType checks what is at path against a hostPath volume's
// type, creating a directory (0755) or an empty file (0644) for the
// ...OrCreate types, with upstream's messages. An unset type checks
// nothing.
func checkHostPathType(path string, t *corev1.HostPathType) error {
	if t == nil || *t == corev1.HostPathUnset {
		return nil
	}
	is := func(want corev1.HostPathType) bool {
		got, err := fileType(path)
		return err == nil && got == want
	}
	exists := func() bool {
		_, err := os.Stat(path)
		return err == nil
	}
	switch *t {
	case corev1.HostPathDirectoryOrCreate:
		if !exists() {
			return makeDir(path)
		}
		fallthrough
	case corev1.HostPathDirectory:
		if !is(corev1.HostPathDirectory) {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", path)
		}
	case corev1.HostPathFileOrCreate:
		if !exists() {
			return makeFile(path)
		}
		fallthrough
	case corev1.HostPathFile:
		if !is(corev1.HostPathFile) {
			return fmt.Errorf("hostPath type check failed: %s is not a file", path)
		}
	case corev1.HostPathSocket:
		if !is(corev1.HostPathSocket) {
			return fmt.Errorf("hostPath type check failed: %s is not a socket file", path)
		}
	case corev1.HostPathCharDev:
		if !is(corev1.HostPathCharDev) {
			return fmt.Errorf("hostPath type check failed: %s is not a character device", path)
		}
	case corev1.HostPathBlockDev:
		if !is(corev1.HostPathBlockDev) {
			return fmt.Errorf("hostPath type check failed: %s is not a block device", path)
		}
	default:
		return fmt.Errorf("%s is an invalid volume type", *t)
	}
	return nil
}

// makeDir creates a directory and its parents with mode 0755; one already
// there is fine.
func makeDir(path string) error {
	if err := os.MkdirAll(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// makeFile creates an empty file with mode 0644 (not its parents); one
// already there is fine.
func makeFile(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE, 0o644)
	if f != nil {
		_ = f.Close()
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
