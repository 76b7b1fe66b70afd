package defaults

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestPodSpecEphemeralContainerDefaults(t *testing.T) {
	tests := []struct {
		name        string
		hostNetwork bool
		in          corev1.EphemeralContainerCommon
		want        corev1.EphemeralContainerCommon
	}{
		{
			name: "policies from the image",
			in:   corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox"},
			want: corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox", ImagePullPolicy: corev1.PullAlways,
				TerminationMessagePath: corev1.TerminationMessagePathDefault, TerminationMessagePolicy: corev1.TerminationMessageReadFile},
		},
		{
			name: "port protocol and field ref version, no host port on the host network",
			// Ephemeral containers may not have ports; defaulting them
			// leaves validation only that to say.
			hostNetwork: true,
			in: corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox:1.37",
				Ports: []corev1.ContainerPort{{ContainerPort: 80}},
				Env:   []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}}},
			want: corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox:1.37", ImagePullPolicy: corev1.PullIfNotPresent,
				TerminationMessagePath: corev1.TerminationMessagePathDefault, TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
				Env:   []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &corev1.PodSpec{HostNetwork: tt.hostNetwork, EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: tt.in}}}
			PodSpec(spec)
			if diff := cmp.Diff(tt.want, spec.EphemeralContainers[0].EphemeralContainerCommon); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
