package node

import (
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"
)

// runtimeDownAfter is how long the runtime may go without a successful
// status check before the node is NotReady with "container runtime is
// down" (upstream's maxWaitForContainerRuntime).
const runtimeDownAfter = 30 * time.Second

// runtimeState is what the kubelet knows of its container runtime from
// the last CRI Status and Version calls, as upstream's runtimeState.
type runtimeState struct {
	// lastSync is the last time the runtime answered and was ready.
	lastSync time.Time
	// runtimeErr and networkErr are the RuntimeReady and NetworkReady
	// conditions when they are not true.
	runtimeErr, networkErr error
	handlers               []corev1.NodeRuntimeHandler
	features               *corev1.NodeFeatures
	// name and version are the runtime's ("containerd", "1.7.20").
	name, version string
}

// observeStatus records a CRI Status answer at now, as upstream's
// updateRuntimeUp: the network condition first; a runtime that is not
// ready does not count as a successful check.
func (s *runtimeState) observeStatus(resp *runtimeapi.StatusResponse, now time.Time) {
	network := findRuntimeCondition(resp, runtimeapi.NetworkReady)
	if network == nil || !network.Status {
		s.networkErr = fmt.Errorf("container runtime network not ready: %s", formatRuntimeCondition(network))
	} else {
		s.networkErr = nil
	}
	ready := findRuntimeCondition(resp, runtimeapi.RuntimeReady)
	if ready == nil || !ready.Status {
		s.runtimeErr = fmt.Errorf("container runtime not ready: %s", formatRuntimeCondition(ready))
		return
	}
	s.runtimeErr = nil
	s.handlers = nodeRuntimeHandlers(resp.GetRuntimeHandlers())
	s.features = &corev1.NodeFeatures{SupplementalGroupsPolicy: ptr.To(resp.GetFeatures().GetSupplementalGroupsPolicy())}
	s.lastSync = now
}

// runtimeErrors is why the runtime is not usable, nil when it is.
func (s *runtimeState) runtimeErrors(now time.Time) error {
	var errs []error
	switch {
	case s.lastSync.IsZero():
		errs = append(errs, errors.New("container runtime status check may not have completed yet"))
	case !s.lastSync.Add(runtimeDownAfter).After(now):
		errs = append(errs, errors.New("container runtime is down"))
	}
	if s.runtimeErr != nil {
		errs = append(errs, s.runtimeErr)
	}
	return utilerrors.NewAggregate(errs)
}

// networkErrors is why the pod network is not usable, nil when it is.
func (s *runtimeState) networkErrors() error {
	if s.networkErr == nil {
		return nil
	}
	return utilerrors.NewAggregate([]error{s.networkErr})
}

// containerRuntimeVersion is status.nodeInfo.containerRuntimeVersion:
// "containerd://1.7.20", with "Unknown" for a version the runtime did not
// give.
func (s *runtimeState) containerRuntimeVersion() string {
	version := s.version
	if version == "" {
		version = "Unknown"
	}
	return fmt.Sprintf("%s://%s", s.name, version)
}

func findRuntimeCondition(resp *runtimeapi.StatusResponse, t string) *runtimeapi.RuntimeCondition {
	for _, c := range resp.GetStatus().GetConditions() {
		if c.GetType() == t {
			return c
		}
	}
	return nil
}

// formatRuntimeCondition writes a condition as upstream's kubelet does:
// "NetworkReady=false reason:NetworkPluginNotReady message:…".
func formatRuntimeCondition(c *runtimeapi.RuntimeCondition) string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s=%t reason:%s message:%s", c.Type, c.Status, c.Reason, c.Message)
}

// nodeRuntimeHandlers is status.runtimeHandlers from the runtime's
// handlers.
func nodeRuntimeHandlers(handlers []*runtimeapi.RuntimeHandler) []corev1.NodeRuntimeHandler {
	if len(handlers) == 0 {
		return nil
	}
	out := make([]corev1.NodeRuntimeHandler, 0, len(handlers))
	for _, h := range handlers {
		out = append(out, corev1.NodeRuntimeHandler{
			Name: h.GetName(),
			Features: &corev1.NodeRuntimeHandlerFeatures{
				RecursiveReadOnlyMounts: ptr.To(h.GetFeatures().GetRecursiveReadOnlyMounts()),
				UserNamespaces:          ptr.To(h.GetFeatures().GetUserNamespaces()),
			},
		})
	}
	return out
}
