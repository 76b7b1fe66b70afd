package up

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress prints one line per stage: a spinner while it runs (on a
// terminal), then ✓ or ✗ with its duration.
type progress struct {
	out      io.Writer
	terminal bool
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// maxStatus is the longest status shown next to a spinner.
const maxStatus = 50

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// stage runs fn as the stage called name. fn may return a detail shown
// after the name (e.g. "already running").
func (p *progress) stage(name string, fn func() (string, error)) error {
	return p.stageWithStatus(name, func(func(string)) (string, error) { return fn() })
}

// stageWithStatus runs fn as stage does; fn may also call status to show
// what it is waiting for next to the spinner (on a terminal only).
func (p *progress) stageWithStatus(name string, fn func(status func(string)) (string, error)) error {
	start := time.Now()
	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		mu      sync.Mutex
		current string
	)
	status := func(s string) {
		// One line, whatever the terminal's width.
		if r := []rune(s); len(r) > maxStatus {
			s = string(r[:maxStatus-1]) + "…"
		}
		mu.Lock()
		defer mu.Unlock()
		current = s
	}
	if p.terminal {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				mu.Lock()
				s := current
				mu.Unlock()
				if s != "" {
					s = ": " + s
				}
				// \033[K clears what a longer status left.
				fmt.Fprintf(p.out, "\r %s %s (%s)%s\033[K", spinner[i%len(spinner)], name, time.Since(start).Round(time.Second), s)
				select {
				case <-done:
					fmt.Fprint(p.out, "\r\033[K")
					return
				case <-tick.C:
				}
			}
		}()
	} else {
		fmt.Fprintf(p.out, " … %s\n", name)
	}
	detail, err := fn(status)
	close(done)
	wg.Wait()
	took := time.Since(start).Round(100 * time.Millisecond)
	if detail != "" {
		detail = ": " + detail
	}
	if err != nil {
		fmt.Fprintf(p.out, " ✗ %s (%s)\n", name, took)
		return err
	}
	fmt.Fprintf(p.out, " ✓ %s%s (%s)\n", name, detail, took)
	return nil
}
