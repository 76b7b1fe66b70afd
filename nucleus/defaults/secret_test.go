package defaults

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestSecretMergesStringData(t *testing.T) {
	s := &corev1.Secret{
		Data:       map[string][]byte{"user": []byte("old"), "keep": []byte("k")},
		StringData: map[string]string{"user": "new", "password": "p"},
	}
	Secret(s)
	want := &corev1.Secret{
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"user": []byte("new"), "keep": []byte("k"), "password": []byte("p")},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}

	only := &corev1.Secret{Type: corev1.SecretTypeTLS, StringData: map[string]string{"tls.crt": "c"}}
	Secret(only)
	if string(only.Data["tls.crt"]) != "c" || only.StringData != nil || only.Type != corev1.SecretTypeTLS {
		t.Errorf("stringData only: got %+v", only)
	}
}
