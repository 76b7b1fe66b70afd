package node

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// fakeGraph is a Graph of fixed pods and claims.
type fakeGraph struct {
	pods   []*corev1.Pod
	claims map[string]string // namespace/claim → volume
}

func (g fakeGraph) PodsOnNode(node string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range g.pods {
		if p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	return out
}

func (g fakeGraph) ClaimVolume(ns, claim string) string { return g.claims[ns+"/"+claim] }

type podBuilder struct{ pod *corev1.Pod }

func makePod(ns, name, node string) podBuilder {
	return podBuilder{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node}}}
}

func (b podBuilder) Volume(src corev1.VolumeSource) podBuilder {
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: "v" + string(rune('0'+len(b.pod.Spec.Volumes))), VolumeSource: src})
	return b
}

func (b podBuilder) Container(c corev1.Container) podBuilder {
	b.pod.Spec.Containers = append(b.pod.Spec.Containers, c)
	return b
}

func (b podBuilder) ServiceAccount(name string) podBuilder {
	b.pod.Spec.ServiceAccountName = name
	return b
}

func (b podBuilder) Obj() *corev1.Pod { return b.pod }

func nodeUser(name string) user.Info {
	return &user.DefaultInfo{Name: UserPrefix + name, Groups: []string{Group, user.AllAuthenticated}}
}

type attrs struct {
	verb, group, resource, sub, ns, name string
	fieldSelector                        string
}

func (a attrs) record(u user.Info) authorizer.AttributesRecord {
	r := authorizer.AttributesRecord{User: u, Verb: a.verb, APIGroup: a.group, Resource: a.resource, Subresource: a.sub, Namespace: a.ns, Name: a.name, ResourceRequest: true}
	if a.fieldSelector != "" {
		sel, err := fields.ParseSelector(a.fieldSelector)
		if err != nil {
			panic(err)
		}
		r.FieldSelectorRequirements = sel.Requirements()
	}
	return r
}

