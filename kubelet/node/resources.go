package node

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Upstream kubelet's default hard eviction thresholds on Linux, which also
// hold back part of the capacity from allocatable. The pid threshold is
// Strata's: upstream has none by default.
var (
	evictionMemoryAvailable = resource.MustParse("100Mi")
)

const (
	evictionNodeFSAvailable  = 0.10 // nodefs.available<10%
	evictionNodeFSInodesFree = 0.05 // nodefs.inodesFree<5%
	evictionPIDAvailable     = 0.10 // pid.available<10%
)

// hugePageResourceName is upstream's name of a huge page pool:
// "hugepages-2Mi" for 2 MiB pages.
func hugePageResourceName(pageSize int64) corev1.ResourceName {
	return corev1.ResourceName(corev1.ResourceHugePagesPrefix + resource.NewQuantity(pageSize, resource.BinarySI).String())
}

// Capacity is what the machine offers: cpu, memory, huge pages (0 for a
// pool without pages, as upstream), pods and the ephemeral storage of the
// kubelet's filesystem. A size the machine did not report is left out, so
// that the node is not Ready.
func Capacity(m Machine, maxPods int64) corev1.ResourceList {
	out := corev1.ResourceList{
		corev1.ResourcePods: *resource.NewQuantity(maxPods, resource.DecimalSI),
	}
	if m.NumCPU > 0 {
		out[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(m.NumCPU)*1000, resource.DecimalSI)
	}
	if m.MemoryTotal > 0 {
		out[corev1.ResourceMemory] = *resource.NewQuantity(m.MemoryTotal, resource.BinarySI)
	}
	for _, hp := range m.HugePages {
		out[hugePageResourceName(hp.PageSize)] = *resource.NewQuantity(hp.PageSize*hp.Count, resource.BinarySI)
	}
	if m.Filesystem.Capacity > 0 {
		out[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(m.Filesystem.Capacity, resource.BinarySI)
	}
	return out
}

// Reservation is what allocatable holds back from capacity: the reserved
// resources plus the hard eviction thresholds (100Mi of memory and 10% of
// the ephemeral storage), as upstream's node allocatable.
func Reservation(capacity, reserved corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range reserved {
		out[k] = v.DeepCopy()
	}
	add := func(name corev1.ResourceName, q resource.Quantity) {
		sum := out[name]
		sum.Add(q)
		out[name] = sum
	}
	add(corev1.ResourceMemory, evictionMemoryAvailable)
	if storage, ok := capacity[corev1.ResourceEphemeralStorage]; ok {
		add(corev1.ResourceEphemeralStorage, *resource.NewQuantity(int64(float64(storage.Value())*evictionNodeFSAvailable), resource.BinarySI))
	}
	return out
}

// Allocatable is capacity less reservation, never negative; huge pages
// also come out of the memory, as upstream.
func Allocatable(capacity, reservation corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range capacity {
		value := v.DeepCopy()
		if r, ok := reservation[k]; ok {
			value.Sub(r)
		}
		if value.Sign() < 0 {
			value.Set(0)
		}
		out[k] = value
	}
	for k, v := range capacity {
		if !isHugePageResource(k) {
			continue
		}
		memory, ok := out[corev1.ResourceMemory]
		if !ok {
			continue
		}
		memory.Sub(v)
		if memory.Sign() < 0 {
			memory.Set(0)
		}
		out[corev1.ResourceMemory] = memory
	}
	return out
}

func isHugePageResource(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// Pressure says which eviction signals are past their threshold.
type Pressure struct {
	Memory, Disk, PID bool
}

// ObservePressure compares the machine to the hard eviction thresholds:
// memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5% and
// pid.available<10%. Unknown sizes (zero) never make pressure.
func ObservePressure(m Machine) Pressure {
	var p Pressure
	if m.MemoryTotal > 0 {
		p.Memory = m.MemoryAvailable < evictionMemoryAvailable.Value()
	}
	fs := m.Filesystem
	if fs.Capacity > 0 && float64(fs.Available) < float64(fs.Capacity)*evictionNodeFSAvailable {
		p.Disk = true
	}
	if fs.Inodes > 0 && float64(fs.InodesFree) < float64(fs.Inodes)*evictionNodeFSInodesFree {
		p.Disk = true
	}
	if m.PIDs.Max > 0 && float64(m.PIDs.Max-m.PIDs.Running) < float64(m.PIDs.Max)*evictionPIDAvailable {
		p.PID = true
	}
	return p
}
