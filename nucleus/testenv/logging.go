package testenv

import (
	"bytes"
	"flag"
	"io"
	"runtime"
	"strings"
	"sync"

	"k8s.io/klog/v2"
)

// logLines is how many of the latest log lines startup errors show.
const logLines = 40

// sink receives klog's output: it keeps the latest lines and copies them to
// the writers of the Envs that asked for logs.
var sink = &logSink{}

type logSink struct {
	mu      sync.Mutex
	lines   []string
	writers []io.Writer
	// fatal is the latest fatal log line.
	fatal string
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.writers {
		_, _ = w.Write(p)
	}
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.HasPrefix(l, "F") {
			s.fatal = l
		}
		s.lines = append(s.lines, l)
	}
	if len(s.lines) > logLines {
		s.lines = append([]string(nil), s.lines[len(s.lines)-logLines:]...)
	}
	return len(p), nil
}

var setupOnce sync.Once

// setupLogging routes klog into the sink, once per process, and adds w (if
// not nil) to its writers. It also replaces klog.OsExit: a klog.Fatal while an
// Env runs stops the logging goroutine and fails that Env instead of
// exiting the process.
func setupLogging(w io.Writer) {
	setupOnce.Do(func() {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		for name, value := range map[string]string{
			"logtostderr":     "false",
			"alsologtostderr": "false",
			"stderrthreshold": "FATAL",
			"one_output":      "true",
		} {
			_ = fs.Set(name, value)
		}
		klog.SetOutput(sink)
		previousExit := klog.OsExit
		klog.OsExit = func(code int) {
			if !reportFatal() {
				previousExit(code)
			}
			// Callers of klog.Fatal do not expect it to return.
			runtime.Goexit()
		}
	})
	if w != nil {
		sink.mu.Lock()
		sink.writers = append(sink.writers, w)
		sink.mu.Unlock()
	}
}

// logTail returns the latest log lines, for error messages.
func logTail() string {
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.lines) == 0 {
		return ""
	}
	var b bytes.Buffer
	b.WriteString("\nlatest server logs:\n")
	for _, l := range sink.lines {
		b.WriteString("  ")
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

var (
	fatalMu    sync.Mutex
	fatalSinks = map[chan string]bool{}
)

func registerFatalSink(c chan string) {
	fatalMu.Lock()
	defer fatalMu.Unlock()
	fatalSinks[c] = true
}

func unregisterFatalSink(c chan string) {
	fatalMu.Lock()
	defer fatalMu.Unlock()
	delete(fatalSinks, c)
}

// reportFatal passes the latest fatal log line to every running Env and
// reports whether there was one to tell.
func reportFatal() bool {
	sink.mu.Lock()
	msg := sink.fatal
	sink.mu.Unlock()
	fatalMu.Lock()
	defer fatalMu.Unlock()
	for c := range fatalSinks {
		select {
		case c <- msg:
		default:
		}
	}
	return len(fatalSinks) > 0
}
