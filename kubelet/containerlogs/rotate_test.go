package containerlogs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2/ktesting"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/strata-dev/strata/kubelet/cri/fake"
)

func TestPlanRotation(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)
	const log = "/logs/app/0.log"
	tests := []struct {
		name    string
		size    int64
		rotated []string
		max     int
		want    RotationPlan
	}{{
		name: "small enough",
		size: 99,
	}, {
		name:    "small enough: old files are left alone",
		size:    10,
		rotated: []string{log + ".20260301-000000", log + ".20260301-000000.gz.tmp"},
	}, {
		name: "missing: the runtime creates it again",
		size: -1,
		want: RotationPlan{Reopen: true},
	}, {
		name: "first rotation",
		size: 100,
		want: RotationPlan{RotateTo: log + ".20260302-150405"},
	}, {
		name:    "the rotated log before is compressed",
		size:    150,
		rotated: []string{log + ".20260301-000000"},
		want:    RotationPlan{Compress: []string{log + ".20260301-000000"}, RotateTo: log + ".20260302-150405"},
	}, {
		name: "at most MaxFiles: the oldest go",
		size: 100,
		rotated: []string{
			log + ".20260301-000003", log + ".20260301-000001.gz", log + ".20260301-000002.gz", log + ".20260301-000000.gz",
		},
		want: RotationPlan{
			Remove:   []string{log + ".20260301-000000.gz"},
			Compress: []string{log + ".20260301-000003"},
			RotateTo: log + ".20260302-150405",
		},
	}, {
		name:    "leftovers of an interrupted compression go",
		size:    100,
		rotated: []string{log + ".20260301-000001", log + ".20260301-000001.gz", log + ".20260301-000002", log + ".20260301-000002.gz.tmp"},
		want: RotationPlan{
			Remove:   []string{log + ".20260301-000001", log + ".20260301-000002.gz.tmp"},
			Compress: []string{log + ".20260301-000002"},
			RotateTo: log + ".20260302-150405",
		},
	}, {
		name:    "two files: only the newest rotated one is kept",
		size:    100,
		max:     2,
		rotated: []string{log + ".20260301-000000.gz", log + ".20260301-000001"},
		want: RotationPlan{
			Remove:   []string{log + ".20260301-000000.gz", log + ".20260301-000001"},
			RotateTo: log + ".20260302-150405",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxFiles := tt.max
			if maxFiles == 0 {
				maxFiles = 5
			}
			got := PlanRotation(log, tt.size, tt.rotated, 100, maxFiles, now)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("plan (-want +got):\n%s", d)
			}
			if got.Empty() != cmp.Equal(tt.want, RotationPlan{}) {
				t.Errorf("Empty() = %v", got.Empty())
			}
		})
	}
}

// rotationEnv is a running container of the fake runtime with its log in
// a temporary directory.
type rotationEnv struct {
	t       *testing.T
	clock   *testingclock.FakeClock
	runtime *fake.Runtime
	rotator *Rotator
	id      string
	log     string
}

