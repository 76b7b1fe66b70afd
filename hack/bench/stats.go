package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// sample is the outcome of one measured batch of operations.
type sample struct {
	// latencies of the successful operations, sorted.
	latencies []time.Duration
	// errors counts failed operations by message.
	errors map[string]int
	// elapsed is the wall time of the batch.
	elapsed time.Duration
}

// failures is the number of failed operations.
func (s sample) failures() int {
	n := 0
	for _, c := range s.errors {
		n += c
	}
	return n
}

// quantile returns the q-quantile (0 < q ≤ 1) of the latencies by the
// nearest-rank method, or 0 without any.
func (s sample) quantile(q float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(s.latencies)))) - 1
	return s.latencies[max(rank, 0)]
}

// rate is the successful operations per second.
func (s sample) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(len(s.latencies)) / s.elapsed.Seconds()
}

// summary is a one-line account of s for progress output.
func (s sample) summary() string {
	return fmt.Sprintf("%5d ops in %6s = %7s  p50 %-9s p99 %-9s errors %d",
		len(s.latencies), s.elapsed.Round(time.Millisecond), fmtRate(s.rate()),
		fmtDuration(s.quantile(0.5)), fmtDuration(s.quantile(0.99)), s.failures())
}

// medianP90 returns the median and 90th percentile of ds.
func medianP90(ds []time.Duration) (median, p90 time.Duration) {
	s := sample{latencies: slices.Sorted(slices.Values(ds))}
	return s.quantile(0.5), s.quantile(0.9)
}

// fmtDuration prints d with three significant digits, in milliseconds below
// a second and in seconds from there.
func fmtDuration(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 10000:
		return fmt.Sprintf("%.1f s", ms/1000)
	case ms >= 1000:
		return fmt.Sprintf("%.2f s", ms/1000)
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms >= 1:
		return fmt.Sprintf("%.2f ms", ms)
	default:
		return fmt.Sprintf("%.3f ms", ms)
	}
}

// fmtRate prints operations per second.
func fmtRate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f/s", r)
	}
	return fmt.Sprintf("%.1f/s", r)
}

// fmtRatio prints a/b as a multiple, or "–" if b is zero.
func fmtRatio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	switch r := a / b; {
	case r >= 10:
		return fmt.Sprintf("%.0f×", r)
	case r >= 1:
		return fmt.Sprintf("%.1f×", r)
	default:
		return fmt.Sprintf("%.2f×", r)
	}
}

// fmtBytes prints a byte count in MiB.
func fmtBytes(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
