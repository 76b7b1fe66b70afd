/*
Copyright 2026 The Strata Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package kubebuilder checks that Strata is a kubebuilder project: that
// PROJECT is what kubebuilder v4.15.0 reads and writes, and that
// docs/write-your-own-layer.md, run step by step with the real
// bin/kubebuilder in a copy of the repository, scaffolds a layer that
// builds, generates and passes its tests. `make test-kubebuilder`.
package kubebuilder

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/afero"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	yamlstore "sigs.k8s.io/kubebuilder/v4/pkg/config/store/yaml"
	_ "sigs.k8s.io/kubebuilder/v4/pkg/config/v3" // PROJECT version "3"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
)

const (
	root = "../.."
	page = "docs/write-your-own-layer.md"
)

// loadProject reads a PROJECT file with kubebuilder's own store.
func loadProject(t *testing.T, path string) config.Config {
	t.Helper()
	s := yamlstore.New(machinery.Filesystem{FS: afero.NewOsFs()})
	if err := s.LoadFrom(path); err != nil {
		t.Fatalf("kubebuilder cannot load %s: %v", path, err)
	}
	return s.Config()
}

// resourceKeys lists a project's resources as group/version/Kind path
// [controller] [defaulting] [validation].
func resourceKeys(t *testing.T, c config.Config) []string {
	t.Helper()
	rs, err := c.GetResources()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range rs {
		k := fmt.Sprintf("%s/%s/%s %s", r.Group, r.Version, r.Kind, r.Path)
		if r.HasAPI() {
			k += " api:" + r.API.CRDVersion
		}
		if r.HasController() {
			k += " controller"
		}
		if r.HasDefaultingWebhook() {
			k += " defaulting"
		}
		if r.HasValidationWebhook() {
			k += " validation"
		}
		keys = append(keys, k)
	}
	return keys
}

// TestProjectFile: kubebuilder loads PROJECT as a multigroup go/v4 project
// without a domain, with the apps layer's kinds, and writes it back byte
// for byte (so it holds nothing kubebuilder would drop, such as comments).
func TestProjectFile(t *testing.T) {
	path := filepath.Join(root, "PROJECT")
	c := loadProject(t, path)
	if !c.IsMultiGroup() || c.GetDomain() != "" || c.GetRepository() != "github.com/strata-dev/strata" ||
		!cmp.Equal(c.GetPluginChain(), []string{"go.kubebuilder.io/v4"}) {
		t.Errorf("PROJECT: multigroup %t, domain %q, repo %q, layout %v; want a multigroup go.kubebuilder.io/v4 project of github.com/strata-dev/strata without a domain",
			c.IsMultiGroup(), c.GetDomain(), c.GetRepository(), c.GetPluginChain())
	}
	want := []string{
		"apps/v1/Deployment github.com/strata-dev/strata/apis/apps/v1 api:v1 controller defaulting validation",
		"apps/v1/ReplicaSet github.com/strata-dev/strata/apis/apps/v1 api:v1 controller defaulting validation",
	}
	if diff := cmp.Diff(want, resourceKeys(t, c)); diff != "" {
		t.Errorf("PROJECT's resources (-want +got):\n%s", diff)
	}
	out := filepath.Join(t.TempDir(), "PROJECT")
	s := yamlstore.New(machinery.Filesystem{FS: afero.NewOsFs()})
	if err := s.LoadFrom(path); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTo(out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readFile(t, path), readFile(t, out)); diff != "" {
		t.Errorf("kubebuilder writes PROJECT back differently (-ours +kubebuilder's):\n%s", diff)
	}
}

// step is a block of the page the test runs, writes or looks for.
type step struct {
	line int
	// run is a bash script; file a path to write content to, or (with
	// contains) a file that must contain content.
	run, file, content string
	contains           bool
}

// parseSteps returns the blocks of the page marked with <!-- test: run -->,
// <!-- test: file PATH --> or <!-- test: contains PATH -->, in order.
func parseSteps(markdown string) ([]step, error) {
	var steps []step
	lines := strings.Split(markdown, "\n")
	for i := 0; i < len(lines); i++ {
		marker, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "<!-- test:")
		if !ok {
			continue
		}
		marker = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(marker), "-->"))
		s := step{line: i + 1}
		switch verb, arg, _ := strings.Cut(marker, " "); verb {
		case "run":
			s.run = "yes"
		case "file", "contains":
			if s.file = strings.TrimSpace(arg); s.file == "" {
				return nil, fmt.Errorf("line %d: <!-- test: %s --> without a path", i+1, verb)
			}
			s.contains = verb == "contains"
		default:
			return nil, fmt.Errorf("line %d: unknown marker %q; want run, file PATH or contains PATH", i+1, marker)
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j == len(lines) || !strings.HasPrefix(lines[j], "```") {
			return nil, fmt.Errorf("line %d: the marker is not followed by a fenced block", i+1)
		}
		var body []string
		for j++; j < len(lines) && lines[j] != "```"; j++ {
			body = append(body, lines[j])
		}
		if j == len(lines) {
			return nil, fmt.Errorf("line %d: the block does not end", i+1)
		}
		content := strings.Join(body, "\n") + "\n"
		if s.run != "" {
			s.run = content
		} else {
			s.content = content
		}
		steps = append(steps, s)
		i = j
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("no <!-- test: … --> marker")
	}
	return steps, nil
}

func TestParseSteps(t *testing.T) {
	steps, err := parseSteps("text\n<!-- test: run -->\n```sh\nmake a\nmake b\n```\n\n<!-- test: file x/y.go -->\n\n```go\npackage y\n```\n```sh\nnot run\n```\n<!-- test: contains x/y.go -->\n```go\ny\n```\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []step{{line: 2, run: "make a\nmake b\n"}, {line: 8, file: "x/y.go", content: "package y\n"}, {line: 16, file: "x/y.go", content: "y\n", contains: true}}
	if diff := cmp.Diff(want, steps, cmp.AllowUnexported(step{})); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"no marker\n",
		"<!-- test: run -->\ntext\n",
		"<!-- test: file -->\n```go\n```\n",
		"<!-- test: jump -->\n```sh\n```\n",
		"<!-- test: run -->\n```sh\nmake\n",
	} {
		if _, err := parseSteps(bad); err == nil {
			t.Errorf("parseSteps(%q) accepted it", bad)
		}
	}
}

// scratchDir is where the page runs. Its path is fixed so that later runs
// find their packages in Go's build cache (which keys them by directory).
var scratchDir = filepath.Join(os.TempDir(), "strata-kubebuilder")

// TestWriteYourOwnLayer runs docs/write-your-own-layer.md in a copy of the
// repository and checks what kubebuilder did besides.
func TestWriteYourOwnLayer(t *testing.T) {
	for _, tool := range []string{"git", "make", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run %s: %v", tool, page, err)
		}
	}
	steps, err := parseSteps(readFile(t, filepath.Join(root, page)))
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	lock(t, scratchDir+".lock")
	if err := os.RemoveAll(scratchDir); err != nil {
		t.Fatal(err)
	}
	copyRepository(t, root, scratchDir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("The scratch copy stays in %s; its steps' output is in %s", scratchDir, filepath.Join(scratchDir, "steps.log"))
			return
		}
		os.RemoveAll(scratchDir)
	})
	logFile, err := os.Create(filepath.Join(scratchDir, "steps.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	for _, s := range steps {
		if s.contains {
			if got := readFile(t, filepath.Join(scratchDir, s.file)); !strings.Contains(got, s.content) {
				t.Errorf("%s:%d: %s does not contain the page's block:\n%s\nIt is:\n%s", page, s.line, s.file, s.content, got)
			}
			continue
		}
		if s.file != "" {
			t.Logf("%s:%d: writing %s", page, s.line, s.file)
			path := filepath.Join(scratchDir, s.file)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(s.content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		runStep(t, s, logFile)
	}

	// PROJECT gained the Widget, and kept the rest.
	c := loadProject(t, filepath.Join(scratchDir, "PROJECT"))
	orig := loadProject(t, filepath.Join(root, "PROJECT"))
	want := append(resourceKeys(t, orig),
		"example.strata.io/v1alpha1/Widget github.com/strata-dev/strata/api/example.strata.io/v1alpha1 api:v1 controller defaulting validation")
	if diff := cmp.Diff(want, resourceKeys(t, c)); diff != "" {
		t.Errorf("PROJECT's resources after the page (-want +got):\n%s", diff)
	}
	if c.GetDomain() != "" || !c.IsMultiGroup() || !cmp.Equal(c.GetPluginChain(), orig.GetPluginChain()) {
		t.Errorf("kubebuilder changed PROJECT's domain %q, multigroup %t or layout %v", c.GetDomain(), c.IsMultiGroup(), c.GetPluginChain())
	}
	if _, err := c.GetResource(resource.GVK{Group: "example.strata.io", Version: "v1alpha1", Kind: "Widget"}); err != nil {
		t.Error(err)
	}

	// The apps layer's generated files and the files kubebuilder only
	// reads are as they were.
	for _, f := range []string{
		"config/crd/bases/apps_deployments.yaml",
		"config/crd/bases/apps_replicasets.yaml",
		"charts/apps/templates/crds/apps_deployments.yaml",
		"charts/apps/templates/crds/apps_replicasets.yaml",
		"config/rbac/role.yaml",
		"apis/apps/v1/zz_generated.deepcopy.go",
		"nucleus/generated/openapi/zz_generated.openapi.go",
		"test/e2e/e2e_test.go",
	} {
		if readFile(t, filepath.Join(root, f)) != readFile(t, filepath.Join(scratchDir, f)) {
			t.Errorf("%s changed", f)
		}
	}
	// What the page says it generates.
	for f, want := range map[string]string{
		"api/example.strata.io/v1alpha1/zz_generated.deepcopy.go": "func (in *Widget) DeepCopyObject() runtime.Object",
		"config/crd/bases/example.strata.io_widgets.yaml":         "name: widgets.example.strata.io",
		"config/webhook/manifests.yaml":                           "name: vwidget-v1alpha1.example.strata.io",
		"config/rbac/scaffolded/role.yaml":                        "- configmaps",
	} {
		if got := readFile(t, filepath.Join(scratchDir, f)); !strings.Contains(got, want) {
			t.Errorf("%s does not contain %q", f, want)
		}
	}
	if _, err := os.Stat(filepath.Join(scratchDir, "bin/images/example-manager.tar")); err != nil {
		t.Errorf("the layer's image was not built: %v", err)
	}
	// Only the Go plugin ran: no kustomize overlays, no envtest modules.
	for _, dir := range []string{"config/default", "config/samples", "config/certmanager"} {
		if _, err := os.Stat(filepath.Join(scratchDir, dir)); err == nil {
			t.Errorf("kubebuilder wrote %s", dir)
		}
	}
	if gomod := readFile(t, filepath.Join(scratchDir, "go.mod")); strings.Contains(gomod, "onsi/ginkgo") || strings.Contains(gomod, "onsi/gomega") {
		t.Errorf("go.mod still requires Ginkgo or Gomega after the envtest suites went")
	}
}

// runStep runs a script of the page with bash in the scratch copy,
// copying its output to log, and fails t with the output's end if it fails.
func runStep(t *testing.T, s step, log io.Writer) {
	t.Helper()
	timeout := 15 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d) - 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", s.run)
	cmd.Dir = scratchDir
	cmd.Env = stepEnv()
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = cmd.Stdout
	fmt.Fprintf(log, "\n### %s:%d\n%s", page, s.line, s.run)
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s:%d: ran in %s:\n%s", page, s.line, time.Since(start).Round(time.Second), indent(s.run))
	if err != nil {
		t.Fatalf("%s:%d failed: %v\n%s\noutput (end):\n%s", page, s.line, err, indent(s.run), tail(out.String(), 60))
	}
}

// stepEnv is the environment of the page's commands: this one, with the
// Makefile's build settings and without the make that may run this test.
func stepEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GOFLAGS", "CGO_ENABLED":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
}

// copyRepository copies the files git knows in src (tracked, and untracked
// but not ignored; bin/ left out) to dst.
func copyRepository(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("listing the repository's files with git (the test needs a git checkout): %v", err)
	}
	n := 0
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if f == "" || strings.HasPrefix(f, "bin/") {
			continue
		}
		from, to := filepath.Join(src, f), filepath.Join(dst, f)
		fi, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted, not committed yet
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, to); err != nil {
				t.Fatal(err)
			}
			n++
			continue
		}
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
		n++
	}
	t.Logf("Copied %d files of the repository to %s", n, dst)
}

// lock holds an exclusive lock on path until the test ends: two runs would
// share the scratch directory.
func lock(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Logf("Waiting for another run of this test to release %s", path)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { f.Close() })
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func indent(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		b.WriteString("    $ " + sc.Text() + "\n")
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
