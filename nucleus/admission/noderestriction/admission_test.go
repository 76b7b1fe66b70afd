package noderestriction

import (
	"context"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

var (
	node1 = &user.DefaultInfo{Name: "system:node:node1", Groups: []string{"system:nodes", "system:authenticated"}}
	admin = &user.DefaultInfo{Name: "admin", Groups: []string{"system:masters"}}
)

func boundPod(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: k8stypes.UID("uid-" + name)}, Spec: corev1.PodSpec{NodeName: node}}
}

func mirrorPod(node string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := boundPod("mirror", node)
	p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"}
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: k8stypes.UID("uid-" + node), Controller: ptr.To(true)}}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func nodeObj(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, UID: k8stypes.UID("uid-" + name)}, Spec: corev1.NodeSpec{Taints: taints}}
}

type request struct {
	op          admission.Operation
	resource    schema.GroupResource
	subresource string
	namespace   string
	name        string
	obj, old    runtime.Object
	user        user.Info
}

func (r request) attributes() admission.Attributes {
	u := r.user
	if u == nil {
		u = node1
	}
	gvr := r.resource.WithVersion("v1")
	return admission.NewAttributesRecord(r.obj, r.old, schema.GroupVersionKind{}, r.namespace, r.name, gvr, r.subresource, r.op, nil, false, u)
}

var (
	pods   = schema.GroupResource{Resource: "pods"}
	nodes  = schema.GroupResource{Resource: "nodes"}
	sas    = schema.GroupResource{Resource: "serviceaccounts"}
	leases = schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
)

