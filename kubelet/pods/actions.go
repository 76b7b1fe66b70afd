package pods

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// KillReason says why a running container is killed.
type KillReason string

// Kill reasons, as upstream's.
const (
	KillReasonLivenessProbe KillReason = "LivenessProbe"
	KillReasonStartupProbe  KillReason = "StartupProbe"
	KillReasonUnknown       KillReason = "Unknown"
)

// Actions is what a sync does to bring the runtime in line with a pod's
// spec, as upstream's computePodActions decides it.
type Actions struct {
	// KillPod stops every container of the pod and its sandboxes: the
	// sandbox is replaced, or no container will ever run again.
	KillPod bool
	// CreateSandbox starts a new sandbox (after KillPod).
	CreateSandbox bool
	// SandboxID is the sandbox that the containers to start go into when
	// no new one is created.
	SandboxID string
	// Attempt numbers the sandbox to create.
	Attempt uint32
	// InitContainersToStart are indexes in spec.initContainers, in order.
	InitContainersToStart []int
	// ContainersToStart are indexes in spec.containers.
	ContainersToStart []int
	// EphemeralContainersToStart are indexes in spec.ephemeralContainers:
	// those never started (they are never restarted).
	EphemeralContainersToStart []int
	// ContainersToKill are running containers to stop (and maybe restart).
	ContainersToKill []ContainerToKill
}

// ContainerToKill is a running container that must stop.
type ContainerToKill struct {
	// ID is the runtime's container ID.
	ID   string
	Name string
	// Message explains the kill in the Killing event.
	Message string
	Reason  KillReason
}

// Empty tells whether the actions do nothing.
func (a Actions) Empty() bool {
	return !a.KillPod && !a.CreateSandbox && len(a.InitContainersToStart) == 0 &&
		len(a.ContainersToStart) == 0 && len(a.ContainersToKill) == 0 && len(a.EphemeralContainersToStart) == 0
}

func (a *Actions) kill(c *RuntimeContainer, message string, reason KillReason) {
	for i := range a.ContainersToKill {
		if a.ContainersToKill[i].ID == c.ID {
			a.ContainersToKill[i] = ContainerToKill{ID: c.ID, Name: c.Name, Message: message, Reason: reason}
			return
		}
	}
	a.ContainersToKill = append(a.ContainersToKill, ContainerToKill{ID: c.ID, Name: c.Name, Message: message, Reason: reason})
}

// ComputeActions decides what a sync does, from the pod's spec, what the
// runtime runs and the probe results (nil for none): create a sandbox,
// start the next init containers, start or restart app containers, kill
// containers that failed their liveness probe or whose spec changed, or
// kill the whole pod.
func ComputeActions(pod *corev1.Pod, rt *RuntimePod, probes ProbeResults) Actions {
	createSandbox, attempt, sandboxID := sandboxChanged(pod, rt)
	actions := Actions{
		KillPod:       createSandbox,
		CreateSandbox: createSandbox,
		SandboxID:     sandboxID,
		Attempt:       attempt,
	}

	// A new sandbox restarts the pod from scratch: every container is
	// started again, init containers first.
	if createSandbox {
		if !shouldRestartOnFailure(&pod.Spec) && attempt != 0 && len(rt.Containers) != 0 {
			// The pod ran and will not run again: do not create a sandbox
			// just to find that out.
			actions.CreateSandbox = false
			return actions
		}
		var toStart []int
		for i := range pod.Spec.Containers {
			c := &pod.Spec.Containers[i]
			if pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && containerSucceeded(c, rt) {
				continue
			}
			toStart = append(toStart, i)
		}
		if len(toStart) == 0 && hasAnyRegularContainerCreated(&pod.Spec, rt) {
			// Initialized, and nothing left to run.
			actions.CreateSandbox = false
			return actions
		}
		if len(pod.Spec.InitContainers) != 0 {
			actions.InitContainersToStart = []int{0}
			return actions
		}
		actions.ContainersToStart = toStart
		return actions
	}

	// Ephemeral containers start once, even before initialization
	// completes, and never again (kubectl debug).
	for i := range pod.Spec.EphemeralContainers {
		if rt.FindContainer(pod.Spec.EphemeralContainers[i].Name) == nil {
			actions.EphemeralContainersToStart = append(actions.EphemeralContainersToStart, i)
		}
	}

	initialized := computeInitContainerActions(pod, rt, probes, &actions)
	if actions.KillPod {
		actions.EphemeralContainersToStart = nil
	}
	if actions.KillPod || !initialized {
		return actions
	}

	keep := 0
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		status := rt.FindContainer(c.Name)
		if status == nil || status.State != ContainerRunning {
			if shouldContainerBeRestarted(c, pod, rt) {
				actions.ContainersToStart = append(actions.ContainersToStart, i)
				if status != nil && status.State == ContainerUnknown {
					// It might still run: kill it before starting another.
					actions.kill(status, fmt.Sprintf("Container is in %q state, try killing it before restart", status.State), KillReasonUnknown)
				}
			}
			continue
		}

		// A running container is killed when its spec changed or a probe
		// says it is broken.
		var message string
		var reason KillReason
		restart := shouldRestartOnFailure(&pod.Spec)
		if status.Hash != "" && status.Hash != HashContainer(c) {
			message = fmt.Sprintf("Container %s definition changed", c.Name)
			restart = true
		} else if r, ok := probeResult(probes, Liveness, status.ID); ok && r == ProbeFailure {
			message = fmt.Sprintf("Container %s failed liveness probe", c.Name)
			reason = KillReasonLivenessProbe
		} else if r, ok := probeResult(probes, Startup, status.ID); ok && r == ProbeFailure {
			message = fmt.Sprintf("Container %s failed startup probe", c.Name)
			reason = KillReasonStartupProbe
		} else {
			keep++
			continue
		}
		if restart {
			message += ", will be restarted"
			actions.ContainersToStart = append(actions.ContainersToStart, i)
		}
		actions.kill(status, message, reason)
	}

	if keep == 0 && len(actions.ContainersToStart) == 0 {
		// Nothing runs and nothing will: the pod is done. Sidecars must not
		// keep it alive.
		actions.KillPod = true
		actions.InitContainersToStart = nil
		actions.EphemeralContainersToStart = nil
	}
	return actions
}

