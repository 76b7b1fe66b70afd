package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Archive file names in the output directory.
const (
	StrataArchive  = "strata.tar"
	PauseArchive   = "pause.tar"
	BusyboxArchive = "busybox.tar"
	CoreDNSArchive = "coredns.tar"
)

// DefaultBusybox is where Debian's busybox-static puts the binary.
const DefaultBusybox = "/bin/busybox"

// Options says which images BuildAll builds and where they go. An empty
// input path skips its image.
type Options struct {
	// OutDir receives one OCI archive per image.
	OutDir string
	// Strata is a static strata binary; Version its version (the tag).
	Strata  string
	Version string
	// Pause is a static pause binary (hack/tools/pause).
	Pause string
	// Busybox is a static busybox (Debian's busybox-static: /bin/busybox).
	Busybox string
	// CoreDNS is a static coredns binary (hack/tools/coredns, `make
	// coredns`); CoreDNSVersion its version, e.g. 1.15.0, or empty to ask
	// the binary (coredns -version).
	CoreDNS        string
	CoreDNSVersion string
}

// Result is one written archive.
type Result struct {
	File   string
	Refs   []string
	Digest string
}

// BuildAll builds the images Options names and writes each to its archive
// in OutDir, the pause image first (the one every pod needs).
func BuildAll(ctx context.Context, o Options) ([]Result, error) {
	if o.OutDir == "" {
		return nil, fmt.Errorf("no output directory")
	}
	type job struct {
		file string
		spec func() (Spec, error)
	}
	var jobs []job
	if o.Pause != "" {
		jobs = append(jobs, job{PauseArchive, func() (Spec, error) { return PauseSpec(o.Pause) }})
	}
	if o.Busybox != "" {
		jobs = append(jobs, job{BusyboxArchive, func() (Spec, error) { return BusyboxSpec(ctx, o.Busybox) }})
	}
	if o.Strata != "" {
		jobs = append(jobs, job{StrataArchive, func() (Spec, error) { return StrataSpec(o.Strata, o.Version) }})
	}
	if o.CoreDNS != "" {
		jobs = append(jobs, job{CoreDNSArchive, func() (Spec, error) {
			version := o.CoreDNSVersion
			if version == "" {
				v, err := CoreDNSVersion(ctx, o.CoreDNS)
				if err != nil {
					return Spec{}, err
				}
				version = v
			}
			return CoreDNSSpec(o.CoreDNS, version)
		}})
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("no image to build: give a strata, pause, busybox or coredns binary")
	}
	var results []Result
	for _, j := range jobs {
		spec, err := j.spec()
		if err != nil {
			return results, err
		}
		img, err := Build(spec)
		if err != nil {
			return results, err
		}
		file := filepath.Join(o.OutDir, j.file)
		if err := WriteArchive(file, img); err != nil {
			return results, fmt.Errorf("writing %s: %w", file, err)
		}
		digest, err := img.Digest()
		if err != nil {
			return results, err
		}
		results = append(results, Result{File: file, Refs: img.Refs, Digest: digest.String()})
	}
	return results, nil
}

// GoBuildStatic builds the Go main package pkg (a path or import path,
// resolved in dir) into out as a static, reproducible binary: CGO_ENABLED=0,
// -trimpath, no VCS stamp, no symbol table. extraLDFlags are appended to
// the linker flags (e.g. -X for a version).
func GoBuildStatic(ctx context.Context, dir, pkg, out string, extraLDFlags ...string) error {
	ldflags := "-s -w"
	for _, f := range extraLDFlags {
		ldflags += " " + f
	}
	goBin := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			goBin = p
		}
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg) //nolint:gosec // fixed program, caller's package
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
