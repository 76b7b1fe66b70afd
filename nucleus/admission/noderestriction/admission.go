// Package noderestriction is the NodeRestriction admission plugin: a kubelet
// (user `system:node:<name>` in group `system:nodes`) may only create and
// change its own Node — with no label under node-restriction.kubernetes.io
// and no kubernetes.io or k8s.io label a kubelet may not set (such as
// node-role.kubernetes.io/*), no configSource, and no taint change once it
// exists — create mirror pods bound to and owned by itself that reference no
// credentials, update the status of, delete and evict only the pods bound to
// it, request ServiceAccount tokens only for those pods, and touch only its
// own Lease in kube-node-lease.
package noderestriction

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/strata-dev/strata/kubelet/nodelabels"
)

const (
	// PluginName is the plugin's name in the chain.
	PluginName = "NodeRestriction"
	// RestrictedLabelPrefix marks labels a node may not set on itself.
	RestrictedLabelPrefix = "node-restriction.kubernetes.io/"
	nodeUserPrefix        = "system:node:"
	nodesGroup            = "system:nodes"
)

var (
	podResource   = schema.GroupResource{Resource: "pods"}
	nodeResource  = schema.GroupResource{Resource: "nodes"}
	saResource    = schema.GroupResource{Resource: "serviceaccounts"}
	leaseResource = schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
)

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		return New(), nil
	})
}

// Plugin is the NodeRestriction admission plugin.
type Plugin struct {
	*admission.Handler
	pods  corelisters.PodLister
	nodes corelisters.NodeLister
}

var (
	_ admission.ValidationInterface                = &Plugin{}
	_ initializer.WantsExternalKubeInformerFactory = &Plugin{}
)

// New returns the plugin; the pod and node listers come from an
// initializer.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Delete)}
}

// SetExternalKubeInformerFactory sets the pod and node listers.
func (p *Plugin) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	p.pods = f.Core().V1().Pods().Lister()
	p.nodes = f.Core().V1().Nodes().Lister()
}

// ValidateInitialization checks the plugin got its listers.
func (p *Plugin) ValidateInitialization() error {
	if p.pods == nil {
		return fmt.Errorf("missing pod lister")
	}
	if p.nodes == nil {
		return fmt.Errorf("missing node lister")
	}
	return nil
}

// NodeName returns the node a user is, if it is one.
func NodeName(u user.Info) (string, bool) {
	if u == nil || !strings.HasPrefix(u.GetName(), nodeUserPrefix) {
		return "", false
	}
	for _, g := range u.GetGroups() {
		if g == nodesGroup {
			name := strings.TrimPrefix(u.GetName(), nodeUserPrefix)
			return name, name != ""
		}
	}
	return "", false
}

// Validate restricts what a node may write.
func (p *Plugin) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	nodeName, isNode := NodeName(a.GetUserInfo())
	if !isNode {
		return nil
	}
	switch a.GetResource().GroupResource() {
	case podResource:
		return p.admitPod(nodeName, a)
	case nodeResource:
		return admitNode(nodeName, a)
	case saResource:
		if a.GetSubresource() == "token" {
			return p.admitToken(nodeName, a)
		}
	case leaseResource:
		return admitLease(nodeName, a)
	}
	return nil
}

// admitLease lets a node touch only its own Lease in kube-node-lease.
func admitLease(nodeName string, a admission.Attributes) error {
	if a.GetNamespace() != corev1.NamespaceNodeLease {
		return admission.NewForbidden(a, fmt.Errorf("can only access leases in the %q system namespace", corev1.NamespaceNodeLease))
	}
	name := a.GetName()
	if a.GetOperation() == admission.Create {
		if obj, ok := a.GetObject().(metav1.Object); ok {
			name = obj.GetName()
		}
	}
	if name != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("can only access node lease with the same name as the requesting node"))
	}
	return nil
}

