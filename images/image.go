// Package images builds Strata's OCI images without Docker or a registry: the
// strata binary, the pause image of pod sandboxes, a busybox test image
// from Debian's busybox-static, and upstream CoreDNS (hack/tools/coredns) for
// the cluster DNS of charts/dns. Each image is one deterministic layer (fixed
// time stamps, sorted entries), so the same inputs always give the same
// digests, and is written as an OCI image layout tar that
// `ctr -n k8s.io images import` loads into containerd.
//
// hack/tools/images is the command line (`make images`); tests call Build
// and WriteArchive directly.
package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is the registry host of Strata's images. Nothing serves it: the
// images are imported into containerd, and pods refer to them by these names
// with imagePullPolicy IfNotPresent (the default for a tag other than latest)
// or Never.
const Registry = "strata.local"

// DefaultPath is the PATH of Strata's images, as in Docker's default.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Spec describes a single-layer image.
type Spec struct {
	// Refs are the names the image is tagged with, e.g. strata.local/busybox:1.35.0.
	Refs []string
	// Files make the image's only layer.
	Files []Entry
	// Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts and Labels go into
	// the image config as in a Dockerfile.
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	User         string
	ExposedPorts []string
	Labels       map[string]string
	// Platform is the image's OS and architecture; empty means linux and
	// the architecture this program runs on (the binaries in the image are
	// the host's).
	Platform v1.Platform
}

// Image is a built image with its names.
type Image struct {
	Refs  []string
	Image v1.Image
}

// Digest returns the image's manifest digest, as containerd reports it after
// import.
func (i Image) Digest() (v1.Hash, error) { return i.Image.Digest() }

// Build assembles the image of spec: an OCI manifest, its config, one layer.
func Build(spec Spec) (Image, error) {
	if len(spec.Refs) == 0 {
		return Image{}, fmt.Errorf("image has no name")
	}
	for _, ref := range spec.Refs {
		if _, _, err := FullName(ref); err != nil {
			return Image{}, err
		}
	}
	layer, err := Layer(spec.Files)
	if err != nil {
		return Image{}, fmt.Errorf("building the layer of %s: %w", spec.Refs[0], err)
	}
	platform := spec.Platform
	if platform.OS == "" {
		platform.OS = "linux"
	}
	if platform.Architecture == "" {
		platform.Architecture = runtime.GOARCH
	}
	ports := map[string]struct{}{}
	for _, p := range spec.ExposedPorts {
		ports[p] = struct{}{}
	}
	if len(ports) == 0 {
		ports = nil
	}
	cfg := &v1.ConfigFile{
		Architecture: platform.Architecture,
		OS:           platform.OS,
		Variant:      platform.Variant,
		Created:      v1.Time{Time: Epoch},
		Config: v1.Config{
			Entrypoint:   spec.Entrypoint,
			Cmd:          spec.Cmd,
			Env:          spec.Env,
			WorkingDir:   spec.WorkingDir,
			User:         spec.User,
			ExposedPorts: ports,
			Labels:       spec.Labels,
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	base, err = mutate.ConfigFile(base, cfg)
	if err != nil {
		return Image{}, fmt.Errorf("setting the config of %s: %w", spec.Refs[0], err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: Epoch},
			CreatedBy: "strata images",
			Comment:   "built by github.com/strata-dev/strata/images",
		},
	})
	if err != nil {
		return Image{}, fmt.Errorf("adding the layer of %s: %w", spec.Refs[0], err)
	}
	refs := append([]string(nil), spec.Refs...)
	return Image{Refs: refs, Image: img}, nil
}

// FullName returns ref as containerd names images (and CRI reports them):
// with its registry and tag, Docker Hub as docker.io ("busybox" is
// "docker.io/library/busybox:latest"), and the tag alone.
func FullName(ref string) (full, tag string, err error) {
	t, err := name.NewTag(ref, name.WeakValidation)
	if err != nil {
		return "", "", fmt.Errorf("image name %q: %w", ref, err)
	}
	registry := t.RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	return registry + "/" + t.RepositoryStr() + ":" + t.TagStr(), t.TagStr(), nil
}

// Annotations of an OCI index entry that name the image: containerd's own
// (which `ctr images import` uses as the image name) and the OCI one (the
// tag, as the image layout spec wants it).
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationOCIRefName     = "org.opencontainers.image.ref.name"
)

// WriteArchive writes images as one OCI image layout tar (oci-layout,
// index.json, blobs/sha256/…) at file, with an index entry per name. The
// file is replaced atomically; the same images always give the same bytes.
func WriteArchive(file string, imgs ...Image) error {
	var buf bytes.Buffer
	if err := writeArchive(&buf, imgs); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close() //nolint:errcheck,gosec // the write error is the one to report
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close() //nolint:errcheck,gosec // the chmod error is the one to report
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     types.MediaType `json:"mediaType"`
	Manifests     []v1.Descriptor `json:"manifests"`
}

func writeArchive(w io.Writer, imgs []Image) error {
	tw := tar.NewWriter(w)
	blobs := map[string][]byte{}
	var index ociIndex
	index.SchemaVersion = 2
	index.MediaType = types.OCIImageIndex
	for _, img := range imgs {
		manifest, err := img.Image.RawManifest()
		if err != nil {
			return err
		}
		digest, err := img.Image.Digest()
		if err != nil {
			return err
		}
		mediaType, err := img.Image.MediaType()
		if err != nil {
			return err
		}
		blobs[digest.Hex] = manifest
		config, err := img.Image.RawConfigFile()
		if err != nil {
			return err
		}
		configName, err := img.Image.ConfigName()
		if err != nil {
			return err
		}
		blobs[configName.Hex] = config
		cfg, err := img.Image.ConfigFile()
		if err != nil {
			return err
		}
		layers, err := img.Image.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			rc, err := l.Compressed()
			if err != nil {
				return err
			}
			data, err := io.ReadAll(rc)
			rc.Close() //nolint:errcheck,gosec // an in-memory reader
			if err != nil {
				return err
			}
			blobs[d.Hex] = data
		}
		for _, ref := range img.Refs {
			full, tagStr, err := FullName(ref)
			if err != nil {
				return err
			}
			index.Manifests = append(index.Manifests, v1.Descriptor{
				MediaType: mediaType,
				Size:      int64(len(manifest)),
				Digest:    digest,
				Platform:  &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant},
				Annotations: map[string]string{
					annotationContainerdName: full,
					annotationOCIRefName:     tagStr,
				},
			})
		}
	}
	sort.SliceStable(index.Manifests, func(i, j int) bool {
		return index.Manifests[i].Annotations[annotationContainerdName] < index.Manifests[j].Annotations[annotationContainerdName]
	})
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return err
	}

	write := func(name string, mode int64, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: mode, ModTime: Epoch, Format: tar.FormatPAX}
		if data == nil {
			hdr.Typeflag = tar.TypeDir
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := write("oci-layout", 0o644, []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := write("index.json", 0o644, indexJSON); err != nil {
		return err
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := write(dir, 0o755, nil); err != nil {
			return err
		}
	}
	hexes := make([]string, 0, len(blobs))
	for h := range blobs {
		hexes = append(hexes, h)
	}
	sort.Strings(hexes)
	for _, h := range hexes {
		if err := write("blobs/sha256/"+h, 0o644, blobs[h]); err != nil {
			return err
		}
	}
	return tw.Close()
}
