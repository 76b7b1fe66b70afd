package pods

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// isRestartableInitContainer tells whether an init container is a sidecar
// (restartPolicy Always): it keeps running beside the app containers.
func isRestartableInitContainer(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// hasRestartableInitContainer tells whether the pod has a sidecar.
func hasRestartableInitContainer(spec *corev1.PodSpec) bool {
	for i := range spec.InitContainers {
		if isRestartableInitContainer(&spec.InitContainers[i]) {
			return true
		}
	}
	return false
}

// containerShouldRestart applies a container's restart rules, then its own
// restart policy, then the pod's, to an exit with exitCode.
func containerShouldRestart(c *corev1.Container, spec *corev1.PodSpec, exitCode int32) bool {
	if c.RestartPolicy != nil {
		for _, rule := range c.RestartPolicyRules {
			if rule.ExitCodes == nil || !exitCodesMatch(rule.ExitCodes, exitCode) {
				continue
			}
			if rule.Action == corev1.ContainerRestartRuleActionRestart {
				return true
			}
			break
		}
		switch *c.RestartPolicy {
		case corev1.ContainerRestartPolicyAlways:
			return true
		case corev1.ContainerRestartPolicyOnFailure:
			return exitCode != 0
		case corev1.ContainerRestartPolicyNever:
			return false
		}
	}
	switch spec.RestartPolicy {
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	case corev1.RestartPolicyNever:
		return false
	default:
		return true
	}
}

func exitCodesMatch(r *corev1.ContainerRestartRuleOnExitCodes, exitCode int32) bool {
	in := slices.Contains(r.Values, exitCode)
	if r.Operator == corev1.ContainerRestartRuleOnExitCodesOpNotIn {
		return !in
	}
	return in
}

// shouldRestartOnFailure tells whether the pod's containers are restarted
// when they fail.
func shouldRestartOnFailure(spec *corev1.PodSpec) bool {
	return spec.RestartPolicy != corev1.RestartPolicyNever
}

// shouldContainerBeRestarted tells whether a container that is not running
// is to be started (again) on the next sync.
func shouldContainerBeRestarted(c *corev1.Container, pod *corev1.Pod, rt *RuntimePod) bool {
	if pod.DeletionTimestamp != nil {
		return false
	}
	status := rt.FindContainer(c.Name)
	if status == nil {
		return true
	}
	switch status.State {
	case ContainerRunning:
		return false
	case ContainerUnknown, ContainerCreated:
		return true
	}
	return containerShouldRestart(c, &pod.Spec, status.ExitCode)
}

// isInitContainerFailed tells whether an init container's last run failed.
func isInitContainerFailed(c *RuntimeContainer) bool {
	if c.Reason == reasonOOMKilled {
		return true
	}
	return (c.State == ContainerExited && c.ExitCode != 0) || c.State == ContainerUnknown
}

// containerSucceeded tells whether the container's last run exited 0.
func containerSucceeded(c *corev1.Container, rt *RuntimePod) bool {
	status := rt.FindContainer(c.Name)
	if status == nil || status.State == ContainerRunning {
		return false
	}
	return status.ExitCode == 0
}

// hasAnyRegularContainerCreated tells whether an app container exists in
// the runtime, proof that the init containers completed.
func hasAnyRegularContainerCreated(spec *corev1.PodSpec, rt *RuntimePod) bool {
	for _, c := range spec.Containers {
		if status := rt.FindContainer(c.Name); status != nil && status.State != ContainerUnknown {
			return true
		}
	}
	return false
}

// hasAnyActiveRegularContainer tells whether an app container exists in
// the newest sandbox: the pod got past its initialization in it.
func hasAnyActiveRegularContainer(spec *corev1.PodSpec, rt *RuntimePod) bool {
	if rt == nil || len(rt.Sandboxes) == 0 {
		return false
	}
	active := rt.Sandboxes[0].GetId()
	for _, c := range rt.Containers {
		if c.SandboxID != active {
			continue
		}
		for _, app := range spec.Containers {
			if app.Name == c.Name {
				return true
			}
		}
	}
	return false
}

// containerType is "init", "ephemeral" or "container".
func containerType(spec *corev1.PodSpec, name string) string {
	for _, c := range spec.InitContainers {
		if c.Name == name {
			return containerTypeInit
		}
	}
	for _, c := range spec.EphemeralContainers {
		if c.Name == name {
			return containerTypeEphemeral
		}
	}
	return containerTypeRegular
}

// ephemeralContainers are the pod's ephemeral containers as containers
// (the same fields; the ones ephemeral containers may not have are unset).
func ephemeralContainers(spec *corev1.PodSpec) []corev1.Container {
	if len(spec.EphemeralContainers) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(spec.EphemeralContainers))
	for i := range spec.EphemeralContainers {
		out[i] = corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
	}
	return out
}