// computeInitContainerActions adds the init container actions: start the
// first init container not started yet, restart failed ones when the
// restart policy allows, keep sidecars running. It returns whether the pod
// is initialized, so that app containers may run.
func computeInitContainerActions(pod *corev1.Pod, rt *RuntimePod, probes ProbeResults, actions *Actions) bool {
	inits := pod.Spec.InitContainers
	if len(inits) == 0 {
		return true
	}

	// An app container created or running proves that the init containers
	// completed, even if the runtime no longer has them.
	initialized := false
	for _, c := range pod.Spec.Containers {
		if status := rt.FindContainer(c.Name); status != nil && (status.State == ContainerCreated || status.State == ContainerRunning) {
			initialized = true
			break
		}
	}

	previousInitialized := initialized
	var toStart []int // in reverse order
	for i := len(inits) - 1; i >= 0; i-- {
		c := &inits[i]
		sidecar := isRestartableInitContainer(c)
		status := rt.FindContainer(c.Name)
		if status == nil {
			if previousInitialized && sidecar {
				toStart = append(toStart, i)
			}
			continue
		}
		if previousInitialized && !sidecar {
			// After initialization only sidecars are kept running.
			continue
		}

		switch status.State {
		case ContainerCreated:
			// Created but never started: start it again.
			toStart = append(toStart, i)

		case ContainerRunning:
			if !sidecar {
				// Wait for it to finish.
				break
			}
			if c.StartupProbe != nil {
				r, ok := probeResult(probes, Startup, status.ID)
				if !ok {
					break
				}
				if r != ProbeSuccess {
					if r == ProbeFailure {
						actions.kill(status, fmt.Sprintf("Init container %s failed startup probe", c.Name), KillReasonStartupProbe)
						toStart = append(toStart, i)
					}
					break
				}
			}
			if i == len(inits)-1 {
				initialized = true
			} else if !previousInitialized {
				// The sidecar started: on to the next init container.
				toStart = append(toStart, i+1)
			}
			if status.Hash != "" && status.Hash != HashContainer(c) {
				actions.kill(status, fmt.Sprintf("Init container %s definition changed", c.Name), "")
				toStart = append(toStart, i)
				break
			}
			if c.LivenessProbe != nil {
				if r, ok := probeResult(probes, Liveness, status.ID); ok && r == ProbeFailure {
					actions.kill(status, fmt.Sprintf("Init container %s failed liveness probe", c.Name), KillReasonLivenessProbe)
					toStart = append(toStart, i)
				}
			}

		case ContainerExited:
			if sidecar {
				toStart = append(toStart, i)
				break
			}
			if isInitContainerFailed(status) {
				if !containerShouldRestart(c, &pod.Spec, status.ExitCode) {
					actions.KillPod = true
					actions.InitContainersToStart = nil
					return false
				}
				toStart = append(toStart, i)
				break
			}
			if i == len(inits)-1 {
				initialized = true
			} else {
				toStart = append(toStart, i+1)
			}

		default: // unknown: it might still run
			message := fmt.Sprintf("Init container is in %q state, try killing it before restart", status.State)
			if !sidecar && !shouldRestartOnFailure(&pod.Spec) {
				actions.KillPod = true
				actions.InitContainersToStart = nil
				return false
			}
			actions.kill(status, message, KillReasonUnknown)
			toStart = append(toStart, i)
		}
		previousInitialized = true
	}
	if !previousInitialized {
		// No init container has run yet: start the first.
		toStart = append(toStart, 0)
	}
	for i := len(toStart) - 1; i >= 0; i-- {
		actions.InitContainersToStart = append(actions.InitContainersToStart, toStart[i])
	}
	return initialized
}

// sandboxChanged tells whether the pod needs a new sandbox (there is none,
// it is not ready, several are, its network namespace mode changed or it
// lost its IP), the attempt number of that sandbox, and the ID of the
// current one.
func sandboxChanged(pod *corev1.Pod, rt *RuntimePod) (bool, uint32, string) {
	if rt == nil || len(rt.Sandboxes) == 0 {
		return true, 0, ""
	}
	newest := rt.Sandboxes[0]
	attempt := newest.GetMetadata().GetAttempt()
	if len(rt.ReadySandboxes()) > 1 {
		return true, attempt + 1, newest.GetId()
	}
	if newest.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
		return true, attempt + 1, newest.GetId()
	}
	if newest.GetLinux().GetNamespaces().GetOptions().GetNetwork() != networkNamespaceMode(pod) {
		return true, attempt + 1, ""
	}
	if !pod.Spec.HostNetwork && newest.GetNetwork() != nil && newest.GetNetwork().GetIp() == "" {
		return true, attempt + 1, newest.GetId()
	}
	return false, attempt, newest.GetId()
}

// networkNamespaceMode is NODE for host-network pods, POD otherwise.
func networkNamespaceMode(pod *corev1.Pod) runtimeapi.NamespaceMode {
	if pod.Spec.HostNetwork {
		return runtimeapi.NamespaceMode_NODE
	}
	return runtimeapi.NamespaceMode_POD
}
