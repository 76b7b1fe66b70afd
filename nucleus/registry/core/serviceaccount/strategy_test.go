package serviceaccount

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPrepareForCreateCleansSecretReferences(t *testing.T) {
	sa := &corev1.ServiceAccount{Secrets: []corev1.ObjectReference{{Name: "token", Namespace: "other", Kind: "Secret", UID: "u"}}}
	Definition.PrepareForCreate(context.Background(), sa)
	if diff := cmp.Diff([]corev1.ObjectReference{{Name: "token"}}, sa.Secrets); diff != "" {
		t.Errorf("secrets (-want +got)\n%s", diff)
	}
}

func TestRow(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder"}, Secrets: []corev1.ObjectReference{{Name: "a"}, {Name: "b"}}}
	if diff := cmp.Diff([]interface{}{"builder", int64(2), "<unknown>"}, Definition.Row(sa)); diff != "" {
		t.Errorf("row (-want +got)\n%s", diff)
	}
}