func TestAuthorize(t *testing.T) {
	graph := fakeGraph{
		pods: []*corev1.Pod{
			makePod("ns", "web", "n1").
				Volume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "used"}}).
				Volume(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}).
				Container(corev1.Container{Name: "app", EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}}).
				ServiceAccount("web").Obj(),
			makePod("ns", "foreign", "n2").
				Volume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "theirs"}}).Obj(),
		},
		claims: map[string]string{"ns/data": "pv-data"},
	}
	a := New(graph)
	allow, pass := authorizer.DecisionAllow, authorizer.DecisionNoOpinion
	for _, tc := range []struct {
		name string
		user user.Info
		attrs
		want authorizer.Decision
	}{
		{"get own node", nodeUser("n1"), attrs{verb: "get", resource: "nodes", name: "n1"}, allow},
		{"get other node", nodeUser("n1"), attrs{verb: "get", resource: "nodes", name: "n2"}, allow},
		{"list nodes", nodeUser("n1"), attrs{verb: "list", resource: "nodes"}, allow},
		{"create own node", nodeUser("n1"), attrs{verb: "create", resource: "nodes"}, allow},
		{"update own node", nodeUser("n1"), attrs{verb: "update", resource: "nodes", name: "n1"}, allow},
		{"update other node", nodeUser("n1"), attrs{verb: "update", resource: "nodes", name: "n2"}, pass},
		{"patch own node status", nodeUser("n1"), attrs{verb: "patch", resource: "nodes", sub: "status", name: "n1"}, allow},
		{"patch other node status", nodeUser("n1"), attrs{verb: "patch", resource: "nodes", sub: "status", name: "n2"}, pass},
		{"delete other node", nodeUser("n1"), attrs{verb: "delete", resource: "nodes", name: "n2"}, pass},
		{"delete own node", nodeUser("n1"), attrs{verb: "delete", resource: "nodes", name: "n1"}, pass},
		{"update own node status", nodeUser("n1"), attrs{verb: "update", resource: "nodes", sub: "status", name: "n1"}, allow},
		{"list services", nodeUser("n1"), attrs{verb: "list", resource: "services"}, allow},
		{"watch services", nodeUser("n1"), attrs{verb: "watch", resource: "services", ns: "ns"}, allow},
		{"update a service", nodeUser("n1"), attrs{verb: "update", resource: "services", ns: "ns", name: "s"}, pass},
		{"token review", nodeUser("n1"), attrs{verb: "create", group: "authentication.k8s.io", resource: "tokenreviews"}, allow},
		{"subject access review", nodeUser("n1"), attrs{verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews"}, allow},
		{"local subject access review", nodeUser("n1"), attrs{verb: "create", group: "authorization.k8s.io", resource: "localsubjectaccessreviews", ns: "ns"}, allow},
		{"list endpoints", nodeUser("n1"), attrs{verb: "list", resource: "endpoints"}, pass},
		{"list endpoint slices", nodeUser("n1"), attrs{verb: "list", group: "discovery.k8s.io", resource: "endpointslices"}, allow},
		{"watch endpoint slices", nodeUser("n1"), attrs{verb: "watch", group: "discovery.k8s.io", resource: "endpointslices", ns: "ns"}, allow},
		{"get endpoint slice", nodeUser("n1"), attrs{verb: "get", group: "discovery.k8s.io", resource: "endpointslices", ns: "ns", name: "s"}, pass},
		{"update endpoint slice", nodeUser("n1"), attrs{verb: "update", group: "discovery.k8s.io", resource: "endpointslices", ns: "ns", name: "s"}, pass},
		{"endpoint slices of another group", nodeUser("n1"), attrs{verb: "list", resource: "endpointslices"}, pass},
		{"own lease", nodeUser("n1"), attrs{verb: "update", group: "coordination.k8s.io", resource: "leases", ns: LeaseNamespace, name: "n1"}, allow},
		{"create lease", nodeUser("n1"), attrs{verb: "create", group: "coordination.k8s.io", resource: "leases", ns: LeaseNamespace}, allow},
		{"other lease", nodeUser("n1"), attrs{verb: "update", group: "coordination.k8s.io", resource: "leases", ns: LeaseNamespace, name: "n2"}, pass},
		{"lease elsewhere", nodeUser("n1"), attrs{verb: "get", group: "coordination.k8s.io", resource: "leases", ns: "default", name: "n1"}, pass},
		{"list pods with own selector", nodeUser("n1"), attrs{verb: "list", resource: "pods", fieldSelector: "spec.nodeName=n1"}, allow},
		{"watch pods with own selector", nodeUser("n1"), attrs{verb: "watch", resource: "pods", fieldSelector: "spec.nodeName==n1"}, allow},
		{"list pods without selector", nodeUser("n1"), attrs{verb: "list", resource: "pods"}, pass},
		{"list pods of another node", nodeUser("n1"), attrs{verb: "list", resource: "pods", fieldSelector: "spec.nodeName=n2"}, pass},
		{"list pods not on node", nodeUser("n1"), attrs{verb: "list", resource: "pods", fieldSelector: "spec.nodeName!=n1"}, pass},
		{"get own pod", nodeUser("n1"), attrs{verb: "get", resource: "pods", ns: "ns", name: "web"}, allow},
		{"get foreign pod", nodeUser("n1"), attrs{verb: "get", resource: "pods", ns: "ns", name: "foreign"}, pass},
		{"create mirror pod", nodeUser("n1"), attrs{verb: "create", resource: "pods", ns: "ns"}, allow},
		{"delete own pod", nodeUser("n1"), attrs{verb: "delete", resource: "pods", ns: "ns", name: "web"}, allow},
		{"delete foreign pod", nodeUser("n1"), attrs{verb: "delete", resource: "pods", ns: "ns", name: "foreign"}, pass},
		{"update own pod", nodeUser("n1"), attrs{verb: "update", resource: "pods", ns: "ns", name: "web"}, pass},
		{"own pod status", nodeUser("n1"), attrs{verb: "patch", resource: "pods", sub: "status", ns: "ns", name: "web"}, allow},
		{"foreign pod status", nodeUser("n1"), attrs{verb: "patch", resource: "pods", sub: "status", ns: "ns", name: "foreign"}, pass},
		{"evict own pod", nodeUser("n1"), attrs{verb: "create", resource: "pods", sub: "eviction", ns: "ns", name: "web"}, allow},
		{"evict foreign pod", nodeUser("n1"), attrs{verb: "create", resource: "pods", sub: "eviction", ns: "ns", name: "foreign"}, pass},
		{"used secret", nodeUser("n1"), attrs{verb: "get", resource: "secrets", ns: "ns", name: "used"}, allow},
		{"watch used secret by name", nodeUser("n1"), attrs{verb: "watch", resource: "secrets", ns: "ns", name: "used"}, allow},
		{"unused secret", nodeUser("n1"), attrs{verb: "get", resource: "secrets", ns: "ns", name: "unused"}, pass},
		{"secret of a foreign pod", nodeUser("n1"), attrs{verb: "get", resource: "secrets", ns: "ns", name: "theirs"}, pass},
		{"used secret name in another namespace", nodeUser("n1"), attrs{verb: "get", resource: "secrets", ns: "other", name: "used"}, pass},
		{"list secrets", nodeUser("n1"), attrs{verb: "list", resource: "secrets", ns: "ns"}, pass},
		{"update used secret", nodeUser("n1"), attrs{verb: "update", resource: "secrets", ns: "ns", name: "used"}, pass},
		{"used configmap", nodeUser("n1"), attrs{verb: "get", resource: "configmaps", ns: "ns", name: "settings"}, allow},
		{"unused configmap", nodeUser("n1"), attrs{verb: "get", resource: "configmaps", ns: "ns", name: "other"}, pass},
		{"used claim", nodeUser("n1"), attrs{verb: "get", resource: "persistentvolumeclaims", ns: "ns", name: "data"}, allow},
		{"bound volume", nodeUser("n1"), attrs{verb: "get", resource: "persistentvolumes", name: "pv-data"}, allow},
		{"other volume", nodeUser("n1"), attrs{verb: "get", resource: "persistentvolumes", name: "pv-other"}, pass},
		{"token of its pod's account", nodeUser("n1"), attrs{verb: "create", resource: "serviceaccounts", sub: "token", ns: "ns", name: "web"}, allow},
		{"token of another account", nodeUser("n1"), attrs{verb: "create", resource: "serviceaccounts", sub: "token", ns: "ns", name: "default"}, pass},
		{"get service account", nodeUser("n1"), attrs{verb: "get", resource: "serviceaccounts", ns: "ns", name: "web"}, pass},
		{"core event", nodeUser("n1"), attrs{verb: "create", resource: "events", ns: "ns"}, allow},
		{"events.k8s.io event", nodeUser("n1"), attrs{verb: "patch", group: "events.k8s.io", resource: "events", ns: "ns", name: "e"}, allow},
		{"delete event", nodeUser("n1"), attrs{verb: "delete", resource: "events", ns: "ns", name: "e"}, pass},
		{"namespaces", nodeUser("n1"), attrs{verb: "list", resource: "namespaces"}, pass},
		{"list services", nodeUser("n1"), attrs{verb: "list", resource: "services"}, allow},
		{"watch services", nodeUser("n1"), attrs{verb: "watch", resource: "services"}, allow},
		{"get service", nodeUser("n1"), attrs{verb: "get", resource: "services", ns: "ns", name: "web"}, allow},
		{"update service", nodeUser("n1"), attrs{verb: "update", resource: "services", ns: "ns", name: "web"}, pass},
		{"service status", nodeUser("n1"), attrs{verb: "patch", resource: "services", sub: "status", ns: "ns", name: "web"}, pass},
		{"not a node: no group", &user.DefaultInfo{Name: UserPrefix + "n1"}, attrs{verb: "get", resource: "nodes", name: "n1"}, pass},
		{"not a node: plain user", &user.DefaultInfo{Name: "alice", Groups: []string{Group}}, attrs{verb: "get", resource: "nodes", name: "n1"}, pass},
		{"not a node: empty name", &user.DefaultInfo{Name: UserPrefix, Groups: []string{Group}}, attrs{verb: "get", resource: "nodes"}, pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := a.Authorize(context.Background(), tc.record(tc.user))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("decision = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAuthorizeNonResource(t *testing.T) {
	a := New(fakeGraph{})
	got, _, _ := a.Authorize(context.Background(), authorizer.AttributesRecord{User: nodeUser("n1"), Verb: "get", Path: "/metrics"})
	if got != authorizer.DecisionNoOpinion {
		t.Errorf("decision = %v, want NoOpinion", got)
	}
}

func TestRulesFor(t *testing.T) {
	a := New(fakeGraph{pods: []*corev1.Pod{
		makePod("ns", "web", "n1").Volume(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "used"}}).Obj(),
	}})
	names := map[string][]string{}
	for _, r := range a.RulesFor("n1", "ns") {
		for _, res := range r.GetResources() {
			if len(r.GetResourceNames()) > 0 {
				names[res] = r.GetResourceNames()
			}
		}
	}
	want := map[string][]string{
		"nodes": {"n1"}, "nodes/status": {"n1"},
		"pods": {"web"}, "pods/status": {"web"}, "pods/eviction": {"web"},
		"secrets": {"used"}, "serviceaccounts/token": {"default"},
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("named rules (-want +got):\n%s", diff)
	}
	var sliceVerbs []string
	for _, r := range a.RulesFor("n1", "ns") {
		for _, res := range r.GetResources() {
			if res == "endpointslices" {
				sliceVerbs = append(sliceVerbs, r.GetVerbs()...)
			}
		}
	}
	if diff := cmp.Diff([]string{"list", "watch"}, sliceVerbs); diff != "" {
		t.Errorf("endpointslices verbs (-want +got):\n%s", diff)
	}
}
