package images

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// CoreDNSRepo is the image of the cluster DNS (charts/dns), tagged with the
// CoreDNS version.
const CoreDNSRepo = Registry + "/coredns"

var corednsVersion = regexp.MustCompile(`(?m)^CoreDNS-([0-9][0-9A-Za-z.\-+]*)$`)

// CoreDNSVersion runs `coredns -version` and returns the version it prints,
// e.g. 1.15.0.
func CoreDNSVersion(ctx context.Context, coredns string) (string, error) {
	out, err := exec.CommandContext(ctx, coredns, "-version").Output() //nolint:gosec // the binary the caller named
	if err != nil {
		return "", fmt.Errorf("running %s -version: %w", coredns, err)
	}
	m := corednsVersion.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s -version: no CoreDNS-<version> line in %q", coredns, strings.TrimSpace(string(out)))
	}
	return string(m[1]), nil
}

// CoreDNSSpec is the image of a static coredns binary (hack/tools/coredns)
// for the given version: /coredns as entrypoint, as upstream's image, and
// the DNS ports exposed. It runs as root, so that it may bind port 53 with
// only the NET_BIND_SERVICE capability charts/dns keeps (upstream's image
// gives the binary that capability as a file capability instead, which a
// layer of this builder cannot carry).
func CoreDNSSpec(binary, version string) (Spec, error) {
	if version == "" {
		return Spec{}, errors.New("coredns image: no version")
	}
	data, err := readStatic(binary)
	if err != nil {
		return Spec{}, fmt.Errorf("coredns image: %w", err)
	}
	return Spec{
		Refs:         []string{CoreDNSRepo + ":" + version},
		Files:        append(baseFiles(), File("/coredns", 0o755, data)),
		Entrypoint:   []string{"/coredns"},
		Env:          []string{DefaultPath},
		WorkingDir:   "/",
		ExposedPorts: []string{"53/tcp", "53/udp"},
		Labels:       map[string]string{"org.opencontainers.image.version": version},
	}, nil
}
