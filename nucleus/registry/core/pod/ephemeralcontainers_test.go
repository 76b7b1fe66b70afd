package pod

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func debugger(name, image string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: name, Image: image, ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}}
}

func TestEphemeralContainersPrepareForUpdate(t *testing.T) {
	stored := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: "web", Namespace: "default", ResourceVersion: "7", Generation: 2,
				Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"note": "kept"},
				Finalizers:      []string{"example.com/keep"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "u1"}},
			},
			Spec: corev1.PodSpec{
				NodeName:   "node-1",
				Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
			},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5"},
		}
	}
	tests := []struct {
		name string
		// ephemeral are the stored pod's ephemeral containers.
		ephemeral []corev1.EphemeralContainer
		// submit changes the submitted pod, a copy of the stored one.
		submit func(*corev1.Pod)
		// want changes a copy of the stored pod into the expected result.
		want func(*corev1.Pod)
	}{
		{
			name:   "nothing changed keeps the generation",
			submit: func(*corev1.Pod) {},
			want:   func(*corev1.Pod) {},
		},
		{
			name: "added ephemeral container bumps the generation",
			submit: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debugger", "busybox")}
			},
			want: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debugger", "busybox")}
				p.Generation = 3
			},
		},
		{
			name: "other spec fields are ignored",
			submit: func(p *corev1.Pod) {
				p.Spec.Containers[0].Image = "nginx:1.28"
				p.Spec.NodeName = "node-2"
				p.Spec.RestartPolicy = corev1.RestartPolicyNever
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debugger", "busybox")}
			},
			want: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debugger", "busybox")}
				p.Generation = 3
			},
		},
		{
			name: "status and metadata are ignored",
			submit: func(p *corev1.Pod) {
				p.Status = corev1.PodStatus{Phase: corev1.PodFailed}
				p.Labels = map[string]string{"app": "other"}
				p.Annotations = nil
				p.Finalizers = nil
				p.OwnerReferences = nil
				p.Generation = 10
				p.DeletionTimestamp = &metav1.Time{}
			},
			want: func(*corev1.Pod) {},
		},
		{
			// Validation refuses the removal; the strategy passes it on.
			name:      "removal reaches validation",
			ephemeral: []corev1.EphemeralContainer{debugger("debugger", "busybox")},
			submit:    func(p *corev1.Pod) { p.Spec.EphemeralContainers = nil },
			want: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = nil
				p.Generation = 3
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := stored()
			old.Spec.EphemeralContainers = tt.ephemeral
			pod := old.DeepCopy()
			tt.submit(pod)
			want := old.DeepCopy()
			tt.want(want)
			ephemeralContainersStrategy{}.PrepareForUpdate(context.Background(), pod, old)
			if diff := cmp.Diff(want, pod); diff != "" {
				t.Errorf("prepared pod (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEphemeralContainersValidateUpdate(t *testing.T) {
	old := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "7"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst,
			Containers:          []corev1.Container{{Name: "app", Image: "nginx:1.27", ImagePullPolicy: corev1.PullIfNotPresent, TerminationMessagePolicy: corev1.TerminationMessageReadFile}},
			EphemeralContainers: []corev1.EphemeralContainer{debugger("debugger", "busybox")},
		},
	}
	tests := []struct {
		name  string
		added []corev1.EphemeralContainer
		want  []string
	}{
		{name: "added", added: []corev1.EphemeralContainer{debugger("debugger", "busybox"), debugger("second", "busybox")}},
		{name: "duplicate of a container", added: []corev1.EphemeralContainer{debugger("debugger", "busybox"), debugger("app", "busybox")},
			want: []string{"spec.ephemeralContainers[1].name"}},
		{name: "changed", added: []corev1.EphemeralContainer{debugger("debugger", "alpine")}, want: []string{"spec.ephemeralContainers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := old.DeepCopy()
			pod.Spec.EphemeralContainers = tt.added
			var got []string
			for _, e := range (ephemeralContainersStrategy{}).ValidateUpdate(context.Background(), pod, old) {
				got = append(got, e.Field)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error fields (-want +got):\n%s", diff)
			}
		})
	}
}
