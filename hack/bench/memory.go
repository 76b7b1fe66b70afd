package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// memoryClients is the concurrency objects are stored with.
const memoryClients = 50

// memoryPoint is the nucleus' memory with a number of objects stored.
type memoryPoint struct {
	objects int
	// settled is set for readings taken after waiting, not right after
	// storing.
	settled   bool
	rss, peak int64
}

// memoryResult is what the memory phase measured.
type memoryResult struct {
	// kind is what was stored; fallback says Pods were not served.
	kind     string
	fallback bool
	points   []memoryPoint
	// store is the creation of all objects.
	store sample
}

// idle and full are the first and last readings.
func (m memoryResult) idle() memoryPoint { return m.points[0] }
func (m memoryResult) full() memoryPoint { return m.points[len(m.points)-1] }

// perThousand is the RSS growth per 1,000 stored objects.
func (m memoryResult) perThousand() int64 {
	idle, full := m.idle(), m.full()
	if full.objects == 0 {
		return 0
	}
	return (full.rss - idle.rss) * 1000 / int64(full.objects)
}

// benchMemory runs a nucleus on a fresh dataDir, reads its memory idle, then
// stores c.memObjects Pods (ConfigMaps if Pods are not served) with 50
// clients, reading its memory after each fifth and again after settling.
func benchMemory(ctx context.Context, c *config, dataDir string) (memoryResult, error) {
	var r memoryResult
	n, err := startNucleus(ctx, c.bin, dataDir)
	if err != nil {
		return r, err
	}
	defer n.stop()
	if _, err := n.waitReady(ctx, 2*time.Minute); err != nil {
		return r, err
	}
	clients, err := newClients(n.kubeconfig(), memoryClients)
	if err != nil {
		return r, err
	}
	k := pods
	served, err := k.served(ctx, clients[0])
	if err != nil {
		return r, err
	}
	if !served {
		progressf("Pods are not served; storing ConfigMaps instead")
		k, r.fallback = configMaps, true
	}
	r.kind = k.name
	const ns = "bench-memory"
	if err := createNamespace(ctx, clients[0], ns); err != nil {
		return r, err
	}
	if err := warm(ctx, clients); err != nil {
		return r, err
	}

	read := func(objects int, settled bool) error {
		if settled {
			if err := sleep(ctx, c.settle); err != nil {
				return err
			}
		}
		rss, peak, err := n.memory()
		if err != nil {
			return err
		}
		r.points = append(r.points, memoryPoint{objects: objects, settled: settled, rss: rss, peak: peak})
		progressf("memory with %6d %ss stored: RSS %s (peak %s)", objects, k.name, fmtBytes(rss), fmtBytes(peak))
		return nil
	}
	if err := read(0, true); err != nil {
		return r, err
	}
	workers := createWorkers(k, clients, ns, func(seq int) string { return fmt.Sprintf("obj-%06d", seq) })
	const steps = 5
	start := time.Now()
	for step := range steps {
		first, last := c.memObjects*step/steps, c.memObjects*(step+1)/steps
		s := measure(ctx, workers, first, last-first, time.Hour)
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if s.failures() > 0 {
			return r, fmt.Errorf("storing %ss: %v", k.name, s.errors)
		}
		r.store.latencies = append(r.store.latencies, s.latencies...)
		if err := read(last, false); err != nil {
			return r, err
		}
	}
	r.store.elapsed = time.Since(start)
	slices.Sort(r.store.latencies)
	if err := read(c.memObjects, true); err != nil {
		return r, err
	}
	return r, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
