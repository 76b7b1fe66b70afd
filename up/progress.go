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

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// stage runs fn as the stage called name. fn may return a detail shown
// after the name (e.g. "already running").
func (p *progress) stage(name string, fn func() (string, error)) error {
	start := time.Now()
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	if p.terminal {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				fmt.Fprintf(p.out, "\r %s %s (%s)", spinner[i%len(spinner)], name, time.Since(start).Round(time.Second))
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
	detail, err := fn()
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
