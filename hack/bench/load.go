package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// worker performs operation number seq as one client and returns the latency
// to record for it.
type worker func(ctx context.Context, seq int) (time.Duration, error)

// opTimeout bounds one operation, so that a stuck request fails instead of
// stalling a cell.
const opTimeout = 30 * time.Second

// measure runs the workers concurrently, one goroutine each, handing out
// operation numbers first..first+total-1 until all are taken or limit has
// passed, and collects their latencies.
func measure(ctx context.Context, workers []worker, first, total int, limit time.Duration) sample {
	var next atomic.Int64
	next.Store(int64(first))
	end := int64(first + total)
	deadline := time.Now().Add(limit)

	var mu sync.Mutex
	s := sample{errors: map[string]int{}}
	var wg sync.WaitGroup
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			var latencies []time.Duration
			errs := map[string]int{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				seq := next.Add(1) - 1
				if seq >= end {
					break
				}
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				d, err := w(opCtx, int(seq))
				cancel()
				if err != nil {
					errs[describeError(err)]++
					continue
				}
				latencies = append(latencies, d)
			}
			mu.Lock()
			defer mu.Unlock()
			s.latencies = append(s.latencies, latencies...)
			for msg, n := range errs {
				s.errors[msg] += n
			}
		})
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	slices.Sort(s.latencies)
	return s
}

// timed runs f and returns how long it took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// describeError shortens an error to what identifies it in the report: the
// HTTP status and reason of API errors.
func describeError(err error) string {
	var status apierrors.APIStatus
	msg := err.Error()
	if errors.As(err, &status) {
		st := status.Status()
		msg = fmt.Sprintf("HTTP %d %s: %s", st.Code, st.Reason, st.Message)
	}
	const max = 200
	if len(msg) > max {
		msg = msg[:max] + "…"
	}
	return msg
}