func TestValidate(t *testing.T) {
	f := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	for _, p := range []*corev1.Pod{boundPod("mine", "node1"), boundPod("theirs", "node2")} {
		if err := f.Core().V1().Pods().Informer().GetStore().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Core().V1().Nodes().Informer().GetStore().Add(nodeObj("node1", nil)); err != nil {
		t.Fatal(err)
	}
	plugin := New()
	plugin.SetExternalKubeInformerFactory(f)
	if err := plugin.ValidateInitialization(); err != nil {
		t.Fatal(err)
	}
	token := func(pod string, uid string) *authenticationv1.TokenRequest {
		return &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod, UID: k8stypes.UID(uid)},
		}}
	}
	tests := []struct {
		name    string
		req     request
		wantErr string // substring; empty means allowed
	}{
		{name: "not a node", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "x", obj: boundPod("x", ""), user: admin}},
		{name: "mirror pod on itself", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror", obj: mirrorPod("node1")}},
		{name: "regular pod", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "x", obj: boundPod("x", "node1")},
			wantErr: `node "node1" can only create mirror pods`},
		{name: "mirror pod elsewhere", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror", obj: mirrorPod("node2")},
			wantErr: `node "node1" can only create pods with spec.nodeName set to itself`},
		{name: "mirror pod without owner", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) { p.OwnerReferences = nil })},
			wantErr: `node "node1" can only create pods with an owner reference set to itself`},
		{name: "mirror pod with two owners", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) { p.OwnerReferences = append(p.OwnerReferences, p.OwnerReferences[0]) })},
			wantErr: `node "node1" can only create pods with a single owner reference set to itself`},
		{name: "mirror pod owned by another node", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) { p.OwnerReferences[0].Name = "node2" })},
			wantErr: `node "node1" can only create pods with an owner reference set to itself`},
		{name: "mirror pod owned by something else", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) {
				p.OwnerReferences[0].Kind = "ReplicaSet"
				p.OwnerReferences[0].APIVersion = "apps/v1"
			})},
			wantErr: `node "node1" can only create pods with an owner reference set to itself`},
		{name: "mirror pod owner not controller", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) { p.OwnerReferences[0].Controller = nil })},
			wantErr: `node "node1" can only create pods with a controller owner reference set to itself`},
		{name: "mirror pod owner blocking deletion", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) { p.OwnerReferences[0].BlockOwnerDeletion = ptr.To(true) })},
			wantErr: `node "node1" must not set blockOwnerDeletion on an owner reference`},
		{name: "mirror pod owned by an older node", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) { p.OwnerReferences[0].UID = "old" })},
			wantErr: `node node1 UID mismatch: expected old got uid-node1`},
		{name: "mirror pod with cluster trust bundle", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "b", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
					Sources: []corev1.VolumeProjection{{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "ca.pem"}}},
				}}}}
			})},
			wantErr: `node "node1" can not create pods that reference clustertrustbundles`},
		{name: "mirror pod with service account", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "default" })},
			wantErr: `node "node1" can not create pods that reference a service account`},
		{name: "mirror pod with secret", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) {
				p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
			})},
			wantErr: `node "node1" can not create pods that reference secrets`},
		{name: "mirror pod with configmap env", req: request{op: admission.Create, resource: pods, namespace: "ns", name: "mirror",
			obj: mirrorPod("node1", func(p *corev1.Pod) {
				p.Spec.Containers = []corev1.Container{{Name: "c", EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{}}}}}
			})},
			wantErr: `node "node1" can not create pods that reference configmaps`},
		{name: "update pod spec", req: request{op: admission.Update, resource: pods, namespace: "ns", name: "mine", obj: boundPod("mine", "node1"), old: boundPod("mine", "node1")},
			wantErr: `unexpected operation "UPDATE", node "node1" can only create and delete mirror pods`},
		{name: "status of own pod", req: request{op: admission.Update, resource: pods, subresource: "status", namespace: "ns", name: "mine", obj: boundPod("mine", "node1"), old: boundPod("mine", "node1")}},
		{name: "status of other pod", req: request{op: admission.Update, resource: pods, subresource: "status", namespace: "ns", name: "theirs", obj: boundPod("theirs", "node2"), old: boundPod("theirs", "node2")},
			wantErr: `node "node1" can only update pod status for pods with spec.nodeName set to itself`},
		{name: "delete own pod", req: request{op: admission.Delete, resource: pods, namespace: "ns", name: "mine"}},
		{name: "delete other pod", req: request{op: admission.Delete, resource: pods, namespace: "ns", name: "theirs"},
			wantErr: `node "node1" can only delete pods with spec.nodeName set to itself`},
		{name: "evict own pod", req: request{op: admission.Create, resource: pods, subresource: "eviction", namespace: "ns", name: "mine"}},
		{name: "evict other pod", req: request{op: admission.Create, resource: pods, subresource: "eviction", namespace: "ns", name: "theirs"},
			wantErr: `node "node1" can only evict pods with spec.nodeName set to itself`},
		{name: "create itself", req: request{op: admission.Create, resource: nodes, name: "node1", obj: nodeObj("node1", nil)}},
		{name: "create other node", req: request{op: admission.Create, resource: nodes, name: "node2", obj: nodeObj("node2", nil)},
			wantErr: `node "node1" is not allowed to modify node "node2"`},
		{name: "create with restricted label", req: request{op: admission.Create, resource: nodes, name: "node1",
			obj: nodeObj("node1", map[string]string{"node-restriction.kubernetes.io/pool": "a"})},
			wantErr: `node "node1" is not allowed to set the following labels: node-restriction.kubernetes.io/pool`},
		{name: "update own labels", req: request{op: admission.Update, resource: nodes, name: "node1",
			obj: nodeObj("node1", map[string]string{"a": "b"}), old: nodeObj("node1", nil)}},
		{name: "update restricted label", req: request{op: admission.Update, resource: nodes, name: "node1",
			obj: nodeObj("node1", map[string]string{"example.node-restriction.kubernetes.io/x": "b"}), old: nodeObj("node1", nil)},
			wantErr: `is not allowed to modify labels: example.node-restriction.kubernetes.io/x`},
		{name: "update taints", req: request{op: admission.Update, resource: nodes, name: "node1",
			obj: nodeObj("node1", nil, corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}), old: nodeObj("node1", nil)},
			wantErr: `node "node1" is not allowed to modify taints`},
		{name: "update other node", req: request{op: admission.Update, resource: nodes, name: "node2", obj: nodeObj("node2", nil), old: nodeObj("node2", nil)},
			wantErr: `node "node1" is not allowed to modify node "node2"`},
		{name: "delete other node", req: request{op: admission.Delete, resource: nodes, name: "node2"},
			wantErr: `node "node1" is not allowed to modify node "node2"`},
		{name: "token for own pod", req: request{op: admission.Create, resource: sas, subresource: "token", namespace: "ns", name: "default", obj: token("mine", "uid-mine")}},
		{name: "token for other pod", req: request{op: admission.Create, resource: sas, subresource: "token", namespace: "ns", name: "default", obj: token("theirs", "uid-theirs")},
			wantErr: "node requested token bound to a pod scheduled on a different node"},
		{name: "token not bound", req: request{op: admission.Create, resource: sas, subresource: "token", namespace: "ns", name: "default", obj: &authenticationv1.TokenRequest{}},
			wantErr: "node requested token not bound to a pod"},
		{name: "token with stale uid", req: request{op: admission.Create, resource: sas, subresource: "token", namespace: "ns", name: "default", obj: token("mine", "old")},
			wantErr: "does not match the UID in record"},
		{name: "create with kubelet labels", req: request{op: admission.Create, resource: nodes, name: "node1",
			obj: nodeObj("node1", map[string]string{"kubernetes.io/hostname": "node1", "node.kubernetes.io/instance-type": "big", "topology.kubernetes.io/zone": "a", "example.com/pool": "x"})}},
		{name: "create with a role label", req: request{op: admission.Create, resource: nodes, name: "node1",
			obj: nodeObj("node1", map[string]string{"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "node1"})},
			wantErr: `node "node1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane`},
		{name: "create with a configSource", req: request{op: admission.Create, resource: nodes, name: "node1",
			obj: func() *corev1.Node {
				n := nodeObj("node1", nil)
				n.Spec.ConfigSource = &corev1.NodeConfigSource{ConfigMap: &corev1.ConfigMapNodeConfigSource{Name: "c", Namespace: "kube-system", KubeletConfigKey: "k"}}
				return n
			}()},
			wantErr: `node "node1" is not allowed to create pods with a non-nil configSource`},
		{name: "update adding a role label", req: request{op: admission.Update, resource: nodes, name: "node1",
			obj: nodeObj("node1", map[string]string{"node-role.kubernetes.io/worker": ""}), old: nodeObj("node1", nil)},
			wantErr: `is not allowed to modify labels: node-role.kubernetes.io/worker`},
		{name: "update removing the admin's role label", req: request{op: admission.Update, resource: nodes, name: "node1",
			obj: nodeObj("node1", nil), old: nodeObj("node1", map[string]string{"node-role.kubernetes.io/worker": ""})},
			wantErr: `is not allowed to modify labels: node-role.kubernetes.io/worker`},
		{name: "update keeping the admin's role label", req: request{op: admission.Update, resource: nodes, name: "node1",
			obj: nodeObj("node1", map[string]string{"node-role.kubernetes.io/worker": "", "kubernetes.io/hostname": "node1"}),
			old: nodeObj("node1", map[string]string{"node-role.kubernetes.io/worker": ""})}},
		{name: "status update of itself", req: request{op: admission.Update, resource: nodes, subresource: "status", name: "node1",
			obj: nodeObj("node1", map[string]string{"kubernetes.io/os": "linux"}), old: nodeObj("node1", nil)}},
		{name: "status update of another node", req: request{op: admission.Update, resource: nodes, subresource: "status", name: "node2",
			obj: nodeObj("node2", nil), old: nodeObj("node2", nil)},
			wantErr: `node "node1" is not allowed to modify node "node2"`},
		{name: "create own lease", req: request{op: admission.Create, resource: leases, namespace: "kube-node-lease", name: "node1",
			obj: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}}},
		{name: "create other lease", req: request{op: admission.Create, resource: leases, namespace: "kube-node-lease",
			obj: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node2"}}},
			wantErr: "can only access node lease with the same name as the requesting node"},
		{name: "lease elsewhere", req: request{op: admission.Create, resource: leases, namespace: "default", name: "node1",
			obj: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}},
			wantErr: `can only access leases in the "kube-node-lease" system namespace`},
		{name: "own lease", req: request{op: admission.Update, resource: leases, namespace: "kube-node-lease", name: "node1", obj: &coordinationv1.Lease{}, old: &coordinationv1.Lease{}}},
		{name: "other lease", req: request{op: admission.Update, resource: leases, namespace: "kube-node-lease", name: "node2", obj: &coordinationv1.Lease{}, old: &coordinationv1.Lease{}},
			wantErr: "can only access node lease with the same name as the requesting node"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugin.Validate(context.Background(), tc.req.attributes(), nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want …%s…", err, tc.wantErr)
			}
		})
	}
}
