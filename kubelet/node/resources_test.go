package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// quantities renders a ResourceList as strings, for readable diffs.
func quantities(l corev1.ResourceList) map[corev1.ResourceName]string {
	out := map[corev1.ResourceName]string{}
	for k, v := range l {
		out[k] = v.String()
	}
	return out
}

func TestCapacityAndAllocatable(t *testing.T) {
	gi := int64(1 << 30)
	for _, tc := range []struct {
		name            string
		machine         Machine
		maxPods         int64
		reserved        corev1.ResourceList
		wantCapacity    map[corev1.ResourceName]string
		wantAllocatable map[corev1.ResourceName]string
	}{
		{
			name:    "a typical machine",
			machine: Machine{NumCPU: 8, MemoryTotal: 16 * gi, Filesystem: Filesystem{Capacity: 100 * gi}, HugePages: []HugePages{{PageSize: 2 << 20}, {PageSize: 1 << 30}}},
			maxPods: 110,
			wantCapacity: map[corev1.ResourceName]string{
				"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi", "hugepages-2Mi": "0", "hugepages-1Gi": "0",
			},
			wantAllocatable: map[corev1.ResourceName]string{
				// 100Mi of memory and 10% of the storage are the eviction thresholds.
				"cpu": "8", "memory": "16284Mi", "pods": "110", "ephemeral-storage": "90Gi", "hugepages-2Mi": "0", "hugepages-1Gi": "0",
			},
		},
		{
			name:     "system reserved and huge pages",
			machine:  Machine{NumCPU: 4, MemoryTotal: 8 * gi, Filesystem: Filesystem{Capacity: 10 * gi}, HugePages: []HugePages{{PageSize: 2 << 20, Count: 512}}},
			maxPods:  50,
			reserved: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
			wantCapacity: map[corev1.ResourceName]string{
				"cpu": "4", "memory": "8Gi", "pods": "50", "ephemeral-storage": "10Gi", "hugepages-2Mi": "1Gi",
			},
			wantAllocatable: map[corev1.ResourceName]string{
				// 8Gi - 1Gi reserved - 100Mi eviction - 1Gi of huge pages.
				"cpu": "3500m", "memory": "6044Mi", "pods": "50", "ephemeral-storage": "9Gi", "hugepages-2Mi": "1Gi",
			},
		},
		{
			name:     "reservation larger than capacity",
			machine:  Machine{NumCPU: 1, MemoryTotal: 64 << 20},
			maxPods:  10,
			reserved: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
			wantCapacity: map[corev1.ResourceName]string{
				"cpu": "1", "memory": "64Mi", "pods": "10",
			},
			wantAllocatable: map[corev1.ResourceName]string{
				"cpu": "0", "memory": "0", "pods": "10",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capacity := Capacity(tc.machine, tc.maxPods)
			if diff := cmp.Diff(tc.wantCapacity, quantities(capacity)); diff != "" {
				t.Errorf("capacity (-want +got):\n%s", diff)
			}
			allocatable := Allocatable(capacity, Reservation(capacity, tc.reserved))
			if diff := cmp.Diff(tc.wantAllocatable, quantities(allocatable)); diff != "" {
				t.Errorf("allocatable (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObservePressure(t *testing.T) {
	mi := int64(1 << 20)
	healthy := Machine{
		MemoryTotal: 1024 * mi, MemoryAvailable: 500 * mi,
		Filesystem: Filesystem{Capacity: 1000, Available: 500, Inodes: 1000, InodesFree: 900},
		PIDs:       PIDs{Max: 1000, Running: 100},
	}
	with := func(f func(*Machine)) Machine {
		m := healthy
		f(&m)
		return m
	}
	for _, tc := range []struct {
		name    string
		machine Machine
		want    Pressure
	}{
		{"healthy", healthy, Pressure{}},
		{"memory below 100Mi", with(func(m *Machine) { m.MemoryAvailable = 99 * mi }), Pressure{Memory: true}},
		{"memory at 100Mi", with(func(m *Machine) { m.MemoryAvailable = 100 * mi }), Pressure{}},
		{"disk below 10%", with(func(m *Machine) { m.Filesystem.Available = 99 }), Pressure{Disk: true}},
		{"inodes below 5%", with(func(m *Machine) { m.Filesystem.InodesFree = 49 }), Pressure{Disk: true}},
		{"pids below 10%", with(func(m *Machine) { m.PIDs.Running = 901 }), Pressure{PID: true}},
		{"nothing known", Machine{}, Pressure{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ObservePressure(tc.machine); got != tc.want {
				t.Errorf("ObservePressure = %+v, want %+v", got, tc.want)
			}
		})
	}
}
