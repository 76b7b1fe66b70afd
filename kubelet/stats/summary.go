package stats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Runtime is the part of CRI's RuntimeService the summary reads; a
// k8s.io/cri-client runtime service is one.
type Runtime interface {
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ListContainerStats(ctx context.Context, filter *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error)
	ListPodSandboxStats(ctx context.Context, filter *runtimeapi.PodSandboxStatsFilter) ([]*runtimeapi.PodSandboxStats, error)
}

// sandboxStatsRetry is how long the summary does without sandbox stats
// after the runtime failed to give them: containerd cannot for sandboxes
// without a pod cgroup, and the CRI client logs every failure as an error.
const sandboxStatsRetry = 5 * time.Minute

// Provider answers /stats/summary from a runtime.
type Provider struct {
	Runtime Runtime
	// Node returns the node's own figures (name and start time at least).
	Node func(ctx context.Context) NodeStats
	// Clock times the retries of sandbox stats (the real clock when nil).
	Clock clock.PassiveClock

	mu sync.Mutex
	// sandboxStatsAfter is when to ask for sandbox stats again after a
	// failure.
	sandboxStatsAfter time.Time
}

// Summary asks the runtime for its ready sandboxes, running containers and
// their stats, and summarizes them.
func (p *Provider) Summary(ctx context.Context) (*Summary, error) {
	sandboxes, err := p.Runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY},
	})
	if err != nil {
		return nil, fmt.Errorf("listing pod sandboxes: %w", err)
	}
	containers, err := p.Runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
	})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	containerStats, err := p.Runtime.ListContainerStats(ctx, &runtimeapi.ContainerStatsFilter{})
	if err != nil {
		return nil, fmt.Errorf("listing container stats: %w", err)
	}
	sandboxStats := p.sandboxStats(ctx)
	var node NodeStats
	if p.Node != nil {
		node = p.Node(ctx)
	}
	return Summarize(node, sandboxes, containers, containerStats, sandboxStats), nil
}

// sandboxStats asks the runtime for its sandboxes' stats, unless it failed
// to give them within sandboxStatsRetry. Sandbox stats are newer in CRI,
// and need pod cgroups; without them pods add up their containers.
func (p *Provider) sandboxStats(ctx context.Context) []*runtimeapi.PodSandboxStats {
	now := time.Now()
	if p.Clock != nil {
		now = p.Clock.Now()
	}
	p.mu.Lock()
	skip := now.Before(p.sandboxStatsAfter)
	p.mu.Unlock()
	if skip {
		return nil
	}
	stats, err := p.Runtime.ListPodSandboxStats(ctx, &runtimeapi.PodSandboxStatsFilter{})
	if err != nil && ctx.Err() != nil {
		// The request ended, not the runtime's ability: ask again next time.
		return nil
	}
	if err != nil {
		klog.FromContext(ctx).V(2).Info("The runtime gives no pod sandbox stats; adding up containers' stats instead", "retryAfter", sandboxStatsRetry, "err", err)
		p.mu.Lock()
		p.sandboxStatsAfter = now.Add(sandboxStatsRetry)
		p.mu.Unlock()
		return nil
	}
	return stats
}

