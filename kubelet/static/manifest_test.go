package static

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

const webYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    tier: front
  annotations:
    note: hi
spec:
  containers:
  - name: httpd
    image: busybox
    command: ["httpd", "-f"]
`

const etcdJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"etcd","namespace":"kube-system","uid":"ignored"},
"spec":{"tolerations":[{"operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"containers":[{"name":"etcd","image":"etcd"}]}}`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStaticPod(t *testing.T) {
	pod, err := StaticPod([]byte(webYAML), "/etc/kubernetes/manifests/web.yaml", "Node-1")
	if err != nil {
		t.Fatal(err)
	}
	hash := string(pod.UID)
	if len(hash) != 32 {
		t.Errorf("UID %q, want a 128-bit hex hash", hash)
	}
	want := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      "web-node-1",
			Namespace: "default",
			UID:       types.UID(hash),
			Labels:    map[string]string{"tier": "front"},
			Annotations: map[string]string{
				"note":                        "hi",
				"kubernetes.io/config.hash":   hash,
				"kubernetes.io/config.source": "file",
			},
		},
		Spec: corev1.PodSpec{
			NodeName:    "Node-1",
			Containers:  []corev1.Container{{Name: "httpd", Image: "busybox", Command: []string{"httpd", "-f"}}},
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	if diff := cmp.Diff(want, pod); diff != "" {
		t.Errorf("static pod (-want +got):\n%s", diff)
	}

	// The hash follows the content, the node and the file.
	for _, other := range []struct {
		name             string
		data, path, node string
	}{
		{"content", strings.Replace(webYAML, "busybox", "busybox:1.36", 1), "/etc/kubernetes/manifests/web.yaml", "Node-1"},
		{"file", webYAML, "/etc/kubernetes/manifests/web2.yaml", "Node-1"},
		{"node", webYAML, "/etc/kubernetes/manifests/web.yaml", "node-2"},
	} {
		p, err := StaticPod([]byte(other.data), other.path, other.node)
		if err != nil {
			t.Fatal(err)
		}
		if p.UID == pod.UID {
			t.Errorf("another %s, same hash", other.name)
		}
	}
	again, _ := StaticPod([]byte(webYAML), "/etc/kubernetes/manifests/web.yaml", "Node-1")
	if again.UID != pod.UID {
		t.Error("the same manifest hashed differently")
	}

	// JSON, a namespace, the manifest's uid not used, the toleration
	// replaced.
	etcd, err := StaticPod([]byte(etcdJSON), "/m/etcd.json", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	if etcd.Name != "etcd-node-1" || etcd.Namespace != "kube-system" || etcd.UID == "ignored" {
		t.Errorf("etcd: %s/%s uid %s", etcd.Namespace, etcd.Name, etcd.UID)
	}
	if diff := cmp.Diff([]corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}, etcd.Spec.Tolerations); diff != "" {
		t.Errorf("tolerations (-want +got):\n%s", diff)
	}

	for name, bad := range map[string]string{
		"not yaml":    "{{{",
		"not a pod":   "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n",
		"no version":  "kind: Pod\nmetadata:\n  name: x\n",
		"no name":     "apiVersion: v1\nkind: Pod\nspec: {}\n",
		"wrong field": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x]\n",
	} {
		if _, err := StaticPod([]byte(bad), "/m/bad.yaml", "node-1"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadManifests(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "web.yaml", webYAML)
	writeFile(t, dir, "etcd.json", etcdJSON)
	writeFile(t, dir, ".web.yaml.swp", "garbage")
	writeFile(t, dir, "broken.yaml", "apiVersion: v1\nkind: Pod\n")
	writeFile(t, dir, "zz-web-again.yaml", webYAML)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub"), "inner.yaml", webYAML)

	manifests, err := ReadManifests(dir, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range manifests {
		s := filepath.Base(m.Path) + ": "
		if m.Err != nil {
			s += "error"
		} else {
			s += m.Pod.Namespace + "/" + m.Pod.Name
		}
		got = append(got, s)
	}
	want := []string{"broken.yaml: error", "etcd.json: kube-system/etcd-node-1", "web.yaml: default/web-node-1", "zz-web-again.yaml: error"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("manifests (-want +got):\n%s", diff)
	}

	if m, err := ReadManifests(filepath.Join(dir, "missing"), "node-1"); err != nil || len(m) != 0 {
		t.Errorf("missing dir: %v, %v; want no manifests", m, err)
	}
}

func mirrorOf(static *corev1.Pod, uid string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	m := MirrorPod(static, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "node-uid"}}, time.Time{})
	m.UID = types.UID(uid)
	for _, f := range mutate {
		f(m)
	}
	return m
}

