package containerlogs

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

// timestampFormat is how --timestamps prints times: RFC 3339 with all nine
// digits of nanoseconds, as the kubelet does.
const timestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Options select and shape what Copy writes.
type Options struct {
	// Timestamps prefixes each line with the time of its first record.
	Timestamps bool
	// TailLines, when set, starts with the last TailLines lines.
	TailLines *int64
	// LimitBytes, when set, stops after that many bytes.
	LimitBytes *int64
	// Since, when set, skips records written before it.
	Since time.Time
	// Stream keeps only one stream: corev1.LogStreamStdout or
	// LogStreamStderr. Empty or LogStreamAll keeps both.
	Stream string
	// Follow keeps reading new records while Running reports true.
	Follow bool
	// Running reports whether the container still writes its log; Copy
	// asks when it has waited a second without output.
	Running func(ctx context.Context) bool
	// PollInterval is how often a follower looks for new output (100ms if
	// zero).
	PollInterval time.Duration
}

// FromPodLogOptions turns the API's options into Options; now anchors
// sinceSeconds.
func FromPodLogOptions(o *corev1.PodLogOptions, now time.Time) Options {
	opts := Options{
		Timestamps: o.Timestamps,
		TailLines:  o.TailLines,
		LimitBytes: o.LimitBytes,
		Follow:     o.Follow,
	}
	if o.SinceSeconds != nil {
		opts.Since = now.Add(-time.Duration(*o.SinceSeconds) * time.Second)
	}
	if o.SinceTime != nil {
		opts.Since = o.SinceTime.Time
	}
	if o.Stream != nil {
		opts.Stream = *o.Stream
	}
	return opts
}

// errLimitReached ends a copy that wrote LimitBytes.
var errLimitReached = errors.New("log byte limit reached")

// Copy writes the log file at path to w as opts ask. With Follow it
// returns when the container stops running (after writing what it wrote
// last) or ctx ends; a log rotated meanwhile is followed into the new file.
func Copy(ctx context.Context, w io.Writer, path string, opts Options) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { f.Close() }()
	out := newLineWriter(w, opts)
	if opts.TailLines != nil {
		start, err := tailOffset(f, *opts.TailLines)
		if err != nil {
			return err
		}
		if _, err := f.Seek(start.offset, io.SeekStart); err != nil {
			return err
		}
		out.skip = start.midLine
	}
	fr := &fileReader{f: f, r: bufio.NewReader(f), out: out}
	err = fr.readAvailable(ctx)
	if err != nil {
		return ignoreLimit(err)
	}
	if !opts.Follow {
		return ignoreLimit(fr.out.flush())
	}

	poll := opts.PollInterval
	if poll == 0 {
		poll = 100 * time.Millisecond
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	idleSince := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		n := fr.read
		if err := fr.readAvailable(ctx); err != nil {
			return ignoreLimit(err)
		}
		if rotated, err := fr.reopenIfRotated(path); err != nil {
			return err
		} else if rotated {
			if err := fr.readAvailable(ctx); err != nil {
				return ignoreLimit(err)
			}
		}
		if fr.read != n {
			idleSince = time.Now()
			continue
		}
		if time.Since(idleSince) >= time.Second {
			if opts.Running != nil && !opts.Running(ctx) {
				// Whatever it wrote before stopping.
				if err := fr.readAvailable(ctx); err != nil {
					return ignoreLimit(err)
				}
				return ignoreLimit(fr.out.flush())
			}
			idleSince = time.Now()
		}
	}
}

func ignoreLimit(err error) error {
	if errors.Is(err, errLimitReached) {
		return nil
	}
	return err
}

// fileReader reads records from the file being followed.
type fileReader struct {
	f   *os.File
	r   *bufio.Reader
	out *lineWriter
	// pending is the start of a record whose newline is not written yet.
	pending []byte
	// read counts the bytes read, to notice progress.
	read int64
}

// readAvailable hands every complete record up to the end of the file to
// the writer.
func (fr *fileReader) readAvailable(ctx context.Context) error {
	for {
		line, err := fr.r.ReadBytes('\n')
		fr.read += int64(len(line))
		if err != nil {
			if err == io.EOF {
				fr.pending = append(fr.pending, line...)
				return nil
			}
			return err
		}
		if len(fr.pending) > 0 {
			line = append(fr.pending, line...)
			fr.pending = nil
		}
		rec, perr := ParseRecord(line)
		if perr != nil {
			klog.FromContext(ctx).V(2).Info("Skipping a malformed log record", "file", fr.f.Name(), "err", perr)
			continue
		}
		if err := fr.out.write(rec); err != nil {
			return err
		}
	}
}

// reopenIfRotated switches to the file now at path when the log was
// rotated (renamed away, a new file created) or starts over when it was
// truncated.
func (fr *fileReader) reopenIfRotated(path string) (bool, error) {
	current, err := fr.f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Stat(path)
	if err != nil {
		// Between the rename and the runtime creating the new file.
		return false, nil
	}
	if os.SameFile(current, now) {
		offset, err := fr.f.Seek(0, io.SeekCurrent)
		if err != nil || now.Size() >= offset-int64(fr.r.Buffered()) {
			return false, err
		}
		// Truncated in place: start over.
		if _, err := fr.f.Seek(0, io.SeekStart); err != nil {
			return false, err
		}
		fr.r.Reset(fr.f)
		fr.pending = nil
		return true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, nil
	}
	fr.f.Close()
	fr.f, fr.pending = f, nil
	fr.r.Reset(f)
	return true, nil
}

