package pods

import (
	corev1 "k8s.io/api/core/v1"
)

// podPhase is the phase of a pod given its container statuses, as
// upstream's getPhase: Pending while an init container or a container has
// not started; Failed when an init container failed for good; Running
// while a container runs or restarts; Succeeded or Failed when every
// container terminated for good. terminal says the containers will not be
// restarted whatever the restart policy (the pod is being deleted);
// initialized that an app container ran in the current sandbox, so that a
// restarting sidecar does not make the pod Pending again.
func podPhase(pod *corev1.Pod, statuses []corev1.ContainerStatus, terminal, initialized bool) corev1.PodPhase {
	spec := &pod.Spec
	find := func(name string) (corev1.ContainerStatus, bool) {
		for _, s := range statuses {
			if s.Name == name {
				return s, true
			}
		}
		return corev1.ContainerStatus{}, false
	}

	pendingInit := 0
	pendingSidecars := 0
	failedInitForGood := 0
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if isRestartableInitContainer(c) {
			continue
		}
		s, ok := find(c.Name)
		if !ok {
			pendingInit++
			continue
		}
		switch {
		case s.State.Running != nil:
			pendingInit++
		case s.State.Terminated != nil:
			if code := s.State.Terminated.ExitCode; code != 0 && !containerShouldRestart(c, spec, code) {
				failedInitForGood++
			}
		case s.State.Waiting != nil:
			if last := s.LastTerminationState.Terminated; last != nil {
				if last.ExitCode != 0 && !containerShouldRestart(c, spec, last.ExitCode) {
					failedInitForGood++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}

	unknown, running, waiting, stopped, stoppedForGood, succeeded := 0, 0, 0, 0, 0, 0
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if !isRestartableInitContainer(c) {
			continue
		}
		s, ok := find(c.Name)
		if !ok {
			unknown++
			continue
		}
		switch {
		case s.State.Running != nil:
			if s.Started == nil || !*s.Started {
				pendingSidecars++
			}
			running++
		case s.State.Terminated != nil:
			// A stopped sidecar does not count.
		case s.State.Waiting != nil:
			if s.LastTerminationState.Terminated == nil {
				pendingSidecars++
				waiting++
			}
		default:
			pendingSidecars++
			unknown++
		}
	}

	for i := range spec.Containers {
		c := &spec.Containers[i]
		s, ok := find(c.Name)
		if !ok {
			unknown++
			continue
		}
		var exit *corev1.ContainerStateTerminated
		switch {
		case s.State.Running != nil:
			running++
			continue
		case s.State.Terminated != nil:
			exit = s.State.Terminated
		case s.State.Waiting != nil && s.LastTerminationState.Terminated != nil:
			exit = s.LastTerminationState.Terminated
		case s.State.Waiting != nil:
			waiting++
			continue
		default:
			unknown++
			continue
		}
		stopped++
		if !containerShouldRestart(c, spec, exit.ExitCode) {
			stoppedForGood++
		}
		if s.State.Terminated != nil && exit.ExitCode == 0 {
			succeeded++
		}
	}

	if failedInitForGood > 0 {
		return corev1.PodFailed
	}
	switch {
	case pendingInit > 0 || (pendingSidecars > 0 && !initialized) || waiting > 0:
		return corev1.PodPending
	case running > 0 && unknown == 0:
		return corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		if terminal {
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		}
		if stopped != stoppedForGood {
			// Some container will restart.
			return corev1.PodRunning
		}
		if stopped == succeeded {
			return corev1.PodSucceeded
		}
		return corev1.PodFailed
	default:
		return corev1.PodPending
	}
}