func TestMirrorPod(t *testing.T) {
	static, err := StaticPod([]byte(webYAML), "/m/web.yaml", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	seen := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	m := MirrorPod(static, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "node-uid"}}, seen)
	hash := string(static.UID)
	want := static.DeepCopy()
	want.UID = ""
	want.Status = corev1.PodStatus{}
	want.Annotations["kubernetes.io/config.seen"] = "2026-03-01T12:00:00.123456789Z"
	want.Annotations["kubernetes.io/config.mirror"] = hash
	want.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "node-1", UID: "node-uid", Controller: ptr.To(true)}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("mirror pod (-want +got):\n%s", diff)
	}
	if _, ok := static.Annotations["kubernetes.io/config.mirror"]; ok {
		t.Error("the static pod was changed")
	}
}

func TestPlanMirrorPods(t *testing.T) {
	web, _ := StaticPod([]byte(webYAML), "/m/web.yaml", "node-1")
	etcd, _ := StaticPod([]byte(etcdJSON), "/m/etcd.json", "node-1")
	webChanged, _ := StaticPod([]byte(strings.Replace(webYAML, "busybox", "busybox:1.36", 1)), "/m/web.yaml", "node-1")
	regular := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-node-1", UID: "regular"}}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "app", UID: "app"}}
	orphan := mirrorOf(etcd, "orphan", func(p *corev1.Pod) { p.Name = "old-node-1" })
	deleting := mirrorOf(web, "deleting", func(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.Now()) })

	names := func(pods []*corev1.Pod) []string {
		var out []string
		for _, p := range pods {
			out = append(out, p.Namespace+"/"+p.Name+"@"+string(p.UID))
		}
		return out
	}
	type plan struct{ Delete, Create, Conflicts []string }
	tests := []struct {
		name     string
		static   []*corev1.Pod
		existing []*corev1.Pod
		want     plan
	}{
		{name: "create missing", static: []*corev1.Pod{web, etcd}, existing: []*corev1.Pod{other},
			want: plan{Create: []string{"default/web-node-1@" + string(web.UID), "kube-system/etcd-node-1@" + string(etcd.UID)}}},
		{name: "up to date", static: []*corev1.Pod{web}, existing: []*corev1.Pod{mirrorOf(web, "m1"), other}},
		{name: "manifest changed", static: []*corev1.Pod{webChanged}, existing: []*corev1.Pod{mirrorOf(web, "m1")},
			want: plan{Delete: []string{"default/web-node-1@m1"}, Create: []string{"default/web-node-1@" + string(webChanged.UID)}}},
		{name: "mirror pod being deleted is replaced", static: []*corev1.Pod{web}, existing: []*corev1.Pod{deleting},
			want: plan{Delete: []string{"default/web-node-1@deleting"}, Create: []string{"default/web-node-1@" + string(web.UID)}}},
		{name: "orphans deleted", static: []*corev1.Pod{web}, existing: []*corev1.Pod{mirrorOf(web, "m1"), orphan, other},
			want: plan{Delete: []string{"kube-system/old-node-1@orphan"}}},
		{name: "no static pods", existing: []*corev1.Pod{mirrorOf(web, "m1"), other},
			want: plan{Delete: []string{"default/web-node-1@m1"}}},
		{name: "name taken by a regular pod", static: []*corev1.Pod{web}, existing: []*corev1.Pod{regular},
			want: plan{Conflicts: []string{"default/web-node-1@" + string(web.UID)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanMirrorPods(tt.static, tt.existing)
			got := plan{Delete: names(p.Delete), Create: names(p.Create), Conflicts: names(p.Conflicts)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNilSourceHasNoStaticPods(t *testing.T) {
	var s *Source
	if s.HasStaticPod("x") {
		t.Error("a nil source has static pods")
	}
}