func (p *Plugin) admitPod(nodeName string, a admission.Attributes) error {
	switch a.GetSubresource() {
	case "":
		switch a.GetOperation() {
		case admission.Create:
			pod, ok := a.GetObject().(*corev1.Pod)
			if !ok {
				return apierrors.NewBadRequest(fmt.Sprintf("unexpected type %T", a.GetObject()))
			}
			return p.admitMirrorPod(nodeName, pod, a)
		case admission.Delete:
			return p.requireBoundPod(nodeName, a, "delete")
		default:
			return admission.NewForbidden(a, fmt.Errorf("unexpected operation %q, node %q can only create and delete mirror pods", a.GetOperation(), nodeName))
		}
	case "status":
		if a.GetOperation() != admission.Update {
			return admission.NewForbidden(a, fmt.Errorf("unexpected operation %q", a.GetOperation()))
		}
		pod, ok := a.GetOldObject().(*corev1.Pod)
		if !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("unexpected type %T", a.GetOldObject()))
		}
		if pod.Spec.NodeName != nodeName {
			return admission.NewForbidden(a, fmt.Errorf("node %q can only update pod status for pods with spec.nodeName set to itself", nodeName))
		}
		return nil
	case "eviction":
		return p.requireBoundPod(nodeName, a, "evict")
	case "resize":
		return admission.NewForbidden(a, fmt.Errorf("node %q is not allowed to resize pods", nodeName))
	}
	return admission.NewForbidden(a, fmt.Errorf("unexpected subresource %q", a.GetSubresource()))
}

// admitMirrorPod lets a node create only mirror pods bound to itself,
// owned by its Node (so that they go with it), that carry no credentials.
func (p *Plugin) admitMirrorPod(nodeName string, pod *corev1.Pod, a admission.Attributes) error {
	if _, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]; !ok {
		return admission.NewForbidden(a, fmt.Errorf("pod does not have %q annotation, node %q can only create mirror pods", corev1.MirrorPodAnnotationKey, nodeName))
	}
	if pod.Spec.NodeName != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node %q can only create pods with spec.nodeName set to itself", nodeName))
	}
	if err := p.checkNodeOwner(nodeName, pod, a); err != nil {
		return err
	}
	if pod.Spec.ServiceAccountName != "" {
		return admission.NewForbidden(a, fmt.Errorf("node %q can not create pods that reference a service account", nodeName))
	}
	if kinds := referencedKinds(pod); len(kinds) > 0 {
		return admission.NewForbidden(a, fmt.Errorf("node %q can not create pods that reference %s", nodeName, kinds[0]))
	}
	return nil
}

// checkNodeOwner requires a mirror pod's only owner reference to be the
// node's Node, as its controller, without blockOwnerDeletion, with the
// Node's current UID.
func (p *Plugin) checkNodeOwner(nodeName string, pod *corev1.Pod, a admission.Attributes) error {
	switch len(pod.OwnerReferences) {
	case 0:
		return admission.NewForbidden(a, fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	case 1:
	default:
		return admission.NewForbidden(a, fmt.Errorf("node %q can only create pods with a single owner reference set to itself", nodeName))
	}
	owner := pod.OwnerReferences[0]
	if owner.APIVersion != corev1.SchemeGroupVersion.String() || owner.Kind != "Node" || owner.Name != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	}
	if owner.Controller == nil || !*owner.Controller {
		return admission.NewForbidden(a, fmt.Errorf("node %q can only create pods with a controller owner reference set to itself", nodeName))
	}
	if owner.BlockOwnerDeletion != nil && *owner.BlockOwnerDeletion {
		return admission.NewForbidden(a, fmt.Errorf("node %q must not set blockOwnerDeletion on an owner reference", nodeName))
	}
	node, err := p.nodes.Get(nodeName)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up node %s to verify uid: %w", nodeName, err))
	}
	if owner.UID != node.UID {
		return admission.NewForbidden(a, fmt.Errorf("node %s UID mismatch: expected %s got %s", nodeName, owner.UID, node.UID))
	}
	return nil
}

// referencedKinds lists the API objects a pod reads credentials or data from.
func referencedKinds(pod *corev1.Pod) []string {
	var kinds []string
	add := func(k string) {
		for _, have := range kinds {
			if have == k {
				return
			}
		}
		kinds = append(kinds, k)
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.Secret != nil:
			add("secrets")
		case v.ConfigMap != nil:
			add("configmaps")
		case v.PersistentVolumeClaim != nil, v.Ephemeral != nil:
			add("persistentvolumeclaims")
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					add("secrets")
				}
				if s.ConfigMap != nil {
					add("configmaps")
				}
				if s.ClusterTrustBundle != nil {
					add("clustertrustbundles")
				}
			}
		}
	}
	if len(pod.Spec.ImagePullSecrets) > 0 {
		add("secrets")
	}
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				add("secrets")
			}
			if e.ConfigMapRef != nil {
				add("configmaps")
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add("secrets")
			}
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				add("configmaps")
			}
		}
	}
	sort.Strings(kinds)
	return kinds
}

