package volumes

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tree describes dir: files as "path mode content", symlinks as
// "path -> target", directories as "path/", with the timestamped
// directory's name replaced by "..TS".
func tree(t *testing.T, dir string) []string {
	t.Helper()
	ts, _ := os.Readlink(filepath.Join(dir, dataDirName))
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "." {
			return nil
		}
		if ts != "" {
			rel = strings.ReplaceAll(rel, ts, "..TS")
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			if ts != "" {
				target = strings.ReplaceAll(target, ts, "..TS")
			}
			out = append(out, rel+" -> "+target)
		case info.IsDir():
			out = append(out, rel+"/")
		default:
			data, _ := os.ReadFile(path)
			out = append(out, rel+" "+info.Mode().Perm().String()+" "+string(data))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestWriteAtomically(t *testing.T) {
	dir := t.TempDir()
	write := func(payload map[string]FileProjection, now time.Time) bool {
		t.Helper()
		wrote, err := writeAtomically(dir, payload, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return wrote
	}

	if !write(map[string]FileProjection{
		"a":         {Data: []byte("1"), Mode: 0o644},
		"sub/b":     {Data: []byte("2"), Mode: 0o400},
		"sub/c/d":   {Data: []byte("3"), Mode: 0o600},
		"./clean/e": {Data: []byte("4"), Mode: 0o644},
	}, t0) {
		t.Fatal("first write did not write")
	}
	ts, err := os.Readlink(filepath.Join(dir, dataDirName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ts, "..2026_03_01_12_00_00.") {
		t.Errorf("timestamped directory %q, want ..2026_03_01_12_00_00.<random>", ts)
	}
	if d := cmp.Diff([]string{
		"..TS/",
		"..TS/a -rw-r--r-- 1",
		"..TS/clean/",
		"..TS/clean/e -rw-r--r-- 4",
		"..TS/sub/",
		"..TS/sub/b -r-------- 2",
		"..TS/sub/c/",
		"..TS/sub/c/d -rw------- 3",
		"..data -> ..TS",
		"a -> ..data/a",
		"clean -> ..data/clean",
		"sub -> ..data/sub",
	}, tree(t, dir)); d != "" {
		t.Errorf("first write (-want +got):\n%s", d)
	}
	data, err := os.ReadFile(filepath.Join(dir, "sub", "c", "d"))
	if err != nil || string(data) != "3" {
		t.Errorf("reading through the links: %q, %v", data, err)
	}

	// The same content again writes nothing.
	if write(map[string]FileProjection{
		"a":       {Data: []byte("1"), Mode: 0o644},
		"sub/b":   {Data: []byte("2"), Mode: 0o400},
		"sub/c/d": {Data: []byte("3"), Mode: 0o600},
		"clean/e": {Data: []byte("4"), Mode: 0o644},
	}, t0.Add(time.Minute)) {
		t.Error("unchanged payload written again")
	}

	// An update swaps the data directory, adds and removes visible files
	// and removes the old directory.
	if !write(map[string]FileProjection{
		"a":     {Data: []byte("changed"), Mode: 0o644},
		"sub/b": {Data: []byte("2"), Mode: 0o400},
		"new":   {Data: []byte("5"), Mode: 0o644},
	}, t0.Add(time.Minute)) {
		t.Fatal("update did not write")
	}
	if d := cmp.Diff([]string{
		"..TS/",
		"..TS/a -rw-r--r-- changed",
		"..TS/new -rw-r--r-- 5",
		"..TS/sub/",
		"..TS/sub/b -r-------- 2",
		"..data -> ..TS",
		"a -> ..data/a",
		"new -> ..data/new",
		"sub -> ..data/sub",
	}, tree(t, dir)); d != "" {
		t.Errorf("after the update (-want +got):\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(dir, ts)); !os.IsNotExist(err) {
		t.Errorf("old timestamped directory left: %v", err)
	}

	// A changed mode is an update too.
	if !write(map[string]FileProjection{
		"a":     {Data: []byte("changed"), Mode: 0o600},
		"sub/b": {Data: []byte("2"), Mode: 0o400},
		"new":   {Data: []byte("5"), Mode: 0o644},
	}, t0.Add(2*time.Minute)) {
		t.Error("mode change not written")
	}

	// An empty payload leaves an empty data directory.
	write(map[string]FileProjection{}, t0.Add(3*time.Minute))
	if d := cmp.Diff([]string{"..TS/", "..data -> ..TS"}, tree(t, dir)); d != "" {
		t.Errorf("after emptying (-want +got):\n%s", d)
	}
}

func TestWriteAtomicallySetPerms(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	setPerms := func() error { calls++; return nil }
	payload := map[string]FileProjection{"a": {Data: []byte("1"), Mode: 0o644}}
	for range 2 {
		if _, err := writeAtomically(dir, payload, t0, setPerms); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("setPerms called %d times, want once (the second write had nothing to do)", calls)
	}
}

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path, wantErr string
	}{
		{path: "a"},
		{path: "a/b/c"},
		{path: "..a/b", wantErr: "invalid path: must not start with '..': ..a/b"},
		{path: "..", wantErr: "invalid path: must not contain '..': .."},
		{path: "a/../b", wantErr: "invalid path: must not contain '..': a/../b"},
		{path: "/etc/passwd", wantErr: "invalid path: must be relative path: /etc/passwd"},
		{path: "", wantErr: `invalid path: must not be empty: ""`},
		{path: strings.Repeat("x", 256), wantErr: "invalid path: filenames must be less than or equal to 255 characters"},
		{path: strings.Repeat("x/", 2049), wantErr: "invalid path: must be less than or equal to 4096 characters"},
		{path: "a..b"},
	}
	for _, tt := range tests {
		err := validatePath(tt.path)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.wantErr {
			t.Errorf("validatePath(%.20q) = %q, want %q", tt.path, got, tt.wantErr)
		}
	}
}
