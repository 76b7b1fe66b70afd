package pods

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B": "b$(A)", "EMPTY": ""}
	lookup := func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"$(A)", "a"},
		{"x$(A)y$(A)z", "xayaz"},
		{"$(B)", "b$(A)"}, // values are not expanded again
		{"$(EMPTY)", ""},
		{"$(MISSING)", "$(MISSING)"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$a"},
		{"$$", "$"},
		{"$", "$"},
		{"a$", "a$"},
		{"$(A", "$(A"},
		{"$A", "$A"},
		{"$()", "$()"},
	}
	for _, tt := range tests {
		if got := Expand(tt.in, lookup); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEnvironment(t *testing.T) {
	pod := makePod("web").Containers("app", "other").
		Resources("app", "cpu=250m,memory=64Mi", "memory=128Mi").
		Resources("other", "cpu=2", "cpu=3").Obj()
	pod.Labels = map[string]string{"tier": "front"}
	pod.Annotations = map[string]string{"note": "hi"}
	pod.Spec.ServiceAccountName = "builder"

	env := &Environment{
		NodeName:        "node-1",
		HostIPs:         []string{"192.168.1.10", "fd00::10"},
		NodeAllocatable: resourceList("cpu=4,memory=8Gi"),
		Objects: objects{
			configMaps: map[string]*corev1.ConfigMap{"settings": {Data: map[string]string{"color": "blue", "size": "L"}}},
			secrets:    map[string]*corev1.Secret{"creds": {Data: map[string][]byte{"user": []byte("admin"), "pass": []byte("s3cret")}}},
		},
		ServiceEnv: func(ctx context.Context, pod *corev1.Pod) (map[string]string, error) {
			return map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, nil
		},
	}
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	res := func(name, container string, divisor string) *corev1.EnvVarSource {
		s := &corev1.ResourceFieldSelector{Resource: name, ContainerName: container}
		if divisor != "" {
			s.Divisor = resource.MustParse(divisor)
		}
		return &corev1.EnvVarSource{ResourceFieldRef: s}
	}
	c := &pod.Spec.Containers[0]
	c.EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}, Prefix: "CFG_"},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr.To(true)}},
	}
	c.Env = []corev1.EnvVar{
		{Name: "NAME", ValueFrom: field("metadata.name")},
		{Name: "NAMESPACE", ValueFrom: field("metadata.namespace")},
		{Name: "UID", ValueFrom: field("metadata.uid")},
		{Name: "TIER", ValueFrom: field("metadata.labels['tier']")},
		{Name: "NOTE", ValueFrom: field("metadata.annotations['note']")},
		{Name: "NODE", ValueFrom: field("spec.nodeName")},
		{Name: "SA", ValueFrom: field("spec.serviceAccountName")},
		{Name: "HOST_IP", ValueFrom: field("status.hostIP")},
		{Name: "HOST_IPS", ValueFrom: field("status.hostIPs")},
		{Name: "POD_IP", ValueFrom: field("status.podIP")},
		{Name: "POD_IPS", ValueFrom: field("status.podIPs")},
		{Name: "CPU_REQUEST", ValueFrom: res("requests.cpu", "", "1m")},
		{Name: "CPU_LIMIT", ValueFrom: res("limits.cpu", "", "")},
		{Name: "MEM_LIMIT_MI", ValueFrom: res("limits.memory", "", "1Mi")},
		{Name: "OTHER_CPU_LIMIT", ValueFrom: res("limits.cpu", "other", "")},
		{Name: "USER", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "user"}}},
		{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "color"}}},
		{Name: "OPTIONAL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "nope", Optional: ptr.To(true)}}},
		{Name: "CFG_SIZE", Value: "XL"},
		{Name: "URL", Value: "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/$(NAME)"},
	}
	got, err := env.Env(context.Background(), pod, c, []string{"10.88.0.2", "fd00:88::2"})
	if err != nil {
		t.Fatal(err)
	}
	want := []EnvVar{
		{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
		{"KUBERNETES_SERVICE_PORT", "443"},
		{"CFG_color", "blue"},
		{"CFG_size", "L"},
		{"NAME", "web"},
		{"NAMESPACE", "default"},
		{"UID", "uid-web"},
		{"TIER", "front"},
		{"NOTE", "hi"},
		{"NODE", "node-1"},
		{"SA", "builder"},
		{"HOST_IP", "192.168.1.10"},
		{"HOST_IPS", "192.168.1.10,fd00::10"},
		{"POD_IP", "10.88.0.2"},
		{"POD_IPS", "10.88.0.2,fd00:88::2"},
		{"CPU_REQUEST", "250"},
		{"CPU_LIMIT", "4"},
		{"MEM_LIMIT_MI", "128"},
		{"OTHER_CPU_LIMIT", "3"},
		{"USER", "admin"},
		{"COLOR", "blue"},
		{"CFG_SIZE", "XL"},
		{"URL", "https://10.96.0.1:443/web"},
	}
	diff(t, "environment", want, got)
}

func TestEnvironmentErrors(t *testing.T) {
	objs := objects{configMaps: map[string]*corev1.ConfigMap{"settings": {Data: map[string]string{"a": "1"}}}}
	tests := []struct {
		name string
		env  *Environment
		c    corev1.Container
		want string
	}{{
		name: "missing ConfigMap",
		env:  &Environment{Objects: objs},
		c: corev1.Container{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}}}}},
		want: `configmap "absent" not found`,
	}, {
		name: "missing key",
		env:  &Environment{Objects: objs},
		c: corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "k"}}}}},
		want: `secret "creds" not found`,
	}, {
		name: "no way to read objects",
		env:  &Environment{},
		c: corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "a"}}}}},
		want: "couldn't get configMap default/settings, no kubeClient defined",
	}, {
		name: "unsupported field",
		env:  &Environment{},
		c:    corev1.Container{Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.priority"}}}}},
		want: "unsupported fieldPath: spec.priority",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := makePod("web").Obj()
			_, err := tt.env.Env(context.Background(), pod, &tt.c, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestExpandCommand(t *testing.T) {
	c := &corev1.Container{Command: []string{"echo", "$(A)"}, Args: []string{"$(B)", "$$(A)"}}
	command, args := expandCommand(c, []EnvVar{{"A", "1"}, {"B", "2"}})
	diff(t, "command", []string{"echo", "1"}, command)
	diff(t, "args", []string{"2", "$(A)"}, args)
}