func newRotationEnv(t *testing.T) *rotationEnv {
	clock := testingclock.NewFakeClock(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	rt := fake.New(clock)
	rt.AddImage("busybox")
	_, ctx := ktesting.NewTestContext(t)
	dir := t.TempDir()
	labels := map[string]string{"io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.name": "web"}
	sandbox := &runtimeapi.PodSandboxConfig{Metadata: &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default"}, LogDirectory: dir, Labels: labels}
	sid, err := rt.RunPodSandbox(ctx, sandbox, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sid, &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Image:    &runtimeapi.ImageSpec{Image: "busybox"},
		LogPath:  "app/0.log",
		Labels:   labels,
	}, sandbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	rotator, err := NewRotator(RotatorConfig{Runtime: rt, MaxSize: 120, MaxFiles: 3, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	rt.ResetCalls()
	return &rotationEnv{t: t, clock: clock, runtime: rt, rotator: rotator, id: id, log: filepath.Join(dir, "app", "0.log")}
}

// write appends n records of 31+len(text) bytes each.
func (e *rotationEnv) write(text string, n int) {
	e.t.Helper()
	var lines []string
	for range n {
		lines = append(lines, "2026-03-02T15:00:00Z stdout F "+text+"\n")
	}
	appendTo(e.t, e.log, lines...)
}

func (e *rotationEnv) rotate() {
	e.t.Helper()
	_, ctx := ktesting.NewTestContext(e.t)
	if err := e.rotator.RotateAll(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// files are the container's log files and what they hold (gunzip'd).
func (e *rotationEnv) files() map[string]string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Dir(e.log))
	if err != nil {
		e.t.Fatal(err)
	}
	files := map[string]string{}
	for _, entry := range entries {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(e.log), entry.Name()))
		if err != nil {
			e.t.Fatal(err)
		}
		if strings.HasSuffix(entry.Name(), ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				e.t.Fatalf("%s: %v", entry.Name(), err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				e.t.Fatalf("%s: %v", entry.Name(), err)
			}
		}
		files[entry.Name()] = strings.Join(strings.Fields(strings.ReplaceAll(string(data), "2026-03-02T15:00:00Z stdout F ", "")), " ")
	}
	return files
}

func TestRotatorRotatesBigLogs(t *testing.T) {
	e := newRotationEnv(t)
	e.write("one", 3) // 102 bytes
	e.rotate()
	diff(t, "below the maximum size", map[string]string{"0.log": "one one one"}, e.files())
	diff(t, "calls", []string(nil), e.runtime.Calls())

	e.write("one", 1)
	e.rotate()
	diff(t, "rotated", map[string]string{"0.log": "", "0.log.20260302-150000": "one one one one"}, e.files())
	diff(t, "calls", []string{"ReopenContainerLog default/web/app"}, e.runtime.Calls())

	e.clock.Step(time.Minute)
	e.write("two", 5)
	e.rotate()
	diff(t, "the older rotated log is compressed", map[string]string{
		"0.log":                    "",
		"0.log.20260302-150000.gz": "one one one one",
		"0.log.20260302-150100":    "two two two two two",
	}, e.files())

	e.clock.Step(time.Minute)
	e.write("three", 5)
	e.rotate()
	diff(t, "at most MaxFiles (3) files", map[string]string{
		"0.log":                    "",
		"0.log.20260302-150100.gz": "two two two two two",
		"0.log.20260302-150200":    "three three three three three",
	}, e.files())

	// kubectl logs reads the current file only, as upstream.
	e.write("four", 1)
	var out bytes.Buffer
	if err := Copy(t.Context(), &out, e.log, Options{}); err != nil {
		t.Fatal(err)
	}
	diff(t, "kubectl logs after rotations", "four\n", out.String())
}

func TestRotatorRecreatesAMissingLog(t *testing.T) {
	e := newRotationEnv(t)
	e.write("one", 1)
	if err := os.Remove(e.log); err != nil {
		t.Fatal(err)
	}
	e.rotate()
	diff(t, "calls", []string{"ReopenContainerLog default/web/app"}, e.runtime.Calls())
	diff(t, "files", map[string]string{"0.log": ""}, e.files())
}

func TestRotatorRenamesTheLogBackWhenTheRuntimeCannotReopenIt(t *testing.T) {
	e := newRotationEnv(t)
	e.write("one", 5)
	e.runtime.InjectError("ReopenContainerLog", errors.New("no can do"))
	_, ctx := ktesting.NewTestContext(t)
	err := e.rotator.RotateAll(ctx)
	if err == nil || !strings.Contains(err.Error(), "no can do") {
		t.Fatalf("RotateAll = %v, want the runtime's error", err)
	}
	diff(t, "files", map[string]string{"0.log": "one one one one one"}, e.files())

	e.rotate() // the runtime is fine again
	diff(t, "files", map[string]string{"0.log": "", "0.log.20260302-150000": "one one one one one"}, e.files())
}

func TestRotatorLeavesStoppedContainersAlone(t *testing.T) {
	e := newRotationEnv(t)
	e.write("one", 5)
	if err := e.runtime.Exit(e.id, 0, ""); err != nil {
		t.Fatal(err)
	}
	e.rotate()
	diff(t, "files", map[string]string{"0.log": "one one one one one"}, e.files())
	if calls := e.runtime.Calls(); slices.Contains(calls, "ReopenContainerLog default/web/app") {
		t.Errorf("calls: %q", calls)
	}
}

func TestNewRotatorChecksItsConfig(t *testing.T) {
	rt := fake.New(testingclock.NewFakeClock(time.Now()))
	if _, err := NewRotator(RotatorConfig{Runtime: rt, MaxFiles: 1}); err == nil {
		t.Error("MaxFiles 1 accepted")
	}
	if _, err := NewRotator(RotatorConfig{Runtime: rt, MaxSize: -1}); err == nil {
		t.Error("a negative MaxSize accepted")
	}
	r, err := NewRotator(RotatorConfig{Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "defaults", []any{int64(DefaultMaxSize), DefaultMaxFiles, DefaultMonitorInterval}, []any{r.cfg.MaxSize, r.cfg.MaxFiles, r.cfg.Interval})
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}
