package pods

import (
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// cgroup arithmetic, as upstream kubelet's.
const (
	minShares      = 2
	maxShares      = 262144
	sharesPerCPU   = 1024
	milliCPUToCPU  = 1000
	quotaPeriod    = 100000 // 100ms in µs
	minQuotaPeriod = 1000   // 1ms in µs

	guaranteedOOMScoreAdj = -997
	besteffortOOMScoreAdj = 1000
)

// milliCPUToShares converts a CPU request to cgroup cpu shares.
func milliCPUToShares(milliCPU int64) int64 {
	if milliCPU == 0 {
		return minShares
	}
	shares := milliCPU * sharesPerCPU / milliCPUToCPU
	return min(max(shares, minShares), maxShares)
}

// milliCPUToQuota converts a CPU limit to a CFS quota for period (0: no
// limit).
func milliCPUToQuota(milliCPU, period int64) int64 {
	if milliCPU == 0 {
		return 0
	}
	return max(milliCPU*period/milliCPUToCPU, minQuotaPeriod)
}

// LinuxResources turns a container's requests and limits into cgroup
// settings, as upstream: cpu shares from the cpu request (the limit when
// only it is set), a CFS quota from the cpu limit unless quotas are
// disabled, the memory limit, and the OOM score adjustment of the pod's
// QoS class. memoryCapacity is the node's memory, for the OOM score of
// burstable containers.
func LinuxResources(pod *corev1.Pod, c *corev1.Container, memoryCapacity int64, cpuCFSQuota bool) *runtimeapi.LinuxContainerResources {
	r := &runtimeapi.LinuxContainerResources{}
	cpuRequest, hasRequest := c.Resources.Requests[corev1.ResourceCPU]
	cpuLimit, hasLimit := c.Resources.Limits[corev1.ResourceCPU]
	if !hasRequest && hasLimit {
		r.CpuShares = milliCPUToShares(cpuLimit.MilliValue())
	} else {
		r.CpuShares = milliCPUToShares(cpuRequest.MilliValue())
	}
	if mem, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && mem.Value() != 0 {
		r.MemoryLimitInBytes = mem.Value()
	}
	if cpuCFSQuota {
		r.CpuPeriod = quotaPeriod
		r.CpuQuota = milliCPUToQuota(cpuLimit.MilliValue(), quotaPeriod)
	}
	r.OomScoreAdj = oomScoreAdj(pod, c, memoryCapacity)
	return r
}

// oomScoreAdj makes the kernel kill best-effort containers first and
// guaranteed ones last; a burstable container is protected by the share
// of the node's memory it requests.
func oomScoreAdj(pod *corev1.Pod, c *corev1.Container, memoryCapacity int64) int64 {
	if pod.Spec.PriorityClassName == "system-node-critical" {
		return guaranteedOOMScoreAdj
	}
	switch QOSClass(pod) {
	case corev1.PodQOSGuaranteed:
		return guaranteedOOMScoreAdj
	case corev1.PodQOSBestEffort:
		return besteffortOOMScoreAdj
	}
	adj := int64(besteffortOOMScoreAdj)
	if memoryCapacity > 0 {
		request := c.Resources.Requests.Memory().Value()
		adj = 1000 - (1000*request)/memoryCapacity
	}
	if adj < 1000+guaranteedOOMScoreAdj {
		return 1000 + guaranteedOOMScoreAdj
	}
	if adj == besteffortOOMScoreAdj {
		return adj - 1
	}
	return adj
}