// maxPendingLine bounds how much of a line split into partial records is
// held back waiting for its end; a longer line is written in pieces.
const maxPendingLine = 1 << 20

// lineWriter turns records into output lines. Partial records are joined
// per stream before they are written, so that lines of stdout and stderr
// interleaved by the runtime come out whole.
type lineWriter struct {
	w    io.Writer
	opts Options
	// remaining is the byte budget; negative for none.
	remaining int64
	// pending holds, per stream, the line whose end has not been read.
	pending map[string]*pendingLine
	// skip marks streams whose records are dropped up to the end of their
	// current line (the tail starts after that line began).
	skip map[string]bool
}

type pendingLine struct {
	// time is that of the line's first record.
	time    time.Time
	content []byte
	// written is true once a piece of the line went out.
	written bool
}

func newLineWriter(w io.Writer, opts Options) *lineWriter {
	lw := &lineWriter{w: w, opts: opts, remaining: -1, pending: map[string]*pendingLine{}}
	if opts.LimitBytes != nil {
		lw.remaining = *opts.LimitBytes
	}
	return lw
}

func (lw *lineWriter) write(rec Record) error {
	if lw.skip[rec.Stream] {
		lw.skip[rec.Stream] = rec.Partial
		return nil
	}
	p := lw.pending[rec.Stream]
	if p == nil {
		p = &pendingLine{time: rec.Time}
	}
	p.content = append(p.content, rec.Content...)
	if rec.Partial {
		lw.pending[rec.Stream] = p
		if len(p.content) < maxPendingLine {
			return nil
		}
		err := lw.emit(rec.Stream, p, false)
		p.content, p.written = p.content[:0], true
		return err
	}
	delete(lw.pending, rec.Stream)
	return lw.emit(rec.Stream, p, true)
}

// flush writes the lines still waiting for their end, as they are.
func (lw *lineWriter) flush() error {
	for _, stream := range []string{Stdout, Stderr} {
		if p := lw.pending[stream]; p != nil && len(p.content) > 0 {
			delete(lw.pending, stream)
			if err := lw.emit(stream, p, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit writes a line (or a piece of one) if the options keep it.
func (lw *lineWriter) emit(stream string, p *pendingLine, newline bool) error {
	if !lw.opts.Since.IsZero() && p.time.Before(lw.opts.Since) {
		return nil
	}
	switch lw.opts.Stream {
	case corev1.LogStreamStdout:
		if stream != Stdout {
			return nil
		}
	case corev1.LogStreamStderr:
		if stream != Stderr {
			return nil
		}
	}
	var buf []byte
	if lw.opts.Timestamps && !p.written {
		buf = append(p.time.AppendFormat(buf, timestampFormat), ' ')
	}
	buf = append(buf, p.content...)
	if newline {
		buf = append(buf, '\n')
	}
	if lw.remaining >= 0 && int64(len(buf)) >= lw.remaining {
		if _, err := lw.w.Write(buf[:lw.remaining]); err != nil {
			return err
		}
		lw.remaining = 0
		return errLimitReached
	}
	if lw.remaining > 0 {
		lw.remaining -= int64(len(buf))
	}
	_, err := lw.w.Write(buf)
	return err
}

// tailStart is where the last lines of a log start: an offset, and the
// streams whose line began before it (their first records there end
// lines that are not part of the tail).
type tailStart struct {
	offset  int64
	midLine map[string]bool
}

// tailOffset finds where the last n lines of the log start: a line starts
// at a record following a full record of its stream (or the file's
// start). Zero lines start at the end.
func tailOffset(f *os.File, n int64) (tailStart, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return tailStart{}, err
	}
	if n == 0 {
		end, err := f.Seek(0, io.SeekEnd)
		return tailStart{offset: end}, err
	}
	// A ring of the last n line starts.
	ring := make([]tailStart, 0, min(n, 1<<16))
	next := 0
	midLine := map[string]bool{}
	var offset int64
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			if err == io.EOF {
				break
			}
			return tailStart{}, err
		}
		start := offset
		offset += int64(len(line))
		rec, perr := ParseRecord(line)
		if perr != nil {
			continue
		}
		if !midLine[rec.Stream] {
			ts := tailStart{offset: start, midLine: map[string]bool{Stdout: midLine[Stdout], Stderr: midLine[Stderr]}}
			if int64(len(ring)) < n {
				ring = append(ring, ts)
			} else {
				ring[next] = ts
				next = (next + 1) % len(ring)
			}
		}
		midLine[rec.Stream] = rec.Partial
	}
	switch {
	case len(ring) == 0:
		return tailStart{offset: offset}, nil
	case int64(len(ring)) < n:
		return ring[0], nil
	default:
		return ring[next], nil
	}
}
