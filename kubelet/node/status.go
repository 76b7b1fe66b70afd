package node

import (
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/utils/ptr"
)

// statusInputs is everything the node status is computed from.
type statusInputs struct {
	machine        Machine
	addresses      []corev1.NodeAddress
	runtime        runtimeState
	maxPods        int64
	reserved       corev1.ResourceList
	port           int32
	kubeletVersion string
	now            time.Time
	// images is status.images; nil leaves it as it is (the runtime did
	// not answer).
	images []corev1.ContainerImage
}

// nodeEvent is an event about the Node to record.
type nodeEvent struct {
	eventType, reason, note string
}

// statusEvent is upstream's event for a condition change: "Node n1 status
// is now: NodeReady".
func statusEvent(nodeName, reason string) nodeEvent {
	return nodeEvent{corev1.EventTypeNormal, reason, fmt.Sprintf("Node %s status is now: %s", nodeName, reason)}
}

// setNodeStatus brings node's status up to date with in, as upstream's
// node status setters do one after the other (addresses, machine info and
// resources, versions, daemon endpoints, operating system, runtime
// handlers and features, then the MemoryPressure, DiskPressure,
// PIDPressure and Ready conditions, Ready last). It returns the events to
// record.
func setNodeStatus(node *corev1.Node, in statusInputs) []nodeEvent {
	var events []nodeEvent
	st := &node.Status
	st.Addresses = in.addresses

	// Machine info: identity and resources. Capacities set by others
	// (extended resources) are kept.
	st.NodeInfo.MachineID = in.machine.MachineID
	st.NodeInfo.SystemUUID = in.machine.SystemUUID
	if st.NodeInfo.BootID != "" && in.machine.BootID != "" && st.NodeInfo.BootID != in.machine.BootID {
		events = append(events, nodeEvent{corev1.EventTypeWarning, "Rebooted",
			fmt.Sprintf("Node %s has been rebooted, boot id: %s", node.Name, in.machine.BootID)})
	}
	st.NodeInfo.BootID = in.machine.BootID
	if st.Capacity == nil {
		st.Capacity = corev1.ResourceList{}
	}
	for k, v := range Capacity(in.machine, in.maxPods) {
		st.Capacity[k] = v
	}
	st.Allocatable = Allocatable(st.Capacity, Reservation(st.Capacity, in.reserved))
	if in.machine.MemoryTotal > 0 {
		st.NodeInfo.Swap = &corev1.NodeSwapStatus{Capacity: ptr.To(in.machine.SwapTotal)}
	}

	// Versions.
	st.NodeInfo.KernelVersion = in.machine.KernelVersion
	st.NodeInfo.OSImage = in.machine.OSImage
	st.NodeInfo.ContainerRuntimeVersion = in.runtime.containerRuntimeVersion()
	st.NodeInfo.KubeletVersion = in.kubeletVersion
	st.DaemonEndpoints.KubeletEndpoint.Port = in.port
	st.NodeInfo.OperatingSystem = goruntime.GOOS
	st.NodeInfo.Architecture = goruntime.GOARCH
	st.RuntimeHandlers = in.runtime.handlers
	if in.runtime.features != nil {
		st.Features = in.runtime.features
	}

	if in.images != nil {
		st.Images = in.images
	}

	// Conditions.
	now := metav1.NewTime(in.now)
	pressure := ObservePressure(in.machine)
	for _, c := range []struct {
		t        corev1.NodeConditionType
		pressure bool
	}{
		{corev1.NodeMemoryPressure, pressure.Memory},
		{corev1.NodeDiskPressure, pressure.Disk},
		{corev1.NodePIDPressure, pressure.PID},
	} {
		if reason := SetPressureCondition(st, c.t, c.pressure, now); reason != "" {
			events = append(events, statusEvent(node.Name, reason))
		}
	}
	notReady := ReadyErrors(st, in.runtime.runtimeErrors(in.now), in.runtime.networkErrors())
	if reason := SetReadyCondition(st, notReady, now); reason != "" {
		events = append(events, statusEvent(node.Name, reason))
	}
	return events
}

