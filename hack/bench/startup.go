package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// startupResult holds the measured startups and shutdowns.
type startupResult struct {
	// fresh are the times from process start to /readyz 200 on an empty
	// data dir; restart the same on the data dir a fresh start left.
	fresh, restart []time.Duration
	// stop are the times from SIGTERM to exit.
	stop []time.Duration
}

// benchStartup starts and stops the nucleus c.startups times on a fresh data
// dir under root, each followed by a restart on the data it left.
func benchStartup(ctx context.Context, c *config, root string) (startupResult, error) {
	var r startupResult
	for i := range c.startups {
		dir := filepath.Join(root, fmt.Sprintf("run-%d", i))
		for _, restart := range []bool{false, true} {
			ready, stopped, err := startAndStop(ctx, c.bin, dir)
			if err != nil {
				return r, err
			}
			what := "fresh"
			if restart {
				what = "restart"
				r.restart = append(r.restart, ready)
			} else {
				r.fresh = append(r.fresh, ready)
			}
			r.stop = append(r.stop, stopped)
			progressf("startup %d/%d %-7s ready in %s, stopped in %s", i+1, c.startups, what, fmtDuration(ready), fmtDuration(stopped))
		}
		if err := os.RemoveAll(dir); err != nil {
			return r, err
		}
	}
	return r, nil
}

// startAndStop starts a nucleus on dataDir, waits until it is ready and stops
// it, returning both durations.
func startAndStop(ctx context.Context, bin, dataDir string) (ready, stopped time.Duration, err error) {
	n, err := startNucleus(ctx, bin, dataDir)
	if err != nil {
		return 0, 0, err
	}
	ready, err = n.waitReady(ctx, 2*time.Minute)
	if err != nil {
		n.stop()
		return 0, 0, err
	}
	stopped, err = n.stop()
	return ready, stopped, err
}
