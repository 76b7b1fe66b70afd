package containerlogs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// record formats one CRI log line written at t0+sec seconds.
func record(sec int, stream, tag, content string) string {
	return t0.Add(time.Duration(sec)*time.Second).Format(time.RFC3339Nano) + " " + stream + " " + tag + " " + content + "\n"
}

func writeLog(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseRecord(t *testing.T) {
	tests := []struct {
		line    string
		want    Record
		wantErr string
	}{
		{line: "2026-03-04T05:06:07.123456789Z stdout F hello world\n",
			want: Record{Time: time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC), Stream: Stdout, Content: []byte("hello world")}},
		{line: "2026-03-04T05:06:07Z stderr P part",
			want: Record{Time: t0, Stream: Stderr, Partial: true, Content: []byte("part")}},
		{line: "2026-03-04T05:06:07Z stdout F \n", want: Record{Time: t0, Stream: Stdout, Content: []byte{}}},
		{line: "2026-03-04T05:06:07Z stdout P:x  two  spaces",
			want: Record{Time: t0, Stream: Stdout, Partial: true, Content: []byte(" two  spaces")}},
		{line: "no-timestamp", wantErr: "timestamp is not found"},
		{line: "yesterday stdout F x", wantErr: `unexpected timestamp format "yesterday"`},
		{line: "2026-03-04T05:06:07Z stdin F x", wantErr: `unexpected stream type "stdin"`},
		{line: "2026-03-04T05:06:07Z stdout", wantErr: "stream type is not found"},
		{line: "2026-03-04T05:06:07Z stdout F", wantErr: "log tag is not found"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseRecord([]byte(tt.line))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCopy(t *testing.T) {
	log := []string{
		record(0, Stdout, "F", "one"),
		record(1, Stderr, "F", "two"),
		record(2, Stdout, "P", "thr"),
		record(3, Stderr, "P", "fo"),
		record(3, Stdout, "F", "ee"),
		record(4, Stderr, "F", "ur"),
		"garbage line\n",
		record(5, Stdout, "F", "five"),
	}
	ts := func(sec int) string { return t0.Add(time.Duration(sec) * time.Second).Format(timestampFormat) }
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "everything", want: "one\ntwo\nthree\nfour\nfive\n"},
		{name: "timestamps once per line", opts: Options{Timestamps: true},
			want: ts(0) + " one\n" + ts(1) + " two\n" + ts(2) + " three\n" + ts(3) + " four\n" + ts(5) + " five\n"},
		{name: "tail starts at a split line", opts: Options{TailLines: ptr.To[int64](2)}, want: "four\nfive\n"},
		{name: "tail counts joined lines", opts: Options{TailLines: ptr.To[int64](3)}, want: "three\nfour\nfive\n"},
		{name: "tail of one", opts: Options{TailLines: ptr.To[int64](1)}, want: "five\n"},
		{name: "tail of zero", opts: Options{TailLines: ptr.To[int64](0)}, want: ""},
		{name: "tail beyond the file", opts: Options{TailLines: ptr.To[int64](100)}, want: "one\ntwo\nthree\nfour\nfive\n"},
		{name: "limit bytes cuts the output", opts: Options{LimitBytes: ptr.To[int64](10)}, want: "one\ntwo\nth"},
		{name: "limit bytes at a line end", opts: Options{LimitBytes: ptr.To[int64](8)}, want: "one\ntwo\n"},
		{name: "limit counts timestamps", opts: Options{Timestamps: true, LimitBytes: ptr.To[int64](5)}, want: ts(0)[:5]},
		{name: "since goes by a line's first record", opts: Options{Since: t0.Add(3 * time.Second)}, want: "four\nfive\n"},
		{name: "stdout only", opts: Options{Stream: corev1.LogStreamStdout}, want: "one\nthree\nfive\n"},
		{name: "stderr only", opts: Options{Stream: corev1.LogStreamStderr}, want: "two\nfour\n"},
		{name: "both streams", opts: Options{Stream: corev1.LogStreamAll}, want: "one\ntwo\nthree\nfour\nfive\n"},
	}
	path := writeLog(t, log...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Copy(t.Context(), &out, path, tt.opts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCopyIgnoresUnfinishedRecord(t *testing.T) {
	path := writeLog(t, record(0, Stdout, "F", "done"), "2026-03-04T05:06:07Z stdout F half")
	var out bytes.Buffer
	if err := Copy(t.Context(), &out, path, Options{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "done\n" {
		t.Errorf("output = %q, want %q", out.String(), "done\n")
	}
}

func TestFromPodLogOptions(t *testing.T) {
	now := t0.Add(time.Hour)
	since := metav1.NewTime(t0)
	got := FromPodLogOptions(&corev1.PodLogOptions{SinceSeconds: ptr.To[int64](60), Timestamps: true, Follow: true, Stream: ptr.To("Stderr")}, now)
	if !got.Since.Equal(now.Add(-time.Minute)) || !got.Timestamps || !got.Follow || got.Stream != "Stderr" {
		t.Errorf("FromPodLogOptions = %+v", got)
	}
	if got := FromPodLogOptions(&corev1.PodLogOptions{SinceTime: &since}, now); !got.Since.Equal(t0) {
		t.Errorf("since = %v, want %v", got.Since, t0)
	}
}

// syncBuffer is a bytes.Buffer safe to read while Copy writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func appendTo(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("output = %q, want %q", out.String(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFollow(t *testing.T) {
	path := writeLog(t, record(0, Stdout, "F", "one"), record(1, Stdout, "F", "two"))
	var running atomic.Bool
	running.Store(true)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Copy(t.Context(), out, path, Options{
			TailLines: ptr.To[int64](1), Follow: true, PollInterval: 10 * time.Millisecond,
			Running: func(context.Context) bool { return running.Load() },
		})
	}()
	waitFor(t, out, "two\n")

	// A record written in two pieces, and a partial line.
	appendTo(t, path, record(2, Stdout, "P", "thr"), "2026-03-04T05:06:10Z std")
	time.Sleep(50 * time.Millisecond)
	if got := out.String(); got != "two\n" {
		t.Fatalf("output = %q before the line ended, want %q", got, "two\n")
	}
	appendTo(t, path, "out F ee\n")
	waitFor(t, out, "two\nthree\n")

	// Rotation: the runtime renames the file and starts a new one.
	if err := os.Rename(path, path+".20260304-050611"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, record(4, Stdout, "F", "four"))
	waitFor(t, out, "two\nthree\nfour\n")

	// The container stops: its last words, then the end.
	appendTo(t, path, record(5, Stdout, "F", "bye"))
	running.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Copy did not return after the container stopped")
	}
	if want := "two\nthree\nfour\nbye\n"; out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

func TestFollowStopsAtLimitAndContext(t *testing.T) {
	path := writeLog(t, record(0, Stdout, "F", "one"))
	out := &syncBuffer{}
	err := Copy(t.Context(), out, path, Options{Follow: true, LimitBytes: ptr.To[int64](2), Running: func(context.Context) bool { return true }})
	if err != nil || out.String() != "on" {
		t.Fatalf("Copy = %v, output %q; want nil, %q", err, out.String(), "on")
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Copy(ctx, &syncBuffer{}, path, Options{Follow: true, PollInterval: 10 * time.Millisecond, Running: func(context.Context) bool { return true }})
	}()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Copy did not return when its context ended")
	}
}
