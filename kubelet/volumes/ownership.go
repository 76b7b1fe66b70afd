package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// The bits fsGroup ownership adds, as upstream's SetVolumeOwnership: group
// read-write (read-only for volumes always mounted read-only), and on
// directories group execute and setgid.
const (
	rwMask   fs.FileMode = 0o660
	roMask   fs.FileMode = 0o440
	execMask fs.FileMode = 0o110
)

// setOwnership gives the files under dir to fsGroup and opens them to the
// group, unless policy is OnRootMismatch and dir is already right.
// Symlinks change group but not mode.
func setOwnership(dir string, fsGroup int64, policy *corev1.PodFSGroupChangePolicy, readOnly bool) error {
	if policy != nil && *policy == corev1.FSGroupChangeOnRootMismatch && !requiresPermissionChange(dir, fsGroup, readOnly) {
		return nil
	}
	return filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := os.Lchown(path, -1, int(fsGroup)); err != nil {
			return fmt.Errorf("changing the group of %s to %d: %w", path, fsGroup, err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return nil
		}
		mask := rwMask
		if readOnly {
			mask = roMask
		}
		if info.IsDir() {
			mask |= fs.ModeSetgid | execMask
		}
		if err := os.Chmod(path, info.Mode()|mask); err != nil {
			return fmt.Errorf("changing the mode of %s: %w", path, err)
		}
		return nil
	})
}

// requiresPermissionChange tells whether dir's group or mode is not yet
// what fsGroup ownership gives.
func requiresPermissionChange(dir string, fsGroup int64, readOnly bool) bool {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return true
	}
	if gid, ok := groupOf(info); !ok || gid != fsGroup {
		return true
	}
	perms := rwMask
	if readOnly {
		perms = roMask
	}
	perms |= execMask
	return info.Mode().Perm()&perms != perms || info.Mode()&fs.ModeSetgid == 0
}

// fsUser is the user every container of the pod (ephemeral ones aside)
// runs as, if they all set the same one, as upstream's FsUserFrom.
func fsUser(pod *corev1.Pod) *int64 {
	var user *int64
	var psc *corev1.PodSecurityContext = pod.Spec.SecurityContext
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			var u *int64
			if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
				u = c.SecurityContext.RunAsUser
			} else if psc != nil {
				u = psc.RunAsUser
			}
			if u == nil || (user != nil && *user != *u) {
				return nil
			}
			user = u
		}
	}
	return user
}

// removeAllOneFilesystem removes path and what is under it like
// os.RemoveAll, but refuses to cross into another filesystem: something
// still mounted under a pod's directory is an error, not data to delete.
func removeAllOneFilesystem(path string) error {
	root, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	dev, ok := deviceOf(root)
	if !ok {
		return os.RemoveAll(path)
	}
	var remove func(string, os.FileInfo) error
	remove = func(p string, info os.FileInfo) error {
		if !info.IsDir() {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return nil
		}
		if d, _ := deviceOf(info); d != dev {
			return fmt.Errorf("cannot delete directory %s: it is a mount point", p)
		}
		entries, err := os.ReadDir(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			child := filepath.Join(p, e.Name())
			ci, err := os.Lstat(child)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := remove(child, ci); err != nil {
				return err
			}
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return remove(path, root)
}
