package pods

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerStatuses turns what the runtime reports about a pod's
// containers (or init containers) into their API statuses, as upstream's
// convertToAPIContainerStatuses: the newest container gives the state, the
// one before it the last state; a container that has never run is waiting
// (ContainerCreating, or PodInitializing while init containers run); one
// that failed to start on the last sync is waiting with the failure's
// reason (ErrImagePull, CrashLoopBackOff …).
func containerStatuses(pod *corev1.Pod, rt *RuntimePod, old []corev1.ContainerStatus, containers []corev1.Container, startFailures map[string]*StartFailure, isInit bool) []corev1.ContainerStatus {
	if len(containers) == 0 {
		return nil
	}
	hasInit := len(pod.Spec.InitContainers) > 0
	oldByName := make(map[string]corev1.ContainerStatus, len(old))
	for _, s := range old {
		oldByName[s.Name] = s
	}

	defaultWaiting := reasonContainerCreating
	if hasInit {
		defaultWaiting = reasonPodInitializing
	}

	statuses := make(map[string]*corev1.ContainerStatus, len(containers))
	for _, c := range containers {
		status := &corev1.ContainerStatus{
			Name:         c.Name,
			Image:        c.Image,
			State:        corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: defaultWaiting}},
			VolumeMounts: volumeMountStatuses(&c),
		}
		if o, ok := oldByName[c.Name]; ok {
			if o.State.Terminated != nil {
				o := *o.DeepCopy()
				status = &o
			} else {
				status.RestartCount = o.RestartCount
				status.LastTerminationState = *o.LastTerminationState.DeepCopy()
			}
		}
		statuses[c.Name] = status
	}

	// A container that was running and that the runtime no longer knows
	// terminated, with an unknown exit code: saying it waits would move the
	// pod back to Pending.
	for _, c := range containers {
		if rt.FindContainer(c.Name) != nil {
			continue
		}
		o, ok := oldByName[c.Name]
		if !ok || o.State.Terminated != nil || o.State.Running == nil {
			continue
		}
		status := statuses[c.Name]
		if status.State.Waiting == nil || status.State.Waiting.Reason != defaultWaiting || status.LastTerminationState.Terminated != nil {
			continue
		}
		status.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
			Reason:   reasonStatusUnknown,
			Message:  "The container could not be located when the pod was deleted.  The container used to be Running",
			ExitCode: 137,
		}
		if pod.DeletionTimestamp == nil {
			status.RestartCount++
		}
	}

	// The newest container of each name gives the state, the one before it
	// the last state (rt.Containers is newest first).
	seen := map[string]int{}
	for _, rc := range rt.containers() {
		if _, ok := statuses[rc.Name]; !ok || seen[rc.Name] >= 2 {
			continue
		}
		var oldStatus *corev1.ContainerStatus
		if o, ok := oldByName[rc.Name]; ok {
			oldStatus = &o
		}
		converted := convertContainerStatus(rt, rc, oldStatus)
		if spec := findSpec(containers, rc.Name); spec != nil {
			converted.VolumeMounts = volumeMountStatuses(spec)
			converted.Resources = spec.Resources.DeepCopy()
			converted.AllocatedResources = spec.Resources.Requests.DeepCopy()
		}
		if seen[rc.Name] == 0 {
			statuses[rc.Name] = converted
		} else {
			statuses[rc.Name].LastTerminationState = converted.State
		}
		seen[rc.Name]++
	}

	// A container that will be started again and failed to start on the
	// last sync waits, with the failure as its reason.
	for i := range containers {
		c := &containers[i]
		if isInit {
			if rc := rt.FindContainer(c.Name); rc != nil && rc.State == ContainerExited && rc.ExitCode == 0 {
				continue
			}
		}
		if !shouldContainerBeRestarted(c, pod, rt) {
			continue
		}
		failure, ok := startFailures[c.Name]
		if !ok || failure == nil {
			continue
		}
		status := statuses[c.Name]
		if status.State.Terminated != nil {
			status.LastTerminationState = status.State
		}
		status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason:  failure.Reason.Error(),
			Message: failure.Message,
		}}
	}

	result := make([]corev1.ContainerStatus, 0, len(containers))
	if isInit {
		// Init containers in spec order.
		for _, c := range containers {
			result = append(result, *statuses[c.Name])
		}
		return result
	}
	// App containers by name, as upstream.
	for _, s := range statuses {
		result = append(result, *s)
	}
	sort.Slice(result, func(i, j int) bool { return result[i].Name < result[j].Name })
	return result
}

