package validation

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// validEphemeral returns an ephemeral container that passes validation,
// with the defaults the decoder applies.
func validEphemeral(name string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name:                     name,
		Image:                    "busybox:1.37",
		ImagePullPolicy:          corev1.PullIfNotPresent,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		Stdin:                    true,
		TTY:                      true,
	}}
}

func TestValidatePodSpecEphemeralContainers(t *testing.T) {
	const forbidden = "Forbidden: cannot be set for an Ephemeral Container"
	tests := []struct {
		name   string
		modify func(*corev1.PodSpec, *corev1.EphemeralContainer)
		want   []string
	}{
		{name: "valid", modify: func(*corev1.PodSpec, *corev1.EphemeralContainer) {}},
		{
			name: "every allowed field",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.Command, ec.Args, ec.WorkingDir = []string{"sh"}, []string{"-c", "true"}, "/tmp"
				ec.Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
				ec.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
				ec.SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}}
				ec.StdinOnce = true
				ec.TargetContainerName = "app"
			},
		},
		{
			name:   "target is an init container",
			modify: func(s *corev1.PodSpec, ec *corev1.EphemeralContainer) { ec.TargetContainerName = "init" },
		},
		{
			name:   "no name, no image",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) { ec.Name, ec.Image = "", "" },
			want:   []string{"spec.ephemeralContainers[0].image: Required value", "spec.ephemeralContainers[0].name: Required value"},
		},
		{
			name:   "name of an app container",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) { ec.Name = "app" },
			want:   []string{`spec.ephemeralContainers[0].name: Duplicate value: "app"`},
		},
		{
			name:   "name of an init container",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) { ec.Name = "init" },
			want:   []string{`spec.ephemeralContainers[0].name: Duplicate value: "init"`},
		},
		{
			name: "name of another ephemeral container",
			modify: func(s *corev1.PodSpec, _ *corev1.EphemeralContainer) {
				s.EphemeralContainers = append(s.EphemeralContainers, validEphemeral("debugger"))
			},
			want: []string{`spec.ephemeralContainers[1].name: Duplicate value: "debugger"`},
		},
		{
			name:   "name not a DNS label",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) { ec.Name = "Debugger" },
			want:   []string{`spec.ephemeralContainers[0].name: Invalid value: "Debugger": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
		},
		{
			name:   "unknown target",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) { ec.TargetContainerName = "db" },
			want:   []string{`spec.ephemeralContainers[0].targetContainerName: Not found: "db"`},
		},
		{
			name: "target is another ephemeral container",
			modify: func(s *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				s.EphemeralContainers = append(s.EphemeralContainers, validEphemeral("second"))
				s.EphemeralContainers[1].TargetContainerName = "debugger"
			},
			want: []string{`spec.ephemeralContainers[1].targetContainerName: Not found: "debugger"`},
		},
		{
			name: "ports",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}}
			},
			want: []string{"spec.ephemeralContainers[0].ports: " + forbidden},
		},
		{
			name: "resources",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
			},
			want: []string{"spec.ephemeralContainers[0].resources: " + forbidden},
		},
		{
			name: "probes and lifecycle",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}, SuccessThreshold: 1}
				ec.LivenessProbe, ec.ReadinessProbe, ec.StartupProbe = probe, probe, probe
				ec.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
			},
			want: []string{
				"spec.ephemeralContainers[0].lifecycle: " + forbidden,
				"spec.ephemeralContainers[0].livenessProbe: " + forbidden,
				"spec.ephemeralContainers[0].readinessProbe: " + forbidden,
				"spec.ephemeralContainers[0].startupProbe: " + forbidden,
			},
		},
		{
			name: "restart policy",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
			},
			want: []string{"spec.ephemeralContainers[0].restartPolicy: " + forbidden},
		},
		{
			name: "resize policy",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired}}
			},
			want: []string{"spec.ephemeralContainers[0].resizePolicy: " + forbidden},
		},
		{
			name: "mount of an unknown volume",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.VolumeMounts = []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}}
			},
			want: []string{`spec.ephemeralContainers[0].volumeMounts[0].name: Not found: "cache"`},
		},
		{
			name: "subPath and subPathExpr mounts",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/a", SubPath: "a"}, {Name: "data", MountPath: "/b", SubPathExpr: "$(POD)"}}
			},
			want: []string{
				"spec.ephemeralContainers[0].volumeMounts[0].subPath: " + forbidden,
				"spec.ephemeralContainers[0].volumeMounts[1].subPathExpr: " + forbidden,
			},
		},
		{
			name: "subPath leaving the volume",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) {
				ec.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/a", SubPath: "../etc"}}
			},
			want: []string{
				`spec.ephemeralContainers[0].volumeMounts[0].subPath: Invalid value: "../etc": must not contain '..'`,
				"spec.ephemeralContainers[0].volumeMounts[0].subPath: " + forbidden,
			},
		},
		{
			name:   "bad env var",
			modify: func(_ *corev1.PodSpec, ec *corev1.EphemeralContainer) { ec.Env = []corev1.EnvVar{{Value: "x"}} },
			want:   []string{"spec.ephemeralContainers[0].env[0].name: Required value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec()
			spec.InitContainers = []corev1.Container{validContainer("init")}
			spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
			tt.modify(spec, &spec.EphemeralContainers[0])
			got := errorStrings(ValidatePodSpec(spec, field.NewPath("spec")))
			want := append([]string(nil), tt.want...)
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePodCreate(t *testing.T) {
	pod := &corev1.Pod{Spec: *validSpec()}
	if errs := ValidatePodCreate(pod); len(errs) != 0 {
		t.Errorf("pod without ephemeral containers: %v", errs)
	}
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
	want := []string{"spec.ephemeralContainers: Forbidden: cannot be set on create"}
	if diff := cmp.Diff(want, errorStrings(ValidatePodCreate(pod))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestValidatePodEphemeralContainersUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(*corev1.Pod)
		modify func(*corev1.Pod)
		want   []string
	}{
		{name: "no change", modify: func(*corev1.Pod) {}},
		{
			name: "first added",
			modify: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
			},
		},
		{
			name: "second added in front",
			old: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
			},
			modify: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = append([]corev1.EphemeralContainer{validEphemeral("second")}, p.Spec.EphemeralContainers...)
			},
		},
		{
			name: "removed",
			old: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
			},
			modify: func(p *corev1.Pod) { p.Spec.EphemeralContainers = nil },
			want:   []string{`spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed` + "\n"},
		},
		{
			name: "changed",
			old: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
			},
			modify: func(p *corev1.Pod) { p.Spec.EphemeralContainers[0].Image = "busybox:1.36" },
			want:   []string{`spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed` + "\n"},
		},
		{
			name: "renamed",
			old: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
			},
			modify: func(p *corev1.Pod) { p.Spec.EphemeralContainers[0].Name = "other" },
			want:   []string{`spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed` + "\n"},
		},
		{
			name: "invalid new container",
			modify: func(p *corev1.Pod) {
				ec := validEphemeral("app")
				ec.Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}}
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{ec}
			},
			want: []string{
				`spec.ephemeralContainers[0].name: Duplicate value: "app"`,
				"spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
			},
		},
		{
			name: "static pod",
			old: func(p *corev1.Pod) {
				p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "hash"}
			},
			modify: func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
			},
			want: []string{"[]: Forbidden: static pods do not support ephemeral containers"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := &corev1.Pod{Spec: *validSpec()}
			old.Name, old.Namespace, old.ResourceVersion = "web", "default", "1"
			if tt.old != nil {
				tt.old(old)
			}
			pod := old.DeepCopy()
			tt.modify(pod)
			var got []string
			for _, e := range ValidatePodEphemeralContainersUpdate(pod, old) {
				msg := e.Error()
				// Keep the fixed part of the message, not the diff.
				if i := strings.Index(msg, "\n"); i >= 0 {
					msg = msg[:i+1]
				}
				got = append(got, msg)
			}
			sort.Strings(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidatePodUpdateEphemeralContainers: the pod itself may not change
// its ephemeral containers, as upstream refuses it.
func TestValidatePodUpdateEphemeralContainers(t *testing.T) {
	const forbidden = "spec: Forbidden: pod updates may not change fields other than "
	for _, tt := range []struct {
		name   string
		old    []corev1.EphemeralContainer
		modify func(*corev1.PodSpec)
	}{
		{name: "added", modify: func(s *corev1.PodSpec) {
			s.EphemeralContainers = []corev1.EphemeralContainer{validEphemeral("debugger")}
		}},
		{name: "removed", old: []corev1.EphemeralContainer{validEphemeral("debugger")}, modify: func(s *corev1.PodSpec) { s.EphemeralContainers = nil }},
		{name: "changed", old: []corev1.EphemeralContainer{validEphemeral("debugger")}, modify: func(s *corev1.PodSpec) { s.EphemeralContainers[0].Command = []string{"sh"} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old := &corev1.Pod{Spec: *validSpec()}
			old.Spec.EphemeralContainers = tt.old
			pod := old.DeepCopy()
			tt.modify(&pod.Spec)
			errs := ValidatePodUpdate(pod, old)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), forbidden) || !strings.Contains(errs[0].Error(), `"name": "debugger"`) {
				t.Errorf("errors %v, want one %q showing the ephemeral container in its diff", errs, forbidden)
			}
		})
	}
}