// Summarize builds the summary: one entry per sandbox (its pod), with the
// running containers of that sandbox. A pod's CPU and memory are its
// sandbox's stats when the runtime reports them, else the sums over its
// containers.
func Summarize(node NodeStats, sandboxes []*runtimeapi.PodSandbox, containers []*runtimeapi.Container, containerStats []*runtimeapi.ContainerStats, sandboxStats []*runtimeapi.PodSandboxStats) *Summary {
	statsByContainer := map[string]*runtimeapi.ContainerStats{}
	for _, s := range containerStats {
		if s.GetAttributes() != nil {
			statsByContainer[s.GetAttributes().GetId()] = s
		}
	}
	statsBySandbox := map[string]*runtimeapi.PodSandboxStats{}
	for _, s := range sandboxStats {
		if s.GetAttributes() != nil {
			statsBySandbox[s.GetAttributes().GetId()] = s
		}
	}
	pods := map[string]*PodStats{}
	for _, sb := range sandboxes {
		md := sb.GetMetadata()
		pods[sb.GetId()] = &PodStats{
			PodRef:     PodReference{Name: md.GetName(), Namespace: md.GetNamespace(), UID: md.GetUid()},
			StartTime:  nanos(sb.GetCreatedAt()),
			Containers: []ContainerStats{},
		}
	}
	for _, c := range containers {
		pod, ok := pods[c.GetPodSandboxId()]
		if !ok {
			continue
		}
		cs := ContainerStats{Name: c.GetMetadata().GetName(), StartTime: nanos(c.GetCreatedAt())}
		if s := statsByContainer[c.GetId()]; s != nil {
			cs.CPU = cpu(s.GetCpu())
			cs.Memory = memory(s.GetMemory())
		}
		pod.Containers = append(pod.Containers, cs)
	}
	out := &Summary{Node: node, Pods: []PodStats{}}
	for id, pod := range pods {
		slices.SortFunc(pod.Containers, func(a, b ContainerStats) int { return cmp.Compare(a.Name, b.Name) })
		if linux := statsBySandbox[id].GetLinux(); linux != nil && (linux.GetCpu() != nil || linux.GetMemory() != nil) {
			pod.CPU = cpu(linux.GetCpu())
			pod.Memory = memory(linux.GetMemory())
			if n := linux.GetProcess().GetProcessCount(); n != nil {
				pod.ProcessStats = &ProcessStats{ProcessCount: ptr(n.GetValue())}
			}
		} else {
			pod.CPU, pod.Memory = sumContainers(pod.Containers)
		}
		out.Pods = append(out.Pods, *pod)
	}
	slices.SortFunc(out.Pods, func(a, b PodStats) int {
		return cmp.Or(cmp.Compare(a.PodRef.Namespace, b.PodRef.Namespace), cmp.Compare(a.PodRef.Name, b.PodRef.Name))
	})
	return out
}

func cpu(u *runtimeapi.CpuUsage) *CPUStats {
	if u == nil {
		return nil
	}
	return &CPUStats{
		Time:                 nanos(u.GetTimestamp()),
		UsageNanoCores:       value(u.GetUsageNanoCores()),
		UsageCoreNanoSeconds: value(u.GetUsageCoreNanoSeconds()),
	}
}

func memory(u *runtimeapi.MemoryUsage) *MemoryStats {
	if u == nil {
		return nil
	}
	return &MemoryStats{
		Time:            nanos(u.GetTimestamp()),
		AvailableBytes:  value(u.GetAvailableBytes()),
		UsageBytes:      value(u.GetUsageBytes()),
		WorkingSetBytes: value(u.GetWorkingSetBytes()),
		RSSBytes:        value(u.GetRssBytes()),
		PageFaults:      value(u.GetPageFaults()),
		MajorPageFaults: value(u.GetMajorPageFaults()),
	}
}

// sumContainers adds up the containers' CPU and memory, stamped with the
// latest of their times.
func sumContainers(containers []ContainerStats) (*CPUStats, *MemoryStats) {
	var c *CPUStats
	var m *MemoryStats
	for _, cs := range containers {
		if cs.CPU != nil {
			if c == nil {
				c = &CPUStats{}
			}
			c.Time = later(c.Time, cs.CPU.Time)
			c.UsageNanoCores = add(c.UsageNanoCores, cs.CPU.UsageNanoCores)
			c.UsageCoreNanoSeconds = add(c.UsageCoreNanoSeconds, cs.CPU.UsageCoreNanoSeconds)
		}
		if cs.Memory != nil {
			if m == nil {
				m = &MemoryStats{}
			}
			m.Time = later(m.Time, cs.Memory.Time)
			m.UsageBytes = add(m.UsageBytes, cs.Memory.UsageBytes)
			m.WorkingSetBytes = add(m.WorkingSetBytes, cs.Memory.WorkingSetBytes)
			m.RSSBytes = add(m.RSSBytes, cs.Memory.RSSBytes)
			m.PageFaults = add(m.PageFaults, cs.Memory.PageFaults)
			m.MajorPageFaults = add(m.MajorPageFaults, cs.Memory.MajorPageFaults)
		}
	}
	return c, m
}

func add(sum, v *uint64) *uint64 {
	if v == nil {
		return sum
	}
	if sum == nil {
		return ptr(*v)
	}
	return ptr(*sum + *v)
}

func later(a, b metav1.Time) metav1.Time {
	if b.After(a.Time) {
		return b
	}
	return a
}

func value(v *runtimeapi.UInt64Value) *uint64 {
	if v == nil {
		return nil
	}
	return ptr(v.GetValue())
}

func nanos(ns int64) metav1.Time {
	if ns == 0 {
		return metav1.Time{}
	}
	return metav1.NewTime(time.Unix(0, ns).UTC())
}

func ptr[T any](v T) *T { return &v }