// convertContainerStatus is the API status of one runtime container.
func convertContainerStatus(rt *RuntimePod, rc *RuntimeContainer, old *corev1.ContainerStatus) *corev1.ContainerStatus {
	id := rt.containerID(rc)
	status := &corev1.ContainerStatus{
		Name:         rc.Name,
		RestartCount: int32(rc.RestartCount),
		Image:        rc.Image,
		ImageID:      rc.ImageRef,
		ContainerID:  id,
		User:         rc.User,
	}
	switch {
	case rc.State == ContainerRunning:
		status.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(rc.StartedAt)}
	case rc.State == ContainerCreated:
		status.State.Waiting = &corev1.ContainerStateWaiting{}
	case rc.State == ContainerExited:
		status.State.Terminated = &corev1.ContainerStateTerminated{
			ExitCode:    rc.ExitCode,
			Reason:      rc.Reason,
			Message:     rc.Message,
			StartedAt:   metav1.NewTime(rc.StartedAt),
			FinishedAt:  metav1.NewTime(rc.FinishedAt),
			ContainerID: id,
		}
	case rc.State == ContainerUnknown && old != nil && old.State.Running != nil:
		// It ran and the runtime lost it: it terminated, with an unknown
		// code. Saying it waits could run a run-once container twice.
		status.State.Terminated = &corev1.ContainerStateTerminated{
			Reason:   reasonStatusUnknown,
			Message:  "The container could not be located when the pod was terminated",
			ExitCode: 137,
		}
		status.RestartCount = old.RestartCount + 1
	default:
		status.State.Waiting = &corev1.ContainerStateWaiting{}
	}
	return status
}

// volumeMountStatuses are the status of a container's volume mounts; a
// read-only mount is recursively read-only only when asked for (runtimes'
// support for it is not detected).
func volumeMountStatuses(c *corev1.Container) []corev1.VolumeMountStatus {
	var list []corev1.VolumeMountStatus
	for _, m := range c.VolumeMounts {
		s := corev1.VolumeMountStatus{Name: m.Name, MountPath: m.MountPath, ReadOnly: m.ReadOnly}
		if m.ReadOnly {
			mode := corev1.RecursiveReadOnlyDisabled
			if m.RecursiveReadOnly != nil && *m.RecursiveReadOnly == corev1.RecursiveReadOnlyEnabled {
				mode = corev1.RecursiveReadOnlyEnabled
			}
			s.RecursiveReadOnly = &mode
		}
		list = append(list, s)
	}
	return list
}

func findSpec(containers []corev1.Container, name string) *corev1.Container {
	for i := range containers {
		if containers[i].Name == name {
			return &containers[i]
		}
	}
	return nil
}

// containers is rt.Containers, nil-safe.
func (p *RuntimePod) containers() []*RuntimeContainer {
	if p == nil {
		return nil
	}
	return p.Containers
}

// setReadiness fills started and ready from the probe results, as
// upstream's prober manager: a running container is started once its
// startup probe succeeded (at once without one) and ready once started and
// its readiness probe succeeded (at once without one); an init container
// is ready once it exited 0.
func setReadiness(pod *corev1.Pod, status *corev1.PodStatus, probes ProbeResults) {
	specs := func(list []corev1.Container) map[string]*corev1.Container {
		m := make(map[string]*corev1.Container, len(list))
		for i := range list {
			m[list[i].Name] = &list[i]
		}
		return m
	}
	apps, inits := specs(pod.Spec.Containers), specs(pod.Spec.InitContainers)

	for i := range status.ContainerStatuses {
		s := &status.ContainerStatuses[i]
		c := apps[s.Name]
		started := isStarted(c, s, probes)
		s.Started = &started
		s.Ready = started && isReady(c, s, probes)
	}
	for i := range status.InitContainerStatuses {
		s := &status.InitContainerStatuses[i]
		c := inits[s.Name]
		started := isStarted(c, s, probes)
		s.Started = &started
		if c == nil || !isRestartableInitContainer(c) {
			s.Ready = s.State.Terminated != nil && s.State.Terminated.ExitCode == 0
			continue
		}
		s.Ready = started && isReady(c, s, probes)
	}
}

func isStarted(c *corev1.Container, s *corev1.ContainerStatus, probes ProbeResults) bool {
	if s.State.Running == nil {
		return false
	}
	if r, ok := probeResult(probes, Startup, runtimeID(s.ContainerID)); ok {
		return r == ProbeSuccess
	}
	return c == nil || c.StartupProbe == nil
}

func isReady(c *corev1.Container, s *corev1.ContainerStatus, probes ProbeResults) bool {
	if s.State.Running == nil {
		return false
	}
	if r, ok := probeResult(probes, Readiness, runtimeID(s.ContainerID)); ok {
		return r == ProbeSuccess
	}
	return c == nil || c.ReadinessProbe == nil
}

// runtimeID strips the "<runtime>://" prefix of a status's container ID.
func runtimeID(containerID string) string {
	for i := 0; i+2 < len(containerID); i++ {
		if containerID[i:i+3] == "://" {
			return containerID[i+3:]
		}
	}
	return containerID
}
