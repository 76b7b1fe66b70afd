// Package stats builds the kubelet's /stats/summary: CPU and memory of the
// node, its pods and their containers, from what the container runtime
// reports through CRI (ListPodSandboxStats, ListContainerStats).
//
// The types are the JSON shape of upstream's k8s.io/kubelet
// pkg/apis/stats/v1alpha1 Summary, reduced to the fields Strata fills, so
// that clients of the kubelet's summary API read it unchanged.
package stats

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Summary is the answer of /stats/summary.
type Summary struct {
	Node NodeStats  `json:"node"`
	Pods []PodStats `json:"pods"`
}

// NodeStats are the node's own figures: the whole machine's CPU and
// memory, the filesystem of the kubelet's root directory, the runtime's
// image filesystem. StartTime is the machine's boot time, as upstream's
// (its root cgroup's creation).
type NodeStats struct {
	NodeName  string       `json:"nodeName"`
	StartTime metav1.Time  `json:"startTime"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
	// Fs is the filesystem of the kubelet's root directory (pods' volumes
	// and logs).
	Fs *FsStats `json:"fs,omitempty"`
	// Runtime are the container runtime's filesystems.
	Runtime *RuntimeStats `json:"runtime,omitempty"`
}

// RuntimeStats are the container runtime's filesystems.
type RuntimeStats struct {
	// ImageFs holds the images; UsedBytes and InodesUsed count the
	// images' share.
	ImageFs *FsStats `json:"imageFs,omitempty"`
	// ContainerFs holds the containers' writable layers: ImageFs unless
	// the runtime splits them.
	ContainerFs *FsStats `json:"containerFs,omitempty"`
}

// FsStats is a filesystem's size and use at Time.
type FsStats struct {
	Time           metav1.Time `json:"time"`
	AvailableBytes *uint64     `json:"availableBytes,omitempty"`
	CapacityBytes  *uint64     `json:"capacityBytes,omitempty"`
	UsedBytes      *uint64     `json:"usedBytes,omitempty"`
	InodesFree     *uint64     `json:"inodesFree,omitempty"`
	Inodes         *uint64     `json:"inodes,omitempty"`
	InodesUsed     *uint64     `json:"inodesUsed,omitempty"`
}

// PodStats are one pod's figures and its containers'.
type PodStats struct {
	PodRef     PodReference     `json:"podRef"`
	StartTime  metav1.Time      `json:"startTime"`
	Containers []ContainerStats `json:"containers"`
	CPU        *CPUStats        `json:"cpu,omitempty"`
	Memory     *MemoryStats     `json:"memory,omitempty"`
	// ProcessStats is spelled as upstream spells it.
	ProcessStats *ProcessStats `json:"process_stats,omitempty"`
}

// PodReference names a pod.
type PodReference struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	UID       string `json:"uid"`
}

// ContainerStats are one container's figures.
type ContainerStats struct {
	Name      string       `json:"name"`
	StartTime metav1.Time  `json:"startTime"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
}

// CPUStats is CPU usage at Time.
type CPUStats struct {
	Time metav1.Time `json:"time"`
	// UsageNanoCores is the recent rate, in billionths of a core.
	UsageNanoCores *uint64 `json:"usageNanoCores,omitempty"`
	// UsageCoreNanoSeconds is the cumulative usage.
	UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds,omitempty"`
}

// MemoryStats is memory usage at Time.
type MemoryStats struct {
	Time            metav1.Time `json:"time"`
	AvailableBytes  *uint64     `json:"availableBytes,omitempty"`
	UsageBytes      *uint64     `json:"usageBytes,omitempty"`
	WorkingSetBytes *uint64     `json:"workingSetBytes,omitempty"`
	RSSBytes        *uint64     `json:"rssBytes,omitempty"`
	PageFaults      *uint64     `json:"pageFaults,omitempty"`
	MajorPageFaults *uint64     `json:"majorPageFaults,omitempty"`
}

// ProcessStats counts a pod's processes.
type ProcessStats struct {
	ProcessCount *uint64 `json:"process_count,omitempty"`
}
