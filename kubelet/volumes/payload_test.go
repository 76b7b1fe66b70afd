package volumes

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// files summarizes a payload as path → "mode data".
func files(payload map[string]FileProjection) map[string]string {
	out := map[string]string{}
	for p, f := range payload {
		out[p] = formatFile(f)
	}
	return out
}

func formatFile(f FileProjection) string {
	return fmt.Sprintf("%04o %s", f.Mode, f.Data)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestConfigMapPayload(t *testing.T) {
	cm := &corev1.ConfigMap{
		Data:       map[string]string{"a": "1", "b": "2"},
		BinaryData: map[string][]byte{"bin": {'x'}},
	}
	tests := []struct {
		name     string
		items    []corev1.KeyToPath
		mode     int32
		optional bool
		want     map[string]string
		wantErr  string
	}{
		{
			name: "every key with the default mode",
			mode: 0o644,
			want: map[string]string{"a": "0644 1", "b": "0644 2", "bin": "0644 x"},
		},
		{
			name: "every key with a defaultMode",
			mode: 0o400,
			want: map[string]string{"a": "0400 1", "b": "0400 2", "bin": "0400 x"},
		},
		{
			name:  "items at their paths, an item's mode wins",
			mode:  0o644,
			items: []corev1.KeyToPath{{Key: "a", Path: "dir/a.txt", Mode: ptr.To[int32](0o600)}, {Key: "bin", Path: "b"}},
			want:  map[string]string{"dir/a.txt": "0600 1", "b": "0644 x"},
		},
		{
			name:    "a missing key is an error",
			mode:    0o644,
			items:   []corev1.KeyToPath{{Key: "a", Path: "a"}, {Key: "missing", Path: "m"}},
			wantErr: "configmap references non-existent config key: missing",
		},
		{
			name:     "unless the volume is optional",
			mode:     0o644,
			optional: true,
			items:    []corev1.KeyToPath{{Key: "a", Path: "a"}, {Key: "missing", Path: "m"}},
			want:     map[string]string{"a": "0644 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configMapPayload(tt.items, cm, tt.mode, tt.optional)
			if d := cmp.Diff(tt.wantErr, errString(err)); d != "" {
				t.Fatalf("error (-want +got):\n%s", d)
			}
			if err == nil {
				if d := cmp.Diff(tt.want, files(got)); d != "" {
					t.Errorf("payload (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestSecretPayload(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"user": []byte("admin"), "pass": []byte("hunter2")}}
	got, err := secretPayload(nil, s, 0o440, false)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"user": "0440 admin", "pass": "0440 hunter2"}, files(got)); d != "" {
		t.Errorf("all keys (-want +got):\n%s", d)
	}
	got, err = secretPayload([]corev1.KeyToPath{{Key: "pass", Path: "p", Mode: ptr.To[int32](0o400)}}, s, 0o644, false)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"p": "0400 hunter2"}, files(got)); d != "" {
		t.Errorf("items (-want +got):\n%s", d)
	}
	_, err = secretPayload([]corev1.KeyToPath{{Key: "token", Path: "t"}}, s, 0o644, false)
	if d := cmp.Diff("references non-existent secret key: token", errString(err)); d != "" {
		t.Errorf("missing key (-want +got):\n%s", d)
	}
}

func TestDownwardAPIPayload(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", UID: "uid-web",
			Labels:      map[string]string{"app": "web", "tier": "front\"end"},
			Annotations: map[string]string{"builder": "bob"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
			},
		}}},
	}
	allocatable := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")}
	field := func(path, fieldPath string) corev1.DownwardAPIVolumeFile {
		return corev1.DownwardAPIVolumeFile{Path: path, FieldRef: &corev1.ObjectFieldSelector{FieldPath: fieldPath}}
	}
	res := func(path, name, divisor string) corev1.DownwardAPIVolumeFile {
		f := corev1.DownwardAPIVolumeFile{Path: path, ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: name}}
		if divisor != "" {
			f.ResourceFieldRef.Divisor = resource.MustParse(divisor)
		}
		return f
	}
	items := []corev1.DownwardAPIVolumeFile{
		field("labels", "metadata.labels"),
		field("annotations", "metadata.annotations"),
		field("app", "metadata.labels['app']"),
		field("builder", "metadata.annotations['builder']"),
		field("name", "metadata.name"),
		field("ns/namespace", "metadata.namespace"),
		field("./uid", "metadata.uid"),
		res("cpu_request", "requests.cpu", "1m"),
		res("cpu_request_cores", "requests.cpu", ""),
		res("cpu_limit", "limits.cpu", ""),
		res("mem_limit", "limits.memory", "1Mi"),
		res("mem_request", "requests.memory", ""),
		res("storage_request", "requests.ephemeral-storage", ""),
		{Path: "mode", Mode: ptr.To[int32](0o400), FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
	}
	got, err := downwardAPIPayload(items, pod, 0o644, allocatable)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{
		"labels":            "0644 app=\"web\"\ntier=\"front\\\"end\"",
		"annotations":       "0644 builder=\"bob\"",
		"app":               "0644 web",
		"builder":           "0644 bob",
		"name":              "0644 web",
		"ns/namespace":      "0644 default",
		"uid":               "0644 uid-web",
		"cpu_request":       "0644 250",
		"cpu_request_cores": "0644 1",
		"cpu_limit":         "0644 4",
		"mem_limit":         "0644 128",
		"mem_request":       "0644 67108864",
		"storage_request":   "0644 0",
		"mode":              "0400 web",
	}, files(got)); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}

	_, err = downwardAPIPayload([]corev1.DownwardAPIVolumeFile{field("ip", "status.podIP"), res("x", "limits.gpu", "")}, pod, 0o644, nil)
	if d := cmp.Diff("[unsupported fieldPath: status.podIP, unsupported container resource : limits.gpu]", errString(err)); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
}
