package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// TestPodEphemeralContainers adds ephemeral containers to a pod through
// pods/ephemeralcontainers the ways clients do (kubectl debug's strategic
// merge patch, client-go's UpdateEphemeralContainers, JSON and JSON merge
// patches) and checks upstream's rules: only additions, unique names, no
// fields a debugging container may not have, and no way around them
// through the pod itself.
func TestPodEphemeralContainers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t)
	pods := c.kube.CoreV1().Pods(ns)
	pod, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("get returns the pod", func(t *testing.T) {
		resp := c.do(t, http.MethodGet, "/api/v1/namespaces/"+ns+"/pods/web/ephemeralcontainers", "", nil)
		var got corev1.Pod
		if err := json.Unmarshal(resp.body, &got); err != nil || resp.status != http.StatusOK {
			t.Fatalf("GET ephemeralcontainers: %d %v %.300s", resp.status, err, resp.body)
		}
		if got.Kind != "Pod" || got.APIVersion != "v1" || got.Name != "web" || got.UID != pod.UID {
			t.Errorf("GET ephemeralcontainers = %s %s %s (uid %s), want the pod web", got.APIVersion, got.Kind, got.Name, got.UID)
		}
	})

	t.Run("kubectl debug's strategic merge patch", func(t *testing.T) {
		// What kubectl debug -it web --image=busybox --target=app sends: a
		// two-way merge patch from the pod to the pod with the debug
		// container appended. A label change rides along and is ignored.
		debug := pod.DeepCopy()
		debug.Labels["app"] = "changed"
		debug.Spec.EphemeralContainers = append(debug.Spec.EphemeralContainers, corev1.EphemeralContainer{
			TargetContainerName: "app",
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debugger", Image: "busybox", Stdin: true, TTY: true,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent,
			},
		})
		patch := twoWayPatch(t, pod, debug)
		got, err := pods.Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "ephemeralcontainers")
		if err != nil {
			t.Fatalf("patching ephemeralcontainers with %s: %v", patch, err)
		}
		if names := ephemeralNames(got); !slices.Equal(names, []string{"debugger"}) {
			t.Fatalf("ephemeral containers %v, want [debugger]", names)
		}
		ec := got.Spec.EphemeralContainers[0]
		if ec.TargetContainerName != "app" || ec.Image != "busybox" || !ec.Stdin || !ec.TTY {
			t.Errorf("debugger = %+v, want target app, image busybox, stdin and tty", ec)
		}
		if got.Labels["app"] != "web" {
			t.Errorf("labels %v: the subresource changed them", got.Labels)
		}
		if got.Generation != pod.Generation+1 {
			t.Errorf("generation %d, want %d", got.Generation, pod.Generation+1)
		}
		stored, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if names := ephemeralNames(stored); !slices.Equal(names, []string{"debugger"}) || stored.Spec.Containers[0].Image != "nginx:1.27" {
			t.Errorf("stored pod: ephemeral containers %v, image %s", names, stored.Spec.Containers[0].Image)
		}
	})

	t.Run("UpdateEphemeralContainers", func(t *testing.T) {
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "second", Image: "busybox", Command: []string{"sleep", "3600"}},
		})
		// Ignored: only the ephemeral containers count.
		p.Spec.Containers[0].Image = "nginx:1.28"
		got, err := pods.UpdateEphemeralContainers(ctx, "web", p, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("UpdateEphemeralContainers: %v", err)
		}
		if names := ephemeralNames(got); !slices.Equal(names, []string{"debugger", "second"}) {
			t.Errorf("ephemeral containers %v, want [debugger second]", names)
		}
		if got.Spec.Containers[0].Image != "nginx:1.27" {
			t.Errorf("container image %s: the subresource changed it", got.Spec.Containers[0].Image)
		}
		// The decoder defaulted the new container, as upstream does.
		if ec := got.Spec.EphemeralContainers[1]; ec.TerminationMessagePolicy != corev1.TerminationMessageReadFile || ec.ImagePullPolicy != corev1.PullAlways {
			t.Errorf("second: terminationMessagePolicy %q imagePullPolicy %q, want File and Always", ec.TerminationMessagePolicy, ec.ImagePullPolicy)
		}
	})

	t.Run("JSON merge patch", func(t *testing.T) {
		// A merge patch replaces the list: the existing containers come
		// along unchanged.
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		list := append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "third", Image: "alpine"},
		})
		patch, err := json.Marshal(map[string]any{"spec": map[string]any{"ephemeralContainers": list}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := pods.Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{}, "ephemeralcontainers")
		if err != nil {
			t.Fatalf("merge patch: %v", err)
		}
		if names := ephemeralNames(got); !slices.Equal(names, []string{"debugger", "second", "third"}) {
			t.Errorf("ephemeral containers %v, want [debugger second third]", names)
		}
	})

	const changed = `spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed`
	for _, tc := range []struct {
		name      string
		patchType types.PatchType
		patch     string
		field     string
		message   string
	}{
		{
			name:      "changing an ephemeral container",
			patchType: types.StrategicMergePatchType,
			patch:     `{"spec":{"ephemeralContainers":[{"name":"debugger","image":"alpine"}]}}`,
			field:     "spec.ephemeralContainers",
			message:   changed,
		},
		{
			name:      "changing the target with a JSON patch",
			patchType: types.JSONPatchType,
			patch:     `[{"op":"remove","path":"/spec/ephemeralContainers/0/targetContainerName"}]`,
			field:     "spec.ephemeralContainers",
			message:   changed,
		},
		{
			name:      "removing an ephemeral container",
			patchType: types.JSONPatchType,
			patch:     `[{"op":"remove","path":"/spec/ephemeralContainers/1"}]`,
			field:     "spec.ephemeralContainers",
			message:   `spec.ephemeralContainers: Forbidden: existing ephemeral containers "second" may not be removed`,
		},
		{
			name:      "name of a container",
			patchType: types.JSONPatchType,
			patch:     `[{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"app","image":"busybox"}}]`,
			field:     "spec.ephemeralContainers[3].name",
			message:   `spec.ephemeralContainers[3].name: Duplicate value: "app"`,
		},
		{
			name:      "ports",
			patchType: types.JSONPatchType,
			patch:     `[{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"server","image":"nginx","ports":[{"containerPort":80}]}}]`,
			field:     "spec.ephemeralContainers[3].ports",
			message:   "spec.ephemeralContainers[3].ports: Forbidden: cannot be set for an Ephemeral Container",
		},
		{
			name:      "unknown target",
			patchType: types.JSONPatchType,
			patch:     `[{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"lost","image":"busybox","targetContainerName":"db"}}]`,
			field:     "spec.ephemeralContainers[3].targetContainerName",
			message:   `spec.ephemeralContainers[3].targetContainerName: Not found: "db"`,
		},
		{
			name:      "no image",
			patchType: types.JSONPatchType,
			patch:     `[{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"empty"}}]`,
			field:     "spec.ephemeralContainers[3].image",
			message:   "spec.ephemeralContainers[3].image: Required value",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pods.Patch(ctx, "web", tc.patchType, []byte(tc.patch), metav1.PatchOptions{}, "ephemeralcontainers")
			requireInvalid(t, err, tc.field, tc.message)
		})
	}

	t.Run("the pod itself may not change its ephemeral containers", func(t *testing.T) {
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for name, change := range map[string]func(*corev1.Pod){
			"added": func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "sneaky", Image: "busybox", ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile}})
			},
			"removed": func(p *corev1.Pod) { p.Spec.EphemeralContainers = p.Spec.EphemeralContainers[1:] },
			"changed": func(p *corev1.Pod) { p.Spec.EphemeralContainers[0].Command = []string{"sh"} },
		} {
			u := p.DeepCopy()
			change(u)
			_, err := pods.Update(ctx, u, metav1.UpdateOptions{})
			requireInvalid(t, err, "spec", "spec: Forbidden: pod updates may not change fields other than")
			if t.Failed() {
				t.Logf("(PUT with ephemeral containers %s)", name)
			}
		}
		_, err = pods.Patch(ctx, "web", types.JSONPatchType, []byte(`[{"op":"remove","path":"/spec/ephemeralContainers"}]`), metav1.PatchOptions{})
		requireInvalid(t, err, "spec", "spec: Forbidden: pod updates may not change fields other than")
	})

	t.Run("not on create", func(t *testing.T) {
		_, err := pods.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "born-debugged"},
			Spec: corev1.PodSpec{
				Containers:          []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
				EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox"}}},
			},
		}, metav1.CreateOptions{})
		requireInvalid(t, err, "spec.ephemeralContainers", "spec.ephemeralContainers: Forbidden: cannot be set on create")
	})

	t.Run("discovery", func(t *testing.T) {
		list, err := c.kube.Discovery().ServerResourcesForGroupVersion("v1")
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == "pods/ephemeralcontainers" })
		if i < 0 {
			t.Fatal("/api/v1 does not list pods/ephemeralcontainers")
		}
		r := list.APIResources[i]
		verbs := slices.Sorted(slices.Values(r.Verbs))
		if r.Kind != "Pod" || r.Group != "" || r.Version != "" || !r.Namespaced || !slices.Equal(verbs, []string{"get", "patch", "update"}) {
			t.Errorf("pods/ephemeralcontainers = %+v, want kind Pod of v1, namespaced, verbs get, patch, update", r)
		}
	})
}

// twoWayPatch is the strategic merge patch from one pod to another, as
// kubectl computes it.
func twoWayPatch(t *testing.T, from, to *corev1.Pod) []byte {
	t.Helper()
	a, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(to)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(a, b, from)
	if err != nil {
		t.Fatal(err)
	}
	return patch
}

func ephemeralNames(p *corev1.Pod) []string {
	var names []string
	for _, ec := range p.Spec.EphemeralContainers {
		names = append(names, ec.Name)
	}
	return names
}

// requireInvalid checks that err is a 422 with a cause at field and a
// message that contains message.
func requireInvalid(t *testing.T, err error, field, message string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Errorf("got %v, want 422 Invalid", err)
		return
	}
	if !strings.Contains(err.Error(), message) {
		t.Errorf("error %q does not say %q", err, message)
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		t.Errorf("no details in %v", err)
		return
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == field {
			return
		}
	}
	t.Errorf("no cause for %s in %+v", field, status.Status().Details.Causes)
}
