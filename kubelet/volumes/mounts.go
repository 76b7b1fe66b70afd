package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/strata-dev/strata/kubelet/pods"
)

// translatePropagation is the CRI propagation of a volumeMount's
// mountPropagation: private unless HostToContainer or Bidirectional.
func translatePropagation(mode *corev1.MountPropagationMode) (runtimeapi.MountPropagation, error) {
	switch {
	case mode == nil, *mode == corev1.MountPropagationNone:
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE, nil
	case *mode == corev1.MountPropagationHostToContainer:
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER, nil
	case *mode == corev1.MountPropagationBidirectional:
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL, nil
	}
	return 0, fmt.Errorf("invalid MountPropagation mode: %q", *mode)
}

// expandSubPathExpr expands $(VAR) in a subPathExpr with the container's
// environment; a variable that is missing or empty is an error, as
// upstream.
func expandSubPathExpr(expr string, env []pods.EnvVar) (string, error) {
	values := make(map[string]string, len(env))
	for _, e := range env {
		values[e.Name] = e.Value
	}
	missing := map[string]bool{}
	expanded := pods.Expand(expr, func(name string) (string, bool) {
		v, ok := values[name]
		if !ok || v == "" {
			missing[name] = true
		}
		return v, true
	})
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("missing value for %s", strings.Join(names, ", "))
	}
	return expanded, nil
}

// validateSubPath rejects absolute subPaths and those with "..".
func validateSubPath(subPath string) error {
	if filepath.IsAbs(subPath) {
		return fmt.Errorf("error SubPath `%s` must not be an absolute path", subPath)
	}
	for _, item := range strings.Split(subPath, string(os.PathSeparator)) {
		if item == ".." {
			return fmt.Errorf("unable to provision SubPath `%s`: must not contain '..'", subPath)
		}
	}
	return nil
}

// within tells whether path is root or under it.
func within(path, root string) bool {
	return path == root || strings.HasPrefix(path, strings.TrimSuffix(root, string(os.PathSeparator))+string(os.PathSeparator))
}

// prepareSubPath returns the host path a volumeMount's subPath of a volume
// at volumePath mounts: the subPath's directories are created when missing
// (with the mode of the volume's root, as upstream), symlinks are resolved,
// and the result must stay inside the volume. Resolving the symlinks is
// what makes a subPath of a configMap show the file of the moment: later
// updates do not reach it, as upstream. The detailed error goes to the log
// only: it could tell about the host's filesystem.
func prepareSubPath(volumePath, subPath, container, mount string) (string, error) {
	if err := validateSubPath(subPath); err != nil {
		return "", err
	}
	root, err := filepath.EvalSymlinks(volumePath)
	if err != nil {
		return "", fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q", mount, container)
	}
	path := filepath.Join(volumePath, subPath)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := safeMakeDir(root, subPath); err != nil {
			return "", fmt.Errorf("failed to create subPath directory for volumeMount %q of container %q", mount, container)
		}
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil || !within(resolved, root) {
		return "", fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q", mount, container)
	}
	return resolved, nil
}

// safeMakeDir creates the missing directories of subPath under root (a
// resolved path) with root's mode, refusing to follow a symlink out of
// root.
func safeMakeDir(root, subPath string) error {
	info, err := os.Stat(root)
	if err != nil {
		return err
	}
	mode := info.Mode().Perm()
	current := root
	for _, item := range strings.Split(filepath.Clean(subPath), string(os.PathSeparator)) {
		if item == "" || item == "." {
			continue
		}
		next := filepath.Join(current, item)
		resolved, err := filepath.EvalSymlinks(next)
		switch {
		case err == nil:
			if !within(resolved, root) {
				return fmt.Errorf("%s is outside of the volume", next)
			}
			current = resolved
			continue
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		if _, err := os.Lstat(next); err == nil {
			return fmt.Errorf("%s is a dangling symlink", next)
		}
		if err := os.Mkdir(next, mode); err != nil {
			return err
		}
		// Mkdir's mode went through the umask.
		if err := os.Chmod(next, mode); err != nil {
			return err
		}
		current = next
	}
	return nil
}
