// Package containerlogs reads the log files container runtimes write for
// the kubelet, in the CRI logging format, and serves them the way
// `kubectl logs` expects: raw lines, optionally with timestamps, the last
// N lines, since a time, at most N bytes, following new output while the
// container runs.
//
// A CRI log file holds one record per line:
//
//	2026-01-02T03:04:05.123456789Z stdout F hello world
//	2026-01-02T03:04:05.223456789Z stderr P a long line cut in
//	2026-01-02T03:04:05.223456799Z stderr F  two records
//
// The tag is F for a record that ends a line and P for a partial one the
// runtime split (long lines); the reader joins partial records back into
// one line.
package containerlogs

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Streams of a record.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Record is one line of a CRI log file.
type Record struct {
	// Time is when the runtime read the output.
	Time time.Time
	// Stream is Stdout or Stderr.
	Stream string
	// Partial is true when the line continues in the next record of the
	// same stream.
	Partial bool
	// Content is the output, without the newline.
	Content []byte
}

// ParseRecord parses one line of a CRI log file (with or without its
// trailing newline).
func ParseRecord(line []byte) (Record, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return Record{}, errors.New("timestamp is not found")
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return Record{}, fmt.Errorf("unexpected timestamp format %q: %w", ts, err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return Record{}, errors.New("stream type is not found")
	}
	if s := string(stream); s != Stdout && s != Stderr {
		return Record{}, fmt.Errorf("unexpected stream type %q", stream)
	}
	tags, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return Record{}, errors.New("log tag is not found")
	}
	// Tags are ':'-separated; the first says partial or full.
	first, _, _ := bytes.Cut(tags, []byte{':'})
	return Record{Time: t, Stream: string(stream), Partial: string(first) == "P", Content: content}, nil
}
