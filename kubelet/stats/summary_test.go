package stats

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

var (
	t1 = time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	t2 = time.Date(2026, 1, 1, 0, 0, 2, 0, time.UTC)
)

func sandbox(id, ns, name, uid string) *runtimeapi.PodSandbox {
	return &runtimeapi.PodSandbox{Id: id, CreatedAt: t1.UnixNano(), State: runtimeapi.PodSandboxState_SANDBOX_READY,
		Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: ns, Uid: uid}}
}

func container(id, sandboxID, name string) *runtimeapi.Container {
	return &runtimeapi.Container{Id: id, PodSandboxId: sandboxID, CreatedAt: t2.UnixNano(),
		State: runtimeapi.ContainerState_CONTAINER_RUNNING, Metadata: &runtimeapi.ContainerMetadata{Name: name}}
}

func u64(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }

func containerStats(id string, at time.Time, cores, cumulative, workingSet uint64) *runtimeapi.ContainerStats {
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{Id: id},
		Cpu:        &runtimeapi.CpuUsage{Timestamp: at.UnixNano(), UsageNanoCores: u64(cores), UsageCoreNanoSeconds: u64(cumulative)},
		Memory:     &runtimeapi.MemoryUsage{Timestamp: at.UnixNano(), WorkingSetBytes: u64(workingSet), UsageBytes: u64(workingSet + 1)},
	}
}

func p(v uint64) *uint64 { return &v }

func TestSummarize(t *testing.T) {
	node := NodeStats{NodeName: "n1", StartTime: metav1.NewTime(t1)}
	sandboxes := []*runtimeapi.PodSandbox{sandbox("sb-web", "default", "web", "u-web"), sandbox("sb-db", "data", "db", "u-db")}
	containers := []*runtimeapi.Container{
		container("c-app", "sb-web", "app"),
		container("c-log", "sb-web", "log"),
		container("c-db", "sb-db", "postgres"),
		container("c-orphan", "sb-gone", "x"),
	}
	cstats := []*runtimeapi.ContainerStats{
		containerStats("c-app", t1, 100, 1000, 10),
		containerStats("c-log", t2, 5, 50, 1),
		containerStats("c-db", t2, 7, 70, 700),
	}
	sbstats := []*runtimeapi.PodSandboxStats{{
		Attributes: &runtimeapi.PodSandboxAttributes{Id: "sb-db"},
		Linux: &runtimeapi.LinuxPodSandboxStats{
			Cpu:     &runtimeapi.CpuUsage{Timestamp: t2.UnixNano(), UsageNanoCores: u64(8), UsageCoreNanoSeconds: u64(80)},
			Memory:  &runtimeapi.MemoryUsage{Timestamp: t2.UnixNano(), WorkingSetBytes: u64(800)},
			Process: &runtimeapi.ProcessUsage{ProcessCount: u64(3)},
		},
	}}

	got := Summarize(node, sandboxes, containers, cstats, sbstats)
	cpuAt := func(at time.Time, cores, cumulative uint64) *CPUStats {
		return &CPUStats{Time: metav1.NewTime(at), UsageNanoCores: p(cores), UsageCoreNanoSeconds: p(cumulative)}
	}
	memAt := func(at time.Time, workingSet uint64) *MemoryStats {
		return &MemoryStats{Time: metav1.NewTime(at), WorkingSetBytes: p(workingSet), UsageBytes: p(workingSet + 1)}
	}
	want := &Summary{
		Node: node,
		Pods: []PodStats{{
			PodRef:       PodReference{Name: "db", Namespace: "data", UID: "u-db"},
			StartTime:    metav1.NewTime(t1),
			Containers:   []ContainerStats{{Name: "postgres", StartTime: metav1.NewTime(t2), CPU: cpuAt(t2, 7, 70), Memory: memAt(t2, 700)}},
			CPU:          cpuAt(t2, 8, 80),
			Memory:       &MemoryStats{Time: metav1.NewTime(t2), WorkingSetBytes: p(800)},
			ProcessStats: &ProcessStats{ProcessCount: p(3)},
		}, {
			PodRef:    PodReference{Name: "web", Namespace: "default", UID: "u-web"},
			StartTime: metav1.NewTime(t1),
			Containers: []ContainerStats{
				{Name: "app", StartTime: metav1.NewTime(t2), CPU: cpuAt(t1, 100, 1000), Memory: memAt(t1, 10)},
				{Name: "log", StartTime: metav1.NewTime(t2), CPU: cpuAt(t2, 5, 50), Memory: memAt(t2, 1)},
			},
			// No sandbox stats: the sum of the containers, at the latest time.
			CPU:    cpuAt(t2, 105, 1050),
			Memory: &MemoryStats{Time: metav1.NewTime(t2), WorkingSetBytes: p(11), UsageBytes: p(13)},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	// The JSON field names of upstream's stats/v1alpha1.
	raw, err := json.Marshal(got.Pods[0])
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"podRef", "startTime", "containers", "cpu", "memory", "process_stats"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("pod stats JSON %s has no %q", raw, key)
		}
	}
}

type fakeRuntime struct{}

func (fakeRuntime) ListPodSandbox(_ context.Context, f *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	if f.GetState().GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, nil
	}
	return []*runtimeapi.PodSandbox{sandbox("sb", "default", "web", "u")}, nil
}

