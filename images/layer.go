package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Epoch is the time stamped on every file, layer and image config, so that a
// rebuild from the same inputs gives the same digests (as SOURCE_DATE_EPOCH=0
// does for reproducible builds).
var Epoch = time.Unix(0, 0).UTC()

// Entry is one file system object of a layer. Exactly one of Data (a regular
// file, possibly empty), Link (a symbolic link) or Dir is meaningful.
type Entry struct {
	// Path is absolute or relative to the root: "/bin/sh" and "bin/sh" are the same.
	Path string
	// Mode holds the permission bits (and sticky/setuid bits); 0 means 0644
	// for files and 0755 for directories.
	Mode fs.FileMode
	Data []byte
	// Link is the target of a symbolic link.
	Link string
	Dir  bool
	// UID and GID own the entry; 0 is root.
	UID, GID int
}

// File returns a regular file entry.
func File(p string, mode fs.FileMode, data []byte) Entry {
	return Entry{Path: p, Mode: mode, Data: data}
}

// Dir returns a directory entry.
func Dir(p string, mode fs.FileMode) Entry { return Entry{Path: p, Mode: mode, Dir: true} }

// Symlink returns a symbolic link entry at p pointing to target.
func Symlink(p, target string) Entry { return Entry{Path: p, Link: target} }

// clean returns the entry's path relative to the root, without a trailing
// slash, or an error for a path leaving the root.
func clean(p string) (string, error) {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" || c == "." {
		return "", fmt.Errorf("entry path %q names the root", p)
	}
	return c, nil
}

// LayerTar writes entries as a tar stream in a canonical form: sorted by
// path, parents before children (missing parent directories are added with
// mode 0755), owned by their UID/GID with no user or group names, every time
// stamp Epoch. The same entries always give the same bytes.
func LayerTar(entries []Entry) ([]byte, error) {
	byPath := map[string]Entry{}
	for _, e := range entries {
		p, err := clean(e.Path)
		if err != nil {
			return nil, err
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("entry %q appears twice", p)
		}
		e.Path = p
		byPath[p] = e
	}
	for p := range byPath {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if existing, ok := byPath[dir]; ok {
				if !existing.Dir {
					return nil, fmt.Errorf("entry %q is not a directory but %q is inside it", dir, p)
				}
				continue
			}
			byPath[dir] = Entry{Path: dir, Dir: true}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	// Sorting the plain strings puts a directory before its children, since
	// "a" < "a/b"; a sibling such as "a-b" may come between, which tar allows.
	sort.Strings(paths)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		e := byPath[p]
		hdr := &tar.Header{
			Name:    p,
			ModTime: Epoch,
			Uid:     e.UID,
			Gid:     e.GID,
			Format:  tar.FormatPAX,
		}
		perm := e.Mode
		switch {
		case e.Dir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			if perm == 0 {
				perm = 0o755
			}
		case e.Link != "":
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = e.Link
			perm = 0o777
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.Data))
			if perm == 0 {
				perm = 0o644
			}
		}
		hdr.Mode = tarMode(perm)
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("writing tar header of %q: %w", p, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.Data); err != nil {
				return nil, fmt.Errorf("writing %q: %w", p, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing tar: %w", err)
	}
	return buf.Bytes(), nil
}

// tarMode turns Go's file mode bits into tar's (c_ISUID and friends).
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// Layer returns entries as a gzip-compressed OCI layer.
func Layer(entries []Entry) (v1.Layer, error) {
	data, err := LayerTar(entries)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
