package volumes

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/kubelet/pods"
)

func TestTranslatePropagation(t *testing.T) {
	tests := []struct {
		mode    *corev1.MountPropagationMode
		want    runtimeapi.MountPropagation
		wantErr string
	}{
		{mode: nil, want: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{mode: ptr.To(corev1.MountPropagationNone), want: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
		{mode: ptr.To(corev1.MountPropagationHostToContainer), want: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
		{mode: ptr.To(corev1.MountPropagationBidirectional), want: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL},
		{mode: ptr.To(corev1.MountPropagationMode("Sideways")), wantErr: `invalid MountPropagation mode: "Sideways"`},
	}
	for _, tt := range tests {
		got, err := translatePropagation(tt.mode)
		if d := cmp.Diff(tt.wantErr, errString(err)); d != "" {
			t.Errorf("%v: error (-want +got):\n%s", tt.mode, d)
		}
		if got != tt.want {
			t.Errorf("%v: got %v, want %v", tt.mode, got, tt.want)
		}
	}
}

func TestExpandSubPathExpr(t *testing.T) {
	env := []pods.EnvVar{{Name: "POD_NAME", Value: "web-0"}, {Name: "EMPTY", Value: ""}}
	tests := []struct {
		expr, want, wantErr string
	}{
		{expr: "logs/$(POD_NAME)", want: "logs/web-0"},
		{expr: "$$(POD_NAME)", want: "$(POD_NAME)"},
		{expr: "plain", want: "plain"},
		{expr: "$(NOPE)/$(EMPTY)/$(POD_NAME)", wantErr: "missing value for EMPTY, NOPE"},
	}
	for _, tt := range tests {
		got, err := expandSubPathExpr(tt.expr, env)
		if d := cmp.Diff(tt.wantErr, errString(err)); d != "" {
			t.Errorf("%s: error (-want +got):\n%s", tt.expr, d)
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestPrepareSubPath(t *testing.T) {
	vol := t.TempDir()
	outside := t.TempDir()
	if err := os.Chmod(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(vol, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(vol, "inside")); err != nil {
		t.Fatal(err)
	}
	const prepareErr = `failed to prepare subPath for volumeMount "data" of container "app"`
	tests := []struct {
		name, subPath, want, wantErr string
	}{
		{name: "a file", subPath: "file", want: filepath.Join(vol, "file")},
		{name: "a symlink inside is resolved", subPath: "inside", want: filepath.Join(vol, "file")},
		{name: "a missing directory is created", subPath: "a/b", want: filepath.Join(vol, "a", "b")},
		{name: "a symlink out of the volume", subPath: "escape", wantErr: prepareErr},
		{name: "creating through a symlink out of the volume", subPath: "escape/new", wantErr: `failed to create subPath directory for volumeMount "data" of container "app"`},
		{name: "absolute", subPath: "/etc", wantErr: "error SubPath `/etc` must not be an absolute path"},
		{name: "backsteps", subPath: "a/../../etc", wantErr: "unable to provision SubPath `a/../../etc`: must not contain '..'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := prepareSubPath(vol, tt.subPath, "app", "data")
			if d := cmp.Diff(tt.wantErr, errString(err)); d != "" {
				t.Fatalf("error (-want +got):\n%s", d)
			}
			want, _ := filepath.EvalSymlinks(filepath.Dir(tt.want))
			if tt.want != "" && got != filepath.Join(want, filepath.Base(tt.want)) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if info, err := os.Stat(filepath.Join(vol, "a", "b")); err != nil || info.Mode().Perm() != 0o777 {
		t.Errorf("created subPath: %v, %v; want mode 0777 like the volume", info, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !os.IsNotExist(err) {
		t.Errorf("a directory was created outside of the volume: %v", err)
	}
}