func (fakeRuntime) ListContainers(_ context.Context, f *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	if f.GetState().GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, nil
	}
	return []*runtimeapi.Container{container("c", "sb", "app")}, nil
}

func (fakeRuntime) ListContainerStats(context.Context, *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	return []*runtimeapi.ContainerStats{containerStats("c", t1, 1, 2, 3)}, nil
}

func (fakeRuntime) ListPodSandboxStats(context.Context, *runtimeapi.PodSandboxStatsFilter) ([]*runtimeapi.PodSandboxStats, error) {
	return nil, context.DeadlineExceeded
}

func TestProviderAsksForReadySandboxesAndRunningContainers(t *testing.T) {
	p := &Provider{Runtime: fakeRuntime{}, Node: func(context.Context) NodeStats { return NodeStats{NodeName: "n1"} }}
	s, err := p.Summary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.Node.NodeName != "n1" || len(s.Pods) != 1 || len(s.Pods[0].Containers) != 1 || *s.Pods[0].CPU.UsageCoreNanoSeconds != 2 {
		t.Errorf("summary = %+v", s)
	}
}

// countingRuntime counts the runtime's sandbox stats calls, which fail.
type countingRuntime struct {
	fakeRuntime
	sandboxStatsCalls int
}

func (r *countingRuntime) ListPodSandboxStats(context.Context, *runtimeapi.PodSandboxStatsFilter) ([]*runtimeapi.PodSandboxStats, error) {
	r.sandboxStatsCalls++
	return nil, errors.New("failed to get cgroup metrics for sandbox because cgroupPath is empty")
}

func TestProviderRetriesSandboxStatsLater(t *testing.T) {
	rt := &countingRuntime{}
	clock := clocktesting.NewFakePassiveClock(t1)
	p := &Provider{Runtime: rt, Clock: clock}
	for i, step := range []struct {
		after     time.Duration
		wantCalls int
	}{
		{0, 1},
		// Failed: not asked again for five minutes.
		{time.Second, 1},
		{4 * time.Minute, 1},
		{time.Minute, 2},
		{time.Second, 2},
	} {
		clock.SetTime(clock.Now().Add(step.after))
		s, err := p.Summary(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if rt.sandboxStatsCalls != step.wantCalls {
			t.Errorf("summary %d: %d sandbox stats calls, want %d", i, rt.sandboxStatsCalls, step.wantCalls)
		}
		// The pod adds up its containers meanwhile.
		if len(s.Pods) != 1 || s.Pods[0].CPU == nil || *s.Pods[0].CPU.UsageCoreNanoSeconds != 2 {
			t.Errorf("summary %d: pods %+v, want the container's figures", i, s.Pods)
		}
	}
}
