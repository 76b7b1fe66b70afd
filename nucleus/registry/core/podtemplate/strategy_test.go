package podtemplate

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func template(containers ...corev1.Container) *corev1.PodTemplate {
	return &corev1.PodTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: "ns", Generation: 1},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
			Spec: corev1.PodSpec{
				Containers:    containers,
				RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst,
			},
		},
	}
}

func TestRow(t *testing.T) {
	pt := template(corev1.Container{Name: "app", Image: "nginx:1"}, corev1.Container{Name: "sidecar", Image: "envoy"})
	want := []interface{}{"t", "app,sidecar", "nginx:1,envoy", "app=web,tier=front"}
	if diff := cmp.Diff(want, Row(pt)); diff != "" {
		t.Errorf("row (-want +got)\n%s", diff)
	}
	pt.Template.Labels = nil
	if got := Row(pt)[3]; got != "<none>" {
		t.Errorf("no labels: got %q", got)
	}
}

func TestValidateRefusesEphemeralContainers(t *testing.T) {
	pt := template(corev1.Container{Name: "app", Image: "nginx", ImagePullPolicy: corev1.PullIfNotPresent,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile})
	pt.Template.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
	found := false
	for _, e := range Validate(pt) {
		found = found || e.Field == "template.spec.ephemeralContainers"
	}
	if !found {
		t.Errorf("ephemeral containers accepted: %v", Validate(pt))
	}
}

func TestValidateRequiresContainers(t *testing.T) {
	if errs := Validate(template()); len(errs) == 0 {
		t.Error("template without containers accepted")
	}
}

func TestGeneration(t *testing.T) {
	old := template(corev1.Container{Name: "app", Image: "nginx:1"})
	same := old.DeepCopy()
	Definition.PrepareForUpdate(context.Background(), same, old)
	if same.Generation != 1 {
		t.Errorf("unchanged template: generation %d, want 1", same.Generation)
	}
	changed := old.DeepCopy()
	changed.Template.Spec.Containers[0].Image = "nginx:2"
	Definition.PrepareForUpdate(context.Background(), changed, old)
	if changed.Generation != 2 {
		t.Errorf("changed template: generation %d, want 2", changed.Generation)
	}
}
