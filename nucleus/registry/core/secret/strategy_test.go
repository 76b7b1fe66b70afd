package secret

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/strata-dev/strata/nucleus/validation/validationtest"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		secret corev1.Secret
		want   []string
	}{
		{name: "opaque", secret: corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a.b_c-d": []byte("x")}}},
		{
			name:   "bad key",
			secret: corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a/b": nil}},
			want:   []string{"data[a/b]: Invalid value"},
		},
		{
			name:   "too large",
			secret: corev1.Secret{Data: map[string][]byte{"a": make([]byte, MaxSize), "b": []byte("x")}},
			want:   []string{"data: Too long"},
		},
		{
			name:   "token without service account",
			secret: corev1.Secret{Type: corev1.SecretTypeServiceAccountToken},
			want:   []string{"metadata.annotations[kubernetes.io/service-account.name]: Required value"},
		},
		{
			name: "token",
			secret: corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{corev1.ServiceAccountNameKey: "default"}},
				Type:       corev1.SecretTypeServiceAccountToken,
			},
		},
		{
			name:   "dockerconfigjson missing",
			secret: corev1.Secret{Type: corev1.SecretTypeDockerConfigJson},
			want:   []string{"data[.dockerconfigjson]: Required value"},
		},
		{
			name:   "dockerconfigjson not JSON",
			secret: corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte("{")}},
			want:   []string{"data[.dockerconfigjson]: Invalid value"},
		},
		{
			name:   "dockerconfigjson",
			secret: corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}},
		},
		{
			name:   "tls without key",
			secret: corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil}},
			want:   []string{"data[tls.key]: Required value"},
		},
		{
			name:   "basic-auth empty",
			secret: corev1.Secret{Type: corev1.SecretTypeBasicAuth},
			want:   []string{"data[password]: Required value", "data[username]: Required value"},
		},
		{name: "basic-auth username only", secret: corev1.Secret{Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"username": nil}}},
		{
			name:   "ssh-auth empty key",
			secret: corev1.Secret{Type: corev1.SecretTypeSSHAuth, Data: map[string][]byte{"ssh-privatekey": nil}},
			want:   []string{"data[ssh-privatekey]: Required value"},
		},
	}
	for _, tt := range tests {
		got := validationtest.Summary(Validate(&tt.secret))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestValidateUpdate(t *testing.T) {
	frozen := corev1.Secret{Type: corev1.SecretTypeOpaque, Immutable: ptr.To(true), Data: map[string][]byte{"a": []byte("1")}}
	tests := []struct {
		name     string
		old, new corev1.Secret
		want     []string
	}{
		{name: "type changed", old: corev1.Secret{Type: corev1.SecretTypeOpaque}, new: corev1.Secret{Type: corev1.SecretTypeTLS}, want: []string{"type: Invalid value"}},
		{name: "mutable data changed", old: corev1.Secret{Data: map[string][]byte{"a": nil}}, new: corev1.Secret{Data: map[string][]byte{"b": nil}}},
		{name: "immutable unchanged", old: frozen, new: *frozen.DeepCopy()},
		{
			name: "immutable data changed",
			old:  frozen,
			new:  corev1.Secret{Type: corev1.SecretTypeOpaque, Immutable: ptr.To(true), Data: map[string][]byte{"a": []byte("2")}},
			want: []string{"data: Forbidden"},
		},
		{
			name: "immutable unset",
			old:  frozen,
			new:  corev1.Secret{Type: corev1.SecretTypeOpaque, Data: frozen.Data},
			want: []string{"immutable: Forbidden"},
		},
	}
	for _, tt := range tests {
		got := validationtest.Summary(ValidateUpdate(&tt.new, &tt.old))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, diff)
		}
	}
}

func TestWarnings(t *testing.T) {
	bad := &corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("x"), "tls.key": []byte("y")}}
	if w := warnings(bad); len(w) != 1 || !strings.Contains(w[0], "PEM") {
		t.Errorf("unparsable TLS pair: got warnings %q", w)
	}
	if w := warnings(&corev1.Secret{Type: corev1.SecretTypeOpaque}); w != nil {
		t.Errorf("opaque secret: got warnings %q", w)
	}
}

func TestRowAndFields(t *testing.T) {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds"},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"username": nil, "password": nil},
	}
	want := []interface{}{"creds", "kubernetes.io/basic-auth", int64(2), "<unknown>"}
	if diff := cmp.Diff(want, Definition.Row(s)); diff != "" {
		t.Errorf("row (-want +got)\n%s", diff)
	}
	if got := Definition.Fields(s)["type"]; got != "kubernetes.io/basic-auth" {
		t.Errorf("type field: got %q", got)
	}
}
