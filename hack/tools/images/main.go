// Command images builds Strata's OCI images without Docker (`make images`):
//
//	images --out bin/images --strata bin/images/strata-static --version 0.1.0-dev \
//	       --pause bin/images/pause --busybox /bin/busybox --coredns bin/coredns
//
// Each image becomes an OCI image layout tar in --out (strata.tar, pause.tar,
// busybox.tar, coredns.tar) that `ctr -n k8s.io images import` loads into containerd. An
// empty binary flag skips its image.
//
// With --dir it instead packs a directory of your own into a single-layer
// image:
//
//	images --dir ./rootfs --ref strata.local/myapp:1 --cmd /bin/myapp --out bin/images
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/strata-dev/strata/images"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func run() error {
	var o images.Options
	var dir string
	var refs, cmd, entrypoint, env stringList
	flag.StringVar(&o.OutDir, "out", "bin/images", "directory to write the image archives to")
	flag.StringVar(&o.Strata, "strata", "", "static strata binary for strata.local/strata:<version> (empty: skip)")
	flag.StringVar(&o.Version, "version", "0.1.0-dev", "strata version, the tag of the strata image")
	flag.StringVar(&o.Pause, "pause", "", "static pause binary (hack/tools/pause) for "+images.PauseRef+" (empty: skip)")
	flag.StringVar(&o.Busybox, "busybox", images.DefaultBusybox, "static busybox for "+images.BusyboxRepo+":<busybox version> (empty: skip)")
	flag.StringVar(&o.CoreDNS, "coredns", "", "static coredns binary (hack/tools/coredns) for "+images.CoreDNSRepo+":<coredns version> (empty: skip)")
	flag.StringVar(&o.CoreDNSVersion, "coredns-version", "", "CoreDNS version, the tag of the coredns image (empty: ask the binary)")
	flag.StringVar(&dir, "dir", "", "pack this directory as a single-layer image instead (needs --ref)")
	flag.Var(&refs, "ref", "with --dir: a name of the image, e.g. strata.local/myapp:1 (repeatable)")
	flag.Var(&cmd, "cmd", "with --dir: an element of the image's Cmd (repeatable)")
	flag.Var(&entrypoint, "entrypoint", "with --dir: an element of the image's Entrypoint (repeatable)")
	flag.Var(&env, "env", "with --dir: KEY=VALUE in the image's environment (repeatable; PATH is set)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if dir != "" {
		return packDir(dir, o.OutDir, refs, entrypoint, cmd, env)
	}
	results, err := images.BuildAll(ctx, o)
	for _, r := range results {
		fmt.Printf("%s\t%s\t%s\n", r.File, r.Digest, strings.Join(r.Refs, " "))
	}
	return err
}

// packDir builds an image of a directory tree; the archive is named after
// the first ref's repository (strata.local/myapp:1 → myapp.tar).
func packDir(dir, out string, refs, entrypoint, cmd, env []string) error {
	if len(refs) == 0 {
		return fmt.Errorf("--dir needs at least one --ref")
	}
	var files []images.Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode()
		switch {
		case mode.IsDir():
			files = append(files, images.Entry{Path: rel, Dir: true, Mode: mode & (fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid)})
		case mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			files = append(files, images.Symlink(rel, target))
		case mode.IsRegular():
			data, err := os.ReadFile(p) //nolint:gosec // walking the caller's directory
			if err != nil {
				return err
			}
			files = append(files, images.Entry{Path: rel, Data: data, Mode: mode & (fs.ModePerm | fs.ModeSticky | fs.ModeSetuid | fs.ModeSetgid)})
		default:
			return fmt.Errorf("%s: unsupported file type %s", p, mode.Type())
		}
		return nil
	})
	if err != nil {
		return err
	}
	img, err := images.Build(images.Spec{
		Refs:       refs,
		Files:      files,
		Entrypoint: entrypoint,
		Cmd:        cmd,
		Env:        append([]string{images.DefaultPath}, env...),
	})
	if err != nil {
		return err
	}
	repo, _, _ := strings.Cut(refs[0][strings.LastIndex(refs[0], "/")+1:], ":")
	file := filepath.Join(out, repo+".tar")
	if err := images.WriteArchive(file, img); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s\t%s\t%s\n", file, digest, strings.Join(refs, " "))
	return nil
}
