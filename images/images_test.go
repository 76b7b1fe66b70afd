package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type tarEntry struct {
	Name     string
	Type     byte
	Mode     int64
	Link     string
	Size     int64
	UID, GID int
	Unix     int64
}

func readTar(t *testing.T, r io.Reader) ([]tarEntry, map[string][]byte) {
	t.Helper()
	tr := tar.NewReader(r)
	var entries []tarEntry
	data := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, data
		}
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Linkname, hdr.Size, hdr.Uid, hdr.Gid, hdr.ModTime.Unix()})
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data[hdr.Name] = b
	}
}

func TestLayerTarIsCanonical(t *testing.T) {
	entries := []Entry{
		File("/usr/bin/tool", 0o755, []byte("#!")),
		Symlink("bin/sh", "/bin/busybox"),
		Dir("/tmp", 0o777|os.ModeSticky),
		{Path: "home/app", Dir: true, UID: 65532, GID: 65532},
		File("etc/passwd", 0, []byte("root\n")),
	}
	got, err := LayerTar(entries)
	if err != nil {
		t.Fatal(err)
	}
	// The order of the input does not matter.
	reversed := append([]Entry(nil), entries...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	again, err := LayerTar(reversed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("LayerTar depends on the order of its entries")
	}
	list, _ := readTar(t, bytes.NewReader(got))
	want := []tarEntry{
		{Name: "bin/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "bin/sh", Type: tar.TypeSymlink, Mode: 0o777, Link: "/bin/busybox"},
		{Name: "etc/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "etc/passwd", Type: tar.TypeReg, Mode: 0o644, Size: 5},
		{Name: "home/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "home/app/", Type: tar.TypeDir, Mode: 0o755, UID: 65532, GID: 65532},
		{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		{Name: "usr/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/bin/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "usr/bin/tool", Type: tar.TypeReg, Mode: 0o755, Size: 2},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("Layer entries (-want +got):\n%s", diff)
	}
}

func TestLayerTarRejects(t *testing.T) {
	tests := map[string][]Entry{
		"duplicate":       {File("/a", 0, nil), File("a", 0, nil)},
		"file as parent":  {File("/a", 0, nil), File("/a/b", 0, nil)},
		"root":            {Dir("/", 0)},
		"escapes to root": {File("/..", 0, nil)},
	}
	for name, entries := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := LayerTar(entries); err == nil {
				t.Error("LayerTar succeeded, want an error")
			}
		})
	}
}

func busyboxOrSkip(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(DefaultBusybox); err != nil {
		t.Skipf("Skipping: %s missing (Debian's busybox-static; hack/install-deps.sh installs it)", DefaultBusybox)
	}
	return DefaultBusybox
}

func TestBuildIsDeterministic(t *testing.T) {
	busybox := busyboxOrSkip(t)
	ctx := context.Background()
	// busybox stands in for the pause and strata binaries: any static ELF will do.
	opts := func(dir string) Options {
		return Options{OutDir: dir, Busybox: busybox, Pause: busybox, Strata: busybox, Version: "1.2.3"}
	}
	first, err := BuildAll(ctx, opts(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	second, err := BuildAll(ctx, opts(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 3 || len(second) != 3 {
		t.Fatalf("BuildAll wrote %d and %d archives, want 3", len(first), len(second))
	}
	for k := range first {
		a, b := first[k], second[k]
		if a.Digest != b.Digest {
			t.Errorf("%s: digest %s then %s", filepath.Base(a.File), a.Digest, b.Digest)
		}
		da, err := os.ReadFile(a.File)
		if err != nil {
			t.Fatal(err)
		}
		db, err := os.ReadFile(b.File)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s: the archives of two builds differ", filepath.Base(a.File))
		}
	}
	wantRefs := map[string][]string{
		PauseArchive:   {PauseRef},
		StrataArchive:  {"strata.local/strata:1.2.3", "docker.io/library/strata:1.2.3"},
		BusyboxArchive: nil, // version-dependent, checked below
	}
	for _, r := range first {
		want := wantRefs[filepath.Base(r.File)]
		if want == nil {
			continue
		}
		if diff := cmp.Diff(want, r.Refs); diff != "" {
			t.Errorf("%s refs (-want +got):\n%s", filepath.Base(r.File), diff)
		}
	}
}

// archive reads an OCI layout tar written by WriteArchive: its index, and
// the config and layer entries of its first manifest.
func archive(t *testing.T, file string) (index map[string]any, cfg v1.ConfigFile, layer []tarEntry, files map[string][]byte) {
	t.Helper()
	f, err := os.Open(file) //nolint:gosec // the test's archive
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() //nolint:errcheck // read only
	_, blobs := readTar(t, f)
	if err := json.Unmarshal(blobs["index.json"], &index); err != nil {
		t.Fatal(err)
	}
	if string(blobs["oci-layout"]) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %q", blobs["oci-layout"])
	}
	blob := func(d string) []byte {
		b, ok := blobs["blobs/sha256/"+strings.TrimPrefix(d, "sha256:")]
		if !ok {
			t.Fatalf("Blob %s missing", d)
		}
		return b
	}
	manifestDigest := index["manifests"].([]any)[0].(map[string]any)["digest"].(string)
	var manifest v1.Manifest
	if err := json.Unmarshal(blob(manifestDigest), &manifest); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(blob(manifest.Config.Digest.String()), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(manifest.Layers) != 1 {
		t.Fatalf("%d layers, want 1", len(manifest.Layers))
	}
	layer, files = readTar(t, gunzip(t, blob(manifest.Layers[0].Digest.String())))
	return index, cfg, layer, files
}

func TestBusyboxImage(t *testing.T) {
	busybox := busyboxOrSkip(t)
	ctx := context.Background()
	version, err := BusyboxVersion(ctx, busybox)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	results, err := BuildAll(ctx, Options{OutDir: dir, Busybox: busybox})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{BusyboxRepo + ":" + version, BusyboxRepo + ":latest"}, results[0].Refs); diff != "" {
		t.Errorf("Refs (-want +got):\n%s", diff)
	}
	index, cfg, layer, files := archive(t, filepath.Join(dir, BusyboxArchive))

	var names []string
	for _, m := range index["manifests"].([]any) {
		names = append(names, m.(map[string]any)["annotations"].(map[string]any)["io.containerd.image.name"].(string))
	}
	if diff := cmp.Diff([]string{BusyboxRepo + ":" + version, BusyboxRepo + ":latest"}, names); diff != "" {
		t.Errorf("Index names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sh"}, cfg.Config.Cmd); diff != "" {
		t.Errorf("Cmd (-want +got):\n%s", diff)
	}
	if cfg.OS != "linux" || cfg.Architecture == "" || !cfg.Created.Time.Equal(Epoch) {
		t.Errorf("Config os/arch/created = %s/%s/%s", cfg.OS, cfg.Architecture, cfg.Created.Time)
	}

	byName := map[string]tarEntry{}
	for _, e := range layer {
		byName[e.Name] = e
		if e.Unix != 0 {
			t.Errorf("%s has mtime %d, want 0", e.Name, e.Unix)
		}
	}
	for _, applet := range []string{"sh", "echo", "cat", "ls", "sleep", "httpd", "nc", "wget", "env", "hostname",
		"mkdir", "ps", "kill", "dd", "head", "tail", "true", "false", "id", "date"} {
		found := false
		for _, dir := range []string{"bin/", "sbin/", "usr/bin/", "usr/sbin/"} {
			if e, ok := byName[dir+applet]; ok && e.Type == tar.TypeSymlink && e.Link == "/bin/busybox" {
				found = true
			}
		}
		if !found {
			t.Errorf("No symlink for applet %s", applet)
		}
	}
	if e := byName["bin/busybox"]; e.Type != tar.TypeReg || e.Mode != 0o755 {
		t.Errorf("bin/busybox = %+v", e)
	}
	if e := byName["tmp/"]; e.Mode != 0o1777 {
		t.Errorf("tmp/ mode = %o, want 1777", e.Mode)
	}
	passwd := string(files["etc/passwd"])
	for _, user := range []string{"root:x:0:0:", "nobody:x:65534:65534:"} {
		if !strings.Contains(passwd, user) {
			t.Errorf("/etc/passwd lacks %q:\n%s", user, passwd)
		}
	}
	if got := string(files["var/www/index.html"]); got != IndexHTML {
		t.Errorf("/var/www/index.html = %q", got)
	}
}

func TestStrataImage(t *testing.T) {
	static := busyboxOrSkip(t)
	spec, err := StrataSpec(static, "0.1.0-dev")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"strata.local/strata:0.1.0-dev", "docker.io/library/strata:0.1.0-dev"}, spec.Refs); diff != "" {
		t.Errorf("Refs (-want +got):\n%s", diff)
	}
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "strata.tar")
	if err := WriteArchive(file, img); err != nil {
		t.Fatal(err)
	}
	_, cfg, layer, _ := archive(t, file)
	if diff := cmp.Diff([]string{"/usr/local/bin/strata"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("Entrypoint (-want +got):\n%s", diff)
	}
	want := map[string]int64{"usr/local/bin/strata": 0o755, "tmp/": 0o1777}
	for _, e := range layer {
		if mode, ok := want[e.Name]; ok {
			if e.Mode != mode {
				t.Errorf("%s mode = %o, want %o", e.Name, e.Mode, mode)
			}
			delete(want, e.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("Missing from the layer: %v", want)
	}
	if !strings.Contains(strings.Join(cfg.Config.Env, " "), "PATH=/usr/local/sbin:/usr/local/bin:") {
		t.Errorf("Env %v lacks a PATH with /usr/local/bin", cfg.Config.Env)
	}
}

func TestDynamicBinaryIsRefused(t *testing.T) {
	dynamic := "/bin/ls"
	if _, err := os.Stat(dynamic); err != nil {
		t.Skip("No /bin/ls")
	}
	_, err := StrataSpec(dynamic, "1")
	if err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("StrataSpec(/bin/ls) error = %v, want one saying it is dynamically linked", err)
	}
}

func gunzip(t *testing.T, b []byte) io.Reader {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFullName(t *testing.T) {
	tests := []struct{ ref, full, tag string }{
		{"strata.local/busybox:1.35.0", "strata.local/busybox:1.35.0", "1.35.0"},
		{"strata.local/busybox", "strata.local/busybox:latest", "latest"},
		{"busybox", "docker.io/library/busybox:latest", "latest"},
		{"docker.io/library/strata:0.1.0-dev", "docker.io/library/strata:0.1.0-dev", "0.1.0-dev"},
		{"index.docker.io/me/app:1", "docker.io/me/app:1", "1"},
		{"localhost:5000/app:v2", "localhost:5000/app:v2", "v2"},
	}
	for _, tt := range tests {
		full, tag, err := FullName(tt.ref)
		if err != nil || full != tt.full || tag != tt.tag {
			t.Errorf("FullName(%q) = %q, %q, %v; want %q, %q", tt.ref, full, tag, err, tt.full, tt.tag)
		}
	}
	if _, _, err := FullName("UPPER/case"); err == nil {
		t.Error("FullName(UPPER/case) succeeded, want an error")
	}
}

func TestCoreDNSImage(t *testing.T) {
	static := busyboxOrSkip(t)
	dir := t.TempDir()
	results, err := BuildAll(context.Background(), Options{OutDir: dir, CoreDNS: static, CoreDNSVersion: "1.15.0"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"strata.local/coredns:1.15.0"}, results[0].Refs); diff != "" {
		t.Errorf("Refs (-want +got):\n%s", diff)
	}
	_, cfg, layer, _ := archive(t, filepath.Join(dir, CoreDNSArchive))
	if diff := cmp.Diff([]string{"/coredns"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("Entrypoint (-want +got):\n%s", diff)
	}
	if _, ok := cfg.Config.ExposedPorts["53/udp"]; !ok {
		t.Errorf("ExposedPorts %v lack 53/udp", cfg.Config.ExposedPorts)
	}
	if cfg.Config.User != "" {
		t.Errorf("User %q, want root (charts/dns binds port 53 with NET_BIND_SERVICE)", cfg.Config.User)
	}
	found := false
	for _, e := range layer {
		if e.Name == "coredns" {
			found = e.Type == tar.TypeReg && e.Mode == 0o755
		}
	}
	if !found {
		t.Error("No executable /coredns in the layer")
	}
}

func TestCoreDNSVersion(t *testing.T) {
	for _, tt := range []struct {
		name, output, want string
	}{
		{"a release", "CoreDNS-1.15.0\nlinux/amd64, go1.26.8, \n", "1.15.0"},
		{"no version", "usage: coredns\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := filepath.Join(t.TempDir(), "coredns")
			script := "#!/bin/sh\n[ \"$1\" = -version ] || exit 2\nprintf '" + strings.ReplaceAll(tt.output, "\n", `\n`) + "'\n"
			if err := os.WriteFile(fake, []byte(script), 0o755); err != nil { //nolint:gosec // an executable on purpose
				t.Fatal(err)
			}
			got, err := CoreDNSVersion(context.Background(), fake)
			if tt.want == "" {
				if err == nil {
					t.Errorf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
