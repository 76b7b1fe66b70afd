package images

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Image names.
const (
	// PauseRef is the sandbox image Strata's containerd is configured with.
	PauseRef = Registry + "/pause:3.10"
	// StrataRepo and BusyboxRepo are tagged with the strata version and the
	// busybox version.
	StrataRepo  = Registry + "/strata"
	BusyboxRepo = Registry + "/busybox"
	// ChartStrataRepo is what the apps chart's default image repository
	// ("strata") means to containerd; the strata image carries this name too,
	// so the chart's manager pod finds it without overriding image.repository.
	ChartStrataRepo = "docker.io/library/strata"
)

// passwd and group of Strata's images: root, nobody, and the distroless
// nonroot user (65532) that the apps chart's manager pod runs as.
const (
	passwd = "root:x:0:0:root:/root:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/bin/false\n"
	group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
)

func baseFiles() []Entry {
	return []Entry{
		Dir("/tmp", 0o777|fs.ModeSticky),
		Dir("/root", 0o700),
		{Path: "/home/nonroot", Dir: true, Mode: 0o755, UID: 65532, GID: 65532},
		File("/etc/passwd", 0o644, []byte(passwd)),
		File("/etc/group", 0o644, []byte(group)),
	}
}

// readStatic reads an executable and fails unless it is a statically linked
// ELF file: an image with a dynamically linked binary and no libc would fail
// only when a pod starts.
func readStatic(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s is not an ELF executable: %w", file, err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil, fmt.Errorf("%s is dynamically linked; build it static (CGO_ENABLED=0 for Go)", file)
		}
	}
	return data, nil
}

// StrataSpec is the image of the strata binary (a static build) for the
// given version: /usr/local/bin/strata, entrypoint strata, a writable /tmp.
func StrataSpec(binary, version string) (Spec, error) {
	if version == "" {
		return Spec{}, errors.New("strata image: no version")
	}
	data, err := readStatic(binary)
	if err != nil {
		return Spec{}, fmt.Errorf("strata image: %w", err)
	}
	files := append(baseFiles(), File("/usr/local/bin/strata", 0o755, data))
	return Spec{
		Refs:       []string{StrataRepo + ":" + version, ChartStrataRepo + ":" + version},
		Files:      files,
		Entrypoint: []string{"/usr/local/bin/strata"},
		Env:        []string{DefaultPath, "TMPDIR=/tmp"},
		WorkingDir: "/",
		Labels:     map[string]string{"org.opencontainers.image.version": version},
	}, nil
}

// PauseSpec is the sandbox image: a static binary (hack/tools/pause) at /pause.
func PauseSpec(binary string) (Spec, error) {
	data, err := readStatic(binary)
	if err != nil {
		return Spec{}, fmt.Errorf("pause image: %w", err)
	}
	return Spec{
		Refs:       []string{PauseRef},
		Files:      []Entry{File("/pause", 0o755, data)},
		Entrypoint: []string{"/pause"},
		// The upstream pause image runs as 65535 too.
		User: "65535:65535",
	}, nil
}

// IndexHTML is /var/www/index.html of the busybox image, what
// `httpd -f -h /var/www` serves.
const IndexHTML = "<!DOCTYPE html>\n<html><head><title>strata busybox</title></head>" +
	"<body><h1>Hello from strata.local/busybox</h1></body></html>\n"

var busyboxVersion = regexp.MustCompile(`^BusyBox v([0-9][0-9A-Za-z.\-]*)`)

// BusyboxVersion runs the busybox binary and returns its version, e.g. 1.35.0.
func BusyboxVersion(ctx context.Context, busybox string) (string, error) {
	out, err := exec.CommandContext(ctx, busybox).Output() //nolint:gosec // the binary the caller named
	// busybox without arguments prints its usage and may exit 1.
	if len(out) == 0 && err != nil {
		return "", fmt.Errorf("running %s: %w", busybox, err)
	}
	m := busyboxVersion.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s: no version in its output %q", busybox, firstLine(out))
	}
	return string(m[1]), nil
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// BusyboxApplets returns where busybox installs its applets (`busybox
// --list-full`: bin/sh, usr/bin/wget, …), sorted.
func BusyboxApplets(ctx context.Context, busybox string) ([]string, error) {
	out, err := exec.CommandContext(ctx, busybox, "--list-full").Output() //nolint:gosec // the binary the caller named
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	var applets []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" {
			continue
		}
		p = path.Clean("/" + p)
		if p == "/bin/busybox" || seen[p] {
			continue
		}
		seen[p] = true
		applets = append(applets, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	sort.Strings(applets)
	return applets, nil
}

// BusyboxSpec is the test image: Debian's static busybox at /bin/busybox with
// a symlink per applet (as `busybox --install -s`), /etc/passwd, a writable
// /tmp, /var/www/index.html; its command is sh. It is tagged with the busybox
// version and latest.
func BusyboxSpec(ctx context.Context, busybox string) (Spec, error) {
	data, err := readStatic(busybox)
	if err != nil {
		return Spec{}, fmt.Errorf("busybox image: %w", err)
	}
	version, err := BusyboxVersion(ctx, busybox)
	if err != nil {
		return Spec{}, fmt.Errorf("busybox image: %w", err)
	}
	applets, err := BusyboxApplets(ctx, busybox)
	if err != nil {
		return Spec{}, fmt.Errorf("busybox image: %w", err)
	}
	files := append(baseFiles(),
		File("/bin/busybox", 0o755, data),
		File("/var/www/index.html", 0o644, []byte(IndexHTML)),
	)
	for _, a := range applets {
		files = append(files, Symlink(a, "/bin/busybox"))
	}
	return Spec{
		Refs:       []string{BusyboxRepo + ":" + version, BusyboxRepo + ":latest"},
		Files:      files,
		Cmd:        []string{"sh"},
		Env:        []string{DefaultPath},
		WorkingDir: "/",
		Labels:     map[string]string{"org.opencontainers.image.version": version},
	}, nil
}
