package validation

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// validSpec returns a pod spec that passes validation, with the defaults
// the decoder applies.
func validSpec() *corev1.PodSpec {
	return &corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyAlways,
		DNSPolicy:     corev1.DNSClusterFirst,
		Volumes:       []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Containers:    []corev1.Container{validContainer("app")},
	}
}

func validContainer(name string) corev1.Container {
	return corev1.Container{
		Name:                     name,
		Image:                    "nginx:1.27",
		ImagePullPolicy:          corev1.PullIfNotPresent,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
}

// errorStrings returns the sorted error strings of errs.
func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	sort.Strings(out)
	return out
}

func TestValidatePodSpec(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.PodSpec)
		want   []string
	}{
		{name: "valid", modify: func(*corev1.PodSpec) {}},
		{
			name:   "no containers",
			modify: func(s *corev1.PodSpec) { s.Containers = nil },
			want:   []string{"spec.containers: Required value"},
		},
		{
			name:   "missing image",
			modify: func(s *corev1.PodSpec) { s.Containers[0].Image = "" },
			want:   []string{"spec.containers[0].image: Required value"},
		},
		{
			name:   "image with whitespace",
			modify: func(s *corev1.PodSpec) { s.Containers[0].Image = " nginx" },
			want:   []string{`spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace`},
		},
		{
			name:   "bad restart policy",
			modify: func(s *corev1.PodSpec) { s.RestartPolicy = "Sometimes" },
			want:   []string{`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"`},
		},
		{
			name:   "bad dns policy",
			modify: func(s *corev1.PodSpec) { s.DNSPolicy = "Google" },
			want:   []string{`spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"`},
		},
		{
			name:   "dns policy None without config",
			modify: func(s *corev1.PodSpec) { s.DNSPolicy = corev1.DNSNone },
			want:   []string{"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"},
		},
		{
			name:   "container name not a DNS label",
			modify: func(s *corev1.PodSpec) { s.Containers[0].Name = "App_1" },
			want:   []string{`spec.containers[0].name: Invalid value: "App_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
		},
		{
			name: "container name shared by init and app container",
			modify: func(s *corev1.PodSpec) {
				s.InitContainers = []corev1.Container{validContainer("app")}
			},
			want: []string{`spec.containers[0].name: Duplicate value: "app"`},
		},
		{
			name: "ports",
			modify: func(s *corev1.PodSpec) {
				s.Containers[0].Ports = []corev1.ContainerPort{
					{Name: "http", ContainerPort: 80, Protocol: corev1.ProtocolTCP},
					{Name: "http", ContainerPort: 70000, Protocol: "ICMP"},
					{Name: "Not_A_Name", Protocol: corev1.ProtocolUDP},
				}
			},
			want: []string{
				`spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive`,
				`spec.containers[0].ports[1].name: Duplicate value: "http"`,
				`spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`,
				`spec.containers[0].ports[2].containerPort: Required value`,
				`spec.containers[0].ports[2].name: Invalid value: "Not_A_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
			},
		},
		{
			name: "host port must match container port on the host network",
			modify: func(s *corev1.PodSpec) {
				s.HostNetwork = true
				s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: corev1.ProtocolTCP}}
			},
			want: []string{"spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"},
		},
		{
			name: "env",
			modify: func(s *corev1.PodSpec) {
				s.Containers[0].Env = []corev1.EnvVar{
					{Name: ""},
					{Name: "A=B"},
					{Name: "OK", Value: "x", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				}
			},
			want: []string{
				"spec.containers[0].env[0].name: Required value",
				`spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
				"spec.containers[0].env[2].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
			},
		},
		{
			name: "volume mounts",
			modify: func(s *corev1.PodSpec) {
				s.Containers[0].VolumeMounts = []corev1.VolumeMount{
					{Name: "data", MountPath: "/data"},
					{Name: "missing", MountPath: "/data", SubPath: "../up"},
				}
			},
			want: []string{
				`spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique`,
				`spec.containers[0].volumeMounts[1].name: Not found: "missing"`,
				`spec.containers[0].volumeMounts[1].subPath: Invalid value: "../up": must not contain '..'`,
			},
		},
		{
			name: "volumes",
			modify: func(s *corev1.PodSpec) {
				s.Volumes = append(s.Volumes,
					corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					corev1.Volume{Name: "none"},
					corev1.Volume{Name: "two", VolumeSource: corev1.VolumeSource{
						EmptyDir: &corev1.EmptyDirVolumeSource{},
						HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"},
					}},
				)
			},
			want: []string{
				`spec.volumes[1].name: Duplicate value: "data"`,
				"spec.volumes[2]: Required value: must specify a volume type",
				"spec.volumes[3].emptyDir: Forbidden: may not specify more than 1 volume type",
			},
		},
		{
			name: "requests above limits",
			modify: func(s *corev1.PodSpec) {
				s.Containers[0].Resources = corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("-1")},
				}
			},
			want: []string{
				`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`,
				`spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0`,
			},
		},
		{
			name: "probe without handler and with two",
			modify: func(s *corev1.PodSpec) {
				s.Containers[0].LivenessProbe = &corev1.Probe{SuccessThreshold: 1}
				s.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					Exec:      &corev1.ExecAction{Command: []string{"true"}},
					TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)},
				}}
			},
			want: []string{
				"spec.containers[0].livenessProbe: Required value: must specify a handler type",
				"spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
			},
		},
		{
			name: "liveness probe must succeed once",
			modify: func(s *corev1.PodSpec) {
				s.Containers[0].LivenessProbe = &corev1.Probe{
					ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
					SuccessThreshold: 2,
				}
			},
			want: []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"},
		},
		{
			name: "plain init container with a probe",
			modify: func(s *corev1.PodSpec) {
				c := validContainer("init")
				c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
				s.InitContainers = []corev1.Container{c}
			},
			want: []string{"spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"},
		},
		{
			name: "sidecar with a probe",
			modify: func(s *corev1.PodSpec) {
				c := validContainer("sidecar")
				c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
				c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
				s.InitContainers = []corev1.Container{c}
			},
		},
		{
			name:   "node name",
			modify: func(s *corev1.PodSpec) { s.NodeName = "Node_1" },
			want:   []string{`spec.nodeName: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
		},
		{
			name:   "active deadline",
			modify: func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr.To[int64](0) },
			want:   []string{"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"},
		},
		{
			name: "tolerations",
			modify: func(s *corev1.PodSpec) {
				s.Tolerations = []corev1.Toleration{
					{Operator: corev1.TolerationOpEqual, Value: "x"},
					{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptr.To[int64](5)},
					{Key: "k", Operator: "Maybe", Effect: "Never"},
				}
			},
			want: []string{
				"spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
				"spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
				`spec.tolerations[2].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"`,
				`spec.tolerations[2].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec()
			tt.modify(spec)
			got := errorStrings(ValidatePodSpec(spec, field.NewPath("spec")))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{Spec: *validSpec()}
	tmpl.Labels = map[string]string{"app": "web", "bad key": "x"}
	tmpl.Spec.Containers[0].Image = ""
	got := errorStrings(ValidatePodTemplateSpec(tmpl, field.NewPath("template")))
	want := []string{
		`template.metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
		"template.spec.containers[0].image: Required value",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestPodSpecWarnings(t *testing.T) {
	spec := validSpec()
	spec.TerminationGracePeriodSeconds = ptr.To[int64](-5)
	want := []string{"spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1"}
	if diff := cmp.Diff(want, PodSpecWarnings(spec, field.NewPath("spec"))); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestValidateTaints(t *testing.T) {
	taints := []corev1.Taint{
		{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "other", Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Effect: corev1.TaintEffectNoExecute},
		{Key: "x", Effect: ""},
	}
	got := errorStrings(ValidateTaints(taints, field.NewPath("spec", "taints")))
	want := []string{
		`spec.taints[1]: Duplicate value: {"key":"dedicated","value":"other","effect":"NoSchedule"}: taints must be unique by key and effect pair`,
		"spec.taints[3].effect: Required value",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