// requireBoundPod allows deleting or evicting a pod bound to the node; a pod
// that is already gone is let through for the storage to answer 404.
func (p *Plugin) requireBoundPod(nodeName string, a admission.Attributes, verb string) error {
	pod, err := p.pods.Pods(a.GetNamespace()).Get(a.GetName())
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up pod %s/%s: %w", a.GetNamespace(), a.GetName(), err))
	}
	if pod.Spec.NodeName != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node %q can only %s pods with spec.nodeName set to itself", nodeName, verb))
	}
	return nil
}

// admitNode lets a node create and change only its own Node, as upstream:
// a node may not give itself labels that steer workloads to it, a
// configSource, or other taints than those it registered with.
func admitNode(nodeName string, a admission.Attributes) error {
	requested := a.GetName()
	if a.GetOperation() == admission.Create {
		if node, ok := a.GetObject().(*corev1.Node); ok {
			requested = node.Name
		}
	}
	if requested != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node %q is not allowed to modify node %q", nodeName, requested))
	}
	switch a.GetOperation() {
	case admission.Create:
		node, ok := a.GetObject().(*corev1.Node)
		if !ok {
			return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetObject()))
		}
		if node.Spec.ConfigSource != nil {
			return admission.NewForbidden(a, fmt.Errorf("node %q is not allowed to create pods with a non-nil configSource", nodeName))
		}
		if forbidden := ForbiddenLabels(ModifiedLabels(node.Labels, nil)); len(forbidden) > 0 {
			return admission.NewForbidden(a, fmt.Errorf("node %q is not allowed to set the following labels: %s", nodeName, strings.Join(forbidden, ", ")))
		}
	case admission.Update:
		node, ok1 := a.GetObject().(*corev1.Node)
		old, ok2 := a.GetOldObject().(*corev1.Node)
		if !ok1 || !ok2 {
			return admission.NewForbidden(a, fmt.Errorf("unexpected type %T", a.GetObject()))
		}
		if node.Spec.ConfigSource != nil && !apiequality.Semantic.DeepEqual(node.Spec.ConfigSource, old.Spec.ConfigSource) {
			return admission.NewForbidden(a, fmt.Errorf("node %q is not allowed to update configSource to a new non-nil configSource", nodeName))
		}
		if !apiequality.Semantic.DeepEqual(node.Spec.Taints, old.Spec.Taints) {
			return admission.NewForbidden(a, fmt.Errorf("node %q is not allowed to modify taints", nodeName))
		}
		if forbidden := ForbiddenLabels(ModifiedLabels(node.Labels, old.Labels)); len(forbidden) > 0 {
			return admission.NewForbidden(a, fmt.Errorf("is not allowed to modify labels: %s", strings.Join(forbidden, ", ")))
		}
	}
	return nil
}

// ModifiedLabels lists the keys added, changed or removed between two
// label sets, sorted.
func ModifiedLabels(cur, old map[string]string) []string {
	var out []string
	for k, v := range cur {
		if ov, ok := old[k]; !ok || ov != v {
			out = append(out, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ForbiddenLabels are the keys of modified a node may not set on itself:
// those under node-restriction.kubernetes.io, and the kubernetes.io and
// k8s.io labels that are not kubelet labels (see package nodelabels).
func ForbiddenLabels(modified []string) []string {
	var out []string
	for _, k := range modified {
		if nodelabels.IsRestricted(k) || (nodelabels.IsKubernetesLabel(k) && !nodelabels.IsKubeletLabel(k)) {
			out = append(out, k)
		}
	}
	return out
}

// admitToken lets a node request tokens only bound to pods running on it.
func (p *Plugin) admitToken(nodeName string, a admission.Attributes) error {
	if a.GetOperation() != admission.Create {
		return nil
	}
	tr, ok := a.GetObject().(*authenticationv1.TokenRequest)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("unexpected type %T", a.GetObject()))
	}
	ref := tr.Spec.BoundObjectRef
	if ref == nil || ref.Kind != "Pod" {
		return admission.NewForbidden(a, fmt.Errorf("node requested token not bound to a pod"))
	}
	if ref.UID == "" {
		return admission.NewForbidden(a, fmt.Errorf("node requested token with a pod binding without a uid"))
	}
	pod, err := p.pods.Pods(a.GetNamespace()).Get(ref.Name)
	if apierrors.IsNotFound(err) {
		return apierrors.NewForbidden(a.GetResource().GroupResource(), a.GetName(), err)
	}
	if err != nil {
		return admission.NewForbidden(a, err)
	}
	if ref.UID != pod.UID {
		return admission.NewForbidden(a, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	if pod.Spec.NodeName != nodeName {
		return admission.NewForbidden(a, fmt.Errorf("node requested token bound to a pod scheduled on a different node"))
	}
	return nil
}
