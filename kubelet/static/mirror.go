package static

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Plan is what to do so that the API has one current mirror pod per
// static pod and no other.
type Plan struct {
	// Delete are mirror pods to delete: of static pods no longer defined,
	// outdated (another hash), or being deleted (they are created again).
	Delete []*corev1.Pod
	// Create are the static pods whose mirror pod to create.
	Create []*corev1.Pod
	// Conflicts are static pods whose name a pod that is not a mirror pod
	// holds.
	Conflicts []*corev1.Pod
}

// PlanMirrorPods compares the static pods with the pods in the API bound
// to the node, as upstream's kubelet does in syncPod and
// deleteOrphanedMirrorPods: a mirror pod whose kubernetes.io/config.mirror
// is not the static pod's hash, or that is being deleted, is deleted (for
// good, and created again); a static pod without one gets one; a mirror
// pod without a static pod is deleted.
func PlanMirrorPods(static, existing []*corev1.Pod) Plan {
	byName := make(map[string]*corev1.Pod, len(existing))
	for _, p := range existing {
		byName[p.Namespace+"/"+p.Name] = p
	}
	var plan Plan
	wanted := map[string]bool{}
	for _, s := range static {
		key := s.Namespace + "/" + s.Name
		wanted[key] = true
		m, ok := byName[key]
		switch {
		case !ok:
			plan.Create = append(plan.Create, s)
		case !isMirrorPod(m):
			plan.Conflicts = append(plan.Conflicts, s)
		case m.DeletionTimestamp != nil || m.Annotations[ConfigMirrorAnnotation] != s.Annotations[ConfigHashAnnotation]:
			plan.Delete = append(plan.Delete, m)
			plan.Create = append(plan.Create, s)
		}
	}
	for _, p := range existing {
		if isMirrorPod(p) && !wanted[p.Namespace+"/"+p.Name] {
			plan.Delete = append(plan.Delete, p)
		}
	}
	sort.Slice(plan.Delete, func(i, j int) bool { return key(plan.Delete[i]) < key(plan.Delete[j]) })
	return plan
}

func key(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

func isMirrorPod(p *corev1.Pod) bool {
	_, ok := p.Annotations[ConfigMirrorAnnotation]
	return ok
}

// MirrorPod is the mirror pod of a static pod, as upstream's mirror client
// creates it: the static pod with the annotations kubernetes.io/config.seen
// and kubernetes.io/config.mirror (its hash), owned by the node's Node as
// its controller. The API server gives it its own UID.
func MirrorPod(static *corev1.Pod, node *corev1.Node, seen time.Time) *corev1.Pod {
	m := static.DeepCopy()
	m.UID = ""
	m.ResourceVersion = ""
	m.Status = corev1.PodStatus{}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[ConfigSeenAnnotation] = seen.UTC().Format(time.RFC3339Nano)
	m.Annotations[ConfigMirrorAnnotation] = static.Annotations[ConfigHashAnnotation]
	m.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "v1",
		Kind:       "Node",
		Name:       node.Name,
		UID:        node.UID,
		Controller: ptr.To(true),
	}}
	return m
}