// setDefaultLabels sets the labels every kubelet reports about its node
// (operating system and architecture) on node; it reports whether they
// changed. Upstream's kubelet does this before each status update.
func setDefaultLabels(node *corev1.Node) bool {
	changed := false
	for k, v := range map[string]string{corev1.LabelOSStable: goruntime.GOOS, corev1.LabelArchStable: goruntime.GOARCH} {
		if node.Labels[k] != v {
			if node.Labels == nil {
				node.Labels = map[string]string{}
			}
			node.Labels[k] = v
			changed = true
		}
	}
	return changed
}

// reconcileLabels sets on existing the labels of the well-known set
// (hostname, os, arch and their beta spellings, zone, region, instance
// type) that want has, as upstream's updateDefaultLabels: other labels,
// --node-labels included, are only set when the Node is created.
func reconcileLabels(want, existing *corev1.Node) bool {
	changed := false
	for _, k := range reconciledLabels {
		v, ok := want.Labels[k]
		if !ok {
			continue
		}
		if existing.Labels[k] != v {
			if existing.Labels == nil {
				existing.Labels = map[string]string{}
			}
			existing.Labels[k] = v
			changed = true
		}
		if existing.Labels[k] == "" {
			delete(existing.Labels, k)
		}
	}
	return changed
}

var reconciledLabels = []string{
	corev1.LabelHostname,
	corev1.LabelTopologyZone,
	corev1.LabelTopologyRegion,
	corev1.LabelFailureDomainBetaZone,
	corev1.LabelFailureDomainBetaRegion,
	corev1.LabelInstanceTypeStable,
	corev1.LabelInstanceType,
	corev1.LabelOSStable,
	corev1.LabelArchStable,
	corev1.LabelWindowsBuild,
	labelBetaOS,
	labelBetaArch,
}

const (
	labelBetaOS   = "beta.kubernetes.io/os"
	labelBetaArch = "beta.kubernetes.io/arch"
)

// statusChanged reports whether the status differs from the one stored
// other than by the conditions' heartbeat times (upstream's
// nodeStatusHasChanged): an unchanged status is written only every
// StatusReportFrequency.
func statusChanged(stored, computed *corev1.NodeStatus) bool {
	if len(stored.Conditions) != len(computed.Conditions) {
		return true
	}
	withoutHeartbeats := func(cs []corev1.NodeCondition) []corev1.NodeCondition {
		out := make([]corev1.NodeCondition, len(cs))
		copy(out, cs)
		sort.SliceStable(out, func(i, j int) bool { return out[i].Type < out[j].Type })
		for i := range out {
			out[i].LastHeartbeatTime = metav1.Time{}
		}
		return out
	}
	if !apiequality.Semantic.DeepEqual(withoutHeartbeats(stored.Conditions), withoutHeartbeats(computed.Conditions)) {
		return true
	}
	a, b := *stored, *computed
	a.Conditions, b.Conditions = nil, nil
	return !apiequality.Semantic.DeepEqual(a, b)
}

// statusPatch is the strategic merge patch of the status subresource from
// stored to computed: the metadata and status that changed. Addresses are
// replaced as a whole: their merge key (type) is not unique, so merging
// them would mix old and new addresses.
func statusPatch(stored, computed *corev1.Node) ([]byte, error) {
	before := corev1.Node{ObjectMeta: stored.ObjectMeta, Status: stored.Status}
	after := corev1.Node{ObjectMeta: computed.ObjectMeta, Status: computed.Status}
	replaceAddresses := len(stored.Status.Addresses) > 0 && !apiequality.Semantic.DeepEqual(stored.Status.Addresses, computed.Status.Addresses)
	if replaceAddresses {
		after.Status.Addresses = stored.Status.Addresses
	}
	oldJSON, err := json.Marshal(before)
	if err != nil {
		return nil, err
	}
	newJSON, err := json.Marshal(after)
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, corev1.Node{})
	if err != nil {
		return nil, fmt.Errorf("computing the status patch: %w", err)
	}
	if !replaceAddresses {
		return patch, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(patch, &doc); err != nil {
		return nil, err
	}
	status, _ := doc["status"].(map[string]any)
	if status == nil {
		status = map[string]any{}
		doc["status"] = status
	}
	addresses := []any{}
	for _, a := range computed.Status.Addresses {
		addresses = append(addresses, map[string]any{"type": string(a.Type), "address": a.Address})
	}
	status["addresses"] = append(addresses, map[string]any{"$patch": "replace"})
	return json.Marshal(doc)
}
