package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
)

// FileProjection is one file of a volume whose content the kubelet writes
// (configMap, secret, downwardAPI, projected).
type FileProjection struct {
	Data []byte
	Mode int32
	// FsUser owns the file when set (a ServiceAccount token of a pod whose
	// containers all run as one user).
	FsUser *int64
}

const (
	// dataDirName is the symlink to the timestamped directory holding the
	// current content; user-visible files are symlinks through it.
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
	// tsDirLayout names timestamped directories ("..2026_03_01_12_00_00."
	// and a random suffix).
	tsDirLayout = "..2006_01_02_15_04_05."

	maxFileNameLength = 255
	maxPathLength     = 4096
)

// writeAtomically projects payload into dir as upstream's AtomicWriter
// does, so that readers see either the old or the new content, never a
// mix:
//
//	dir/..2026_03_01_12_00_00.123456789/<path>   the files
//	dir/..data -> ..2026_03_01_12_00_00.123456789
//	dir/<first element of path> -> ..data/<first element of path>
//
// An update writes a new timestamped directory, swaps the ..data symlink
// by renaming a new one over it, adds and removes user-visible symlinks,
// then removes the old directory. Nothing is written when the content and
// modes are unchanged. setPerms, when set, runs after the files are
// written, before they become visible (fsGroup ownership). It reports
// whether it wrote.
func writeAtomically(dir string, payload map[string]FileProjection, now time.Time, setPerms func() error) (bool, error) {
	clean, err := validatePayload(payload)
	if err != nil {
		return false, err
	}
	dataDir := filepath.Join(dir, dataDirName)
	oldTsDir, err := os.Readlink(dataDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("reading the data directory link: %w", err)
	}
	var toRemove sets.Set[string]
	if oldTsDir != "" {
		oldTsPath := filepath.Join(dir, oldTsDir)
		if toRemove, err = pathsToRemove(clean, oldTsPath); err != nil {
			return false, err
		}
		changed, err := payloadChanged(clean, oldTsPath)
		if err != nil {
			return false, err
		}
		if !changed && toRemove.Len() == 0 && userVisibleFilesExist(dir, clean) {
			return false, nil
		}
	}

	tsDir, err := os.MkdirTemp(dir, now.UTC().Format(tsDirLayout))
	if err != nil {
		return false, fmt.Errorf("creating a timestamped directory: %w", err)
	}
	// Group and others must be able to walk the tree, whatever the umask.
	if err := os.Chmod(tsDir, 0o755); err != nil {
		_ = os.RemoveAll(tsDir)
		return false, err
	}
	if err := writePayload(clean, tsDir); err != nil {
		_ = os.RemoveAll(tsDir)
		return false, err
	}
	if setPerms != nil {
		if err := setPerms(); err != nil {
			_ = os.RemoveAll(tsDir)
			return false, err
		}
	}

	newDataDir := filepath.Join(dir, newDataDirName)
	_ = os.Remove(newDataDir) // left by an interrupted write
	if err := os.Symlink(filepath.Base(tsDir), newDataDir); err != nil {
		_ = os.RemoveAll(tsDir)
		return false, fmt.Errorf("creating the new data directory link: %w", err)
	}
	if err := os.Rename(newDataDir, dataDir); err != nil {
		_ = os.Remove(newDataDir)
		_ = os.RemoveAll(tsDir)
		return false, fmt.Errorf("renaming the data directory link: %w", err)
	}
	if err := createUserVisibleFiles(dir, clean); err != nil {
		return true, err
	}
	var errs []error
	for p := range toRemove {
		// Only the top-level symlinks are user-visible; the rest went with
		// the old directory.
		if strings.Contains(p, string(os.PathSeparator)) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if oldTsDir != "" {
		if err := os.RemoveAll(filepath.Join(dir, oldTsDir)); err != nil {
			errs = append(errs, err)
		}
	}
	return true, errors.Join(errs...)
}

// validatePayload checks the paths of payload and returns it with clean
// paths.
func validatePayload(payload map[string]FileProjection) (map[string]FileProjection, error) {
	clean := make(map[string]FileProjection, len(payload))
	for p, content := range payload {
		if err := validatePath(p); err != nil {
			return nil, err
		}
		clean[filepath.Clean(p)] = content
	}
	return clean, nil
}

// validatePath rejects paths that are empty, absolute, too long, contain
// "..", or start with ".." (reserved for the writer), as upstream.
func validatePath(p string) error {
	if p == "" {
		return fmt.Errorf("invalid path: must not be empty: %q", p)
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("invalid path: must be relative path: %s", p)
	}
	if len(p) > maxPathLength {
		return fmt.Errorf("invalid path: must be less than or equal to %d characters", maxPathLength)
	}
	items := strings.Split(p, string(os.PathSeparator))
	for _, item := range items {
		if item == ".." {
			return fmt.Errorf("invalid path: must not contain '..': %s", p)
		}
		if len(item) > maxFileNameLength {
			return fmt.Errorf("invalid path: filenames must be less than or equal to %d characters", maxFileNameLength)
		}
	}
	if strings.HasPrefix(items[0], "..") && len(items[0]) > 2 {
		return fmt.Errorf("invalid path: must not start with '..': %s", p)
	}
	return nil
}

// payloadChanged tells whether a file of payload differs from oldTsDir's,
// in content or mode.
func payloadChanged(payload map[string]FileProjection, oldTsDir string) (bool, error) {
	for p, f := range payload {
		path := filepath.Join(oldTsDir, p)
		info, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if !info.Mode().IsRegular() || info.Mode().Perm() != fs.FileMode(f.Mode).Perm() {
			return true, nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return false, err
		}
		if !bytes.Equal(data, f.Data) {
			return true, nil
		}
	}
	return false, nil
}

// pathsToRemove are the paths in oldTsDir that payload no longer has
// (directories leading to a path of payload are kept).
func pathsToRemove(payload map[string]FileProjection, oldTsDir string) (sets.Set[string], error) {
	old := sets.New[string]()
	err := filepath.WalkDir(oldTsDir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(oldTsDir, path); rel != "." {
			old.Insert(rel)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return sets.New[string](), nil
	}
	if err != nil {
		return nil, fmt.Errorf("walking the current data directory: %w", err)
	}
	current := sets.New[string]()
	for p := range payload {
		for sub := p; sub != "." && sub != string(os.PathSeparator); sub = filepath.Dir(sub) {
			current.Insert(sub)
		}
	}
	return old.Difference(current), nil
}

func writePayload(payload map[string]FileProjection, dir string) error {
	for p, f := range payload {
		path := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("creating directory %s: %w", filepath.Dir(path), err)
		}
		mode := fs.FileMode(f.Mode) & fs.ModePerm
		if err := os.WriteFile(path, f.Data, mode); err != nil {
			return fmt.Errorf("writing file %s with mode %v: %w", path, mode, err)
		}
		// WriteFile's mode went through the umask.
		if err := os.Chmod(path, mode); err != nil {
			return fmt.Errorf("setting the mode of %s to %v: %w", path, mode, err)
		}
		if f.FsUser != nil {
			if err := os.Lchown(path, int(*f.FsUser), -1); err != nil {
				return fmt.Errorf("setting the owner of %s to %d: %w", path, *f.FsUser, err)
			}
		}
	}
	return nil
}

// topLevel is the first element of a payload path: its user-visible
// symlink.
func topLevel(p string) string {
	first, _, _ := strings.Cut(p, string(os.PathSeparator))
	return first
}

func userVisibleFilesExist(dir string, payload map[string]FileProjection) bool {
	for p := range payload {
		if _, err := os.Lstat(filepath.Join(dir, topLevel(p))); err != nil {
			return false
		}
	}
	return true
}

// createUserVisibleFiles links each top-level name of payload through the
// data directory: name -> ..data/name.
func createUserVisibleFiles(dir string, payload map[string]FileProjection) error {
	for p := range payload {
		name := topLevel(p)
		visible := filepath.Join(dir, name)
		if _, err := os.Lstat(visible); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join(dataDirName, name), visible); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating the user-visible link %s: %w", name, err)
		}
	}
	return nil
}
